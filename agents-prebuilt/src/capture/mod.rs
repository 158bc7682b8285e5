//! The capture flow every value-collecting task shares: validate → read back → confirm → typed
//! result, or decline.
//!
//! A task implements [`Capture`] with only what is specific to its value: its tool names, how
//! the value is said and checked, and how it is read back. [`capture_tools!`] stamps the task's
//! `#[function_tools]` block from that (`instructions`, `on_enter`, the update, confirm and
//! decline tools, all calling the generic functions below), and [`option_builders!`] its
//! `require_confirmation` and `extra_instructions` builders. Macros do the stamping because
//! `#[function_tools]` derives one JSON schema per concrete method and does not take generic
//! impl blocks.
//!
//! The flow: the update tool checks the value (an invalid one goes back to the LLM as a tool
//! error saying why); with confirmation on ([`CaptureOptions::confirm`]) the value waits in a
//! [`PendingValue`] and the tool output asks the LLM to read it back; the confirm tool completes
//! the task only with the value recorded last, once the user has answered; the decline tool ends
//! it with [`CaptureDeclined`].

mod macros;

pub(crate) use macros::{capture_tools, option_builders};

use crate::confirm::{CaptureDeclined, CaptureOptions, Labels, PendingValue};
use crate::instructions::{self, Spec, Tools};
use agents_core::prelude::*;
use std::borrow::Cow;

/// What every capture task holds: its options and the value waiting for confirmation.
#[derive(Debug, Clone)]
pub(crate) struct CaptureState<V> {
    /// Confirmation setting and the application's extra instructions.
    pub(crate) options: CaptureOptions,
    /// The value read back and not confirmed yet.
    pub(crate) pending: PendingValue<V>,
}

impl<V> Default for CaptureState<V> {
    fn default() -> Self {
        Self::with_options(CaptureOptions::default())
    }
}

impl<V> CaptureState<V> {
    /// A state with `options` and nothing recorded: for steps sharing their parent's options.
    pub(crate) fn with_options(options: CaptureOptions) -> Self {
        CaptureState {
            options,
            pending: PendingValue::default(),
        }
    }
}

/// Access to a task's [`CaptureState`]; implemented by
/// [`capture_tools!`] for the task's `capture` field.
pub(crate) trait HoldsCapture {
    /// The checked value, which is also the task's result.
    type Value: Clone + PartialEq + Send + 'static;

    /// The task's capture state.
    fn state(&self) -> &CaptureState<Self::Value>;

    /// The task's capture state, to record a value.
    fn state_mut(&mut self) -> &mut CaptureState<Self::Value>;
}

/// What is specific to one kind of captured value; the flow around it is shared.
pub(crate) trait Capture: HoldsCapture {
    /// What is collected, in the confirm errors and the read-back, e.g. `"email address"`.
    const WHAT: &'static str;
    /// The tool that records a value.
    const UPDATE: &'static str;
    /// The tool that confirms the recorded value.
    const CONFIRM: &'static str;
    /// The tool that ends the task without a value.
    const DECLINE: &'static str;
    /// What [`CaptureDeclined::what`] names: [`WHAT`](Self::WHAT), except for steps of a larger
    /// capture (a card's expiry date declines the card).
    const DECLINED: &'static str = Self::WHAT;
    /// How this kind of value is said aloud, and how to write it down.
    const SPOKEN_FORMS: &'static str;

    /// What the instructions say is collected; [`WHAT`](Self::WHAT) unless it depends on the
    /// options ("first and last name").
    fn subject(&self) -> Cow<'_, str> {
        Cow::Borrowed(Self::WHAT)
    }

    /// Rules particular to this value, for the instructions.
    fn rules(&self) -> Cow<'_, str>;

    /// What `on_enter` asks the LLM to say.
    fn ask(&self) -> Cow<'_, str> {
        Cow::Owned(format!("Ask the user to provide their {}.", self.subject()))
    }

    /// The update tool's output when `value` must be confirmed: how to read it back (usually
    /// through [`read_back`]).
    fn read_back(&self, value: &Self::Value) -> String;

    /// The update tool's output when `value` completes the task at once.
    fn recorded(&self, value: &Self::Value) -> String;

    /// `value` as named in a confirm error (it may be masked).
    fn describe(value: &Self::Value) -> String;

    /// Whether a confirmed value is the recorded one; equality unless the spelling varies in
    /// ways the user cannot hear, such as letter case.
    fn same(a: &Self::Value, b: &Self::Value) -> bool {
        a == b
    }
}

/// The task's instructions: the shared template filled with the task's specifics.
pub(crate) fn instructions<C: Capture>(task: &C) -> String {
    instructions::capture(&Spec {
        what: &task.subject(),
        update_tool: C::UPDATE,
        decline_tool: C::DECLINE,
        spoken_forms: C::SPOKEN_FORMS,
        rules: &task.rules(),
        extra: &task.state().options.extra_instructions,
    })
}

/// The usual read-back output: say the value `read` (e.g. `as "14 March 1985"`), then call the
/// confirm tool with `confirm_with`.
pub(crate) fn read_back<C: Capture>(read: &str, confirm_with: &str) -> String {
    instructions::read_back(
        C::WHAT,
        read,
        confirm_with,
        &Tools {
            update: C::UPDATE,
            confirm: C::CONFIRM,
        },
    )
}

/// Records a checked value: completes the task at once, or keeps the value for confirmation
/// and returns the read-back instructions.
pub(crate) fn record<C: Capture>(
    task: &mut C,
    ctx: &mut TaskContext<'_, C::Value>,
    value: C::Value,
) -> String {
    if task.state().options.confirm(ctx.input_modality()) {
        let output = task.read_back(&value);
        task.state_mut().pending.record(value, ctx.chat_ctx());
        return output;
    }
    let output = task.recorded(&value);
    ctx.complete(value);
    output
}

/// Completes the task with the recorded value if `claimed` is it and the user has answered
/// since it was read back; otherwise a tool error saying what to do.
pub(crate) fn confirm<C: Capture>(
    task: &C,
    ctx: &mut TaskContext<'_, C::Value>,
    claimed: C::Value,
) -> Result<String, ToolError> {
    let pending = &task.state().pending;
    let claimed = pending.canonical(claimed, C::same);
    let labels = Labels {
        what: C::WHAT,
        update_tool: C::UPDATE,
        confirm_tool: C::CONFIRM,
    };
    let value = pending.confirm(&claimed, ctx.chat_ctx(), &labels, C::describe)?;
    ctx.complete(value);
    Ok(format!("The {} is confirmed.", C::WHAT))
}

/// Ends a task with [`CaptureDeclined`] naming `what`.
pub(crate) fn decline<R: Send + 'static>(
    ctx: &mut TaskContext<'_, R>,
    what: &'static str,
    reason: String,
) -> String {
    ctx.fail(Error::task(CaptureDeclined { what, reason }));
    let mut chars = what.chars();
    let what: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    format!("{what} capture declined.")
}
