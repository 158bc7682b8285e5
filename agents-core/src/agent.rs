//! Agents and tasks: the traits the macros implement.
//!
//! `#[agent]` / `#[agent_task(result = T)]` on a struct implement [`ActivityInfo`] and the marker
//! ([`Agent`] or [`AgentTask`]); `#[function_tools]` on its `impl` block implements [`Activity`]:
//! the tool table, the dispatch and the hooks. Both can be written by hand too.

use crate::context::Context;
use crate::llm::FunctionCall;
use crate::tools::{ToolDefinition, ToolOutput};
use futures::future::BoxFuture;
use serde::Serialize;
use std::sync::Arc;

/// What a task can complete with: cloned into the turn's `final_output` and serialised into
/// transcripts, so it must be `Clone + Serialize`.
pub trait TaskResult: Clone + Serialize + Send + Sync + 'static {}
impl<T: Clone + Serialize + Send + Sync + 'static> TaskResult for T {}

/// The "result" of a plain agent: none. Agents do not complete; they hand off or end the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum NoResult {}

/// Declares the methods an activity has by default, with their defaults: once for [`Activity`]
/// (hand-written impls) and once for the trait `#[function_tools]` implements, so the two agree.
/// Each use gives the docs; `instructions; is_sensitive;` or hooks as `fn name(args);`.
macro_rules! activity_defaults {
    (
        $(#[$instructions:meta])* instructions;
        $(#[$sensitive:meta])* is_sensitive;
    ) => {
        $(#[$instructions])*
        fn instructions(&self) -> String {
            Self::INSTRUCTIONS.to_string()
        }

        $(#[$sensitive])*
        fn is_sensitive(&self) -> bool {
            Self::SENSITIVE
        }
    };
    ($($(#[$doc:meta])* fn $hook:ident($($arg:ident: &$ty:ty),*);)*) => {
        $(
            $(#[$doc])*
            fn $hook<'a>(
                &'a mut self,
                ctx: &'a mut $crate::context::Context<'_, Self::Result>,
                $($arg: &'a $ty,)*
            ) -> ::futures::future::BoxFuture<'a, $crate::Result<()>> {
                let _ = ctx;
                $(let _ = $arg;)*
                Box::pin(async { Ok(()) })
            }
        )*
    };
}
pub(crate) use activity_defaults;

/// Static facts about an agent or task, from the struct-level attribute.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an agent or task",
    label = "mark the struct with `#[agent_task(result = T)]` or `#[agent]`"
)]
pub trait ActivityInfo: Send + 'static {
    /// The type `complete` takes and awaiting the task yields; [`NoResult`] for agents.
    type Result: TaskResult;
    /// Identifier used in handoff records and transcripts (the type name in snake_case).
    const ID: &'static str;
    /// Default instructions (the struct's rustdoc, or `instructions = "..."`).
    const INSTRUCTIONS: &'static str;
    /// Whether what is said while this activity is in control is kept out of logs: the
    /// `sensitive` flag of `#[agent_task]` / `#[agent]`. See [`Activity::is_sensitive`].
    const SENSITIVE: bool = false;
    /// Whether the task's tool calls and outputs merge back into its caller's history with the
    /// rest of its conversation: the `preserve_function_calls` flag of `#[agent_task]`. The
    /// caller can also ask for it with `.preserve_function_calls()` on `ctx.run_task(..)`.
    const PRESERVE_FUNCTION_CALLS: bool = false;
}

/// Behaviour of an agent or task: instructions, tools and hooks.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an agent or task: it is not an `Activity`",
    label = "mark the struct with `#[agent_task(result = T)]` or `#[agent]`",
    note = "a generic agent or task also needs a `#[function_tools]` block for each concrete type it is used as"
)]
pub trait Activity: ActivityInfo {
    activity_defaults! {
        /// Instructions for the LLM while this activity is in control.
        instructions;
        /// Whether this activity handles data that must not reach logs (card numbers, PINs, ...).
        ///
        /// While a sensitive activity is in control, or any task it runs, every session event
        /// carrying conversation content (messages, speech, tool calls and outputs, keypad digits,
        /// errors, and the task's own `TaskCompleted` result) is marked sensitive: its fields hold
        /// the real content for code that acts on it (a console, text-to-speech), but serialising
        /// it (as transcripts do) or formatting it with `{:?}` shows `"[redacted]"`, and the
        /// session's own logs leave error messages out. Where a sensitive result may travel on, the
        /// event carrying it is marked too: the output of the tool that ran the task, and the
        /// `TaskCompleted` of a task (such as a task group) that ran it.
        ///
        /// A sensitive task's conversation is not merged into its parent's history, and a sensitive
        /// agent's history does not follow a handoff to an agent that is not, so it is sent to the
        /// LLM only while the sensitive activity runs. The typed result reaches code in full, and
        /// so do a turn's `RunResult` events (they are for tests and the caller's own code); what
        /// code does with them is up to it (a tool that returns the result hands it to the LLM).
        ///
        /// Defaults to [`ActivityInfo::SENSITIVE`]; define `fn is_sensitive(&self) -> bool` in the
        /// `#[function_tools]` block to decide per instance.
        is_sensitive;
    }

    /// The tools offered to the LLM.
    fn tools(&self) -> Vec<Arc<ToolDefinition>>;

    /// Runs the tool named in `call`. Unknown names and undecodable arguments return
    /// [`ToolOutput::Error`]; they never panic.
    fn call_tool<'a>(
        &'a mut self,
        ctx: &'a mut Context<'_, Self::Result>,
        call: &'a FunctionCall,
    ) -> BoxFuture<'a, ToolOutput>;

    activity_defaults! {
        /// Called when the activity takes control.
        fn on_enter();
        /// Called when the activity gives up control.
        fn on_exit();
        /// Called when keypad digits arrive while this activity is in control (ignored by default).
        fn on_dtmf(digits: &str);
        /// Called when the timer set with [`Context::set_timer`] fires while the activity waits
        /// for input.
        fn on_timer();
    }
}

/// A plain agent: it talks until it hands off or the session ends.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an agent",
    label = "mark the struct with `#[agent]`",
    note = "tasks (`#[agent_task]`) are run with `ctx.run_task(...)`, not started as the session's agent"
)]
pub trait Agent: Activity + ActivityInfo<Result = NoResult> {}

/// A focused unit that takes over the conversation until it completes with a typed result.
///
/// Run it with `ctx.run_task(task).await` from `on_enter`, `on_exit` or a tool body: those are
/// the places that get a context able to run it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an agent task",
    label = "mark the struct with `#[agent_task(result = T)]`"
)]
pub trait AgentTask: Activity {}

/// `snake_case` of the last path segment of a type name; used for default ids.
pub fn snake_case_id(type_name: &str) -> String {
    let base = type_name.rsplit("::").next().unwrap_or(type_name);
    let base = base.split('<').next().unwrap_or(base);
    let mut out = String::with_capacity(base.len() + 4);
    for (i, ch) in base.chars().enumerate() {
        if ch.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(ch.to_lowercase());
        } else {
            out.push(ch);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn snake_case() {
        assert_eq!(
            super::snake_case_id("a::b::CollectConsent"),
            "collect_consent"
        );
        assert_eq!(super::snake_case_id("Get<X>"), "get");
    }
}
