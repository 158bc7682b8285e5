//! What every capture task shares: the declined error, the confirmation setting, and the value
//! waiting for the user's confirmation.

use agents_core::llm::{ChatContext, ChatItem, Role};
use agents_core::session::InputModality;
use agents_core::tools::ToolError;

/// The user would not or could not give the value: a capture task ends with this error (wrapped
/// in [`agents_core::Error::Task`]) when the LLM calls its `decline_*` tool.
///
/// ```
/// # use agents_prebuilt::CaptureDeclined;
/// # fn handle(result: agents_core::Result<agents_prebuilt::EmailResult>) {
/// match result {
///     Ok(email) => { /* use email.email_address */ }
///     Err(e) => match e.downcast_ref::<CaptureDeclined>() {
///         Some(declined) => { /* carry on without it; declined.reason says why */ }
///         None => { /* the session closed, the LLM failed, ... */ }
///     },
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the user declined to give their {what}: {reason}")]
pub struct CaptureDeclined {
    /// What was being collected, e.g. `"email address"`.
    pub what: &'static str,
    /// Why, in the LLM's words.
    pub reason: String,
}

/// Options every capture task takes.
#[derive(Debug, Clone, Default)]
pub(crate) struct CaptureOptions {
    /// `None`: confirm when the latest input was speech.
    pub(crate) require_confirmation: Option<bool>,
    /// Appended to the task's instructions.
    pub(crate) extra_instructions: String,
}

impl CaptureOptions {
    /// Whether a value recorded now must be read back and confirmed: the explicit setting, or
    /// else on for speech (transcripts may be wrong) and off for typed text.
    pub(crate) fn confirm(&self, modality: InputModality) -> bool {
        self.require_confirmation
            .unwrap_or(modality == InputModality::Audio)
    }
}

/// Names a value in the errors of [`PendingValue::confirm`].
pub(crate) struct Labels<'a> {
    /// What the value is, e.g. "email address".
    pub(crate) what: &'a str,
    /// The tool that records a new value.
    pub(crate) update_tool: &'a str,
    /// The tool that confirms it.
    pub(crate) confirm_tool: &'a str,
}

/// A value recorded by an `update_*` tool, waiting for the user to confirm it.
///
/// The confirm tool takes the value again and completes only if it is the one recorded last, and
/// only once the user has spoken since it was recorded: a confirmation of an older value (the
/// user corrected it meanwhile, or the LLM called both tools at once) is refused.
#[derive(Debug, Clone)]
pub(crate) struct PendingValue<T> {
    current: Option<T>,
    superseded: Vec<T>,
    /// Id of the latest user message when `current` was recorded.
    recorded_after: Option<String>,
}

impl<T> Default for PendingValue<T> {
    fn default() -> Self {
        PendingValue {
            current: None,
            superseded: Vec::new(),
            recorded_after: None,
        }
    }
}

/// Id of the latest user message in the conversation.
fn last_user_message(chat_ctx: &ChatContext) -> Option<String> {
    chat_ctx.items().iter().rev().find_map(|item| match item {
        ChatItem::Message(m) if m.role == Role::User => Some(m.id.clone()),
        _ => None,
    })
}

impl<T: Clone + PartialEq> PendingValue<T> {
    /// Records `value` as the one to confirm, replacing any earlier one.
    pub(crate) fn record(&mut self, value: T, chat_ctx: &ChatContext) {
        if let Some(old) = self.current.replace(value) {
            if Some(&old) != self.current.as_ref() {
                self.superseded.push(old);
            }
        }
        self.recorded_after = last_user_message(chat_ctx);
    }

    /// The recorded value (the latest first, then older ones) that `same` finds equivalent to
    /// `claimed`, or `claimed` itself: for values whose spelling varies in ways the user cannot
    /// hear, such as letter case.
    pub(crate) fn canonical(&self, claimed: T, same: impl Fn(&T, &T) -> bool) -> T {
        self.current
            .iter()
            .chain(self.superseded.iter().rev())
            .find(|v| same(v, &claimed))
            .cloned()
            .unwrap_or(claimed)
    }

    /// The recorded value, if `claimed` is it and the user has answered since it was recorded;
    /// otherwise an error telling the LLM what to do. `describe` renders a value for the LLM
    /// (it may mask it).
    pub(crate) fn confirm(
        &self,
        claimed: &T,
        chat_ctx: &ChatContext,
        labels: &Labels<'_>,
        describe: impl Fn(&T) -> String,
    ) -> Result<T, ToolError> {
        let Labels {
            what,
            update_tool,
            confirm_tool,
        } = labels;
        let Some(current) = &self.current else {
            return Err(ToolError::new(format!(
                "No {what} has been recorded yet: call `{update_tool}` with the value the user \
                 gave, read it back, and confirm it once the user agrees."
            )));
        };
        if claimed != current {
            if self.superseded.contains(claimed) {
                return Err(ToolError::new(format!(
                    "The {what} changed since that value was read back: it is now {}. Read the \
                     new value back to the user and call `{confirm_tool}` with it once they \
                     confirm it.",
                    describe(current)
                )));
            }
            return Err(ToolError::new(format!(
                "That is not the recorded {what} ({}). If the user gave a different one, call \
                 `{update_tool}` with it first and read it back.",
                describe(current)
            )));
        }
        if last_user_message(chat_ctx) == self.recorded_after {
            return Err(ToolError::new(format!(
                "The user has not answered yet: read the {what} back, ask whether it is right, \
                 and call `{confirm_tool}` only after they confirm it."
            )));
        }
        Ok(current.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LABELS: Labels<'static> = Labels {
        what: "code",
        update_tool: "update_code",
        confirm_tool: "confirm_code",
    };

    fn ctx_with_user(texts: &[&str]) -> ChatContext {
        let mut ctx = ChatContext::new();
        for t in texts {
            ctx.add_message(Role::User, *t);
        }
        ctx
    }

    #[test]
    fn confirms_only_the_latest_value_after_the_user_spoke() {
        let mut ctx = ctx_with_user(&["it's 1"]);
        let mut p = PendingValue::default();
        let err = p.confirm(&1, &ctx, &LABELS, |v| v.to_string()).unwrap_err();
        assert!(err.message().contains("call `update_code`"), "{err}");

        p.record(1, &ctx);
        let err = p.confirm(&1, &ctx, &LABELS, |v| v.to_string()).unwrap_err();
        assert!(err.message().contains("not answered yet"), "{err}");

        ctx.add_message(Role::User, "no, 2");
        p.record(2, &ctx);
        ctx.add_message(Role::User, "yes");
        let err = p.confirm(&1, &ctx, &LABELS, |v| v.to_string()).unwrap_err();
        assert!(err.message().contains("changed"), "{err}");
        assert!(err.message().contains("now 2"), "{err}");
        let err = p.confirm(&3, &ctx, &LABELS, |v| v.to_string()).unwrap_err();
        assert!(err.message().contains("not the recorded code (2)"), "{err}");
        assert_eq!(p.confirm(&2, &ctx, &LABELS, |v| v.to_string()), Ok(2));
        let same_parity = |a: &i32, b: &i32| a % 2 == b % 2;
        assert_eq!(p.canonical(4, same_parity), 2);
        assert_eq!(p.canonical(3, same_parity), 1);
    }

    #[test]
    fn confirmation_follows_the_modality_unless_set() {
        let mut o = CaptureOptions::default();
        assert!(o.confirm(InputModality::Audio));
        assert!(!o.confirm(InputModality::Text));
        o.require_confirmation = Some(true);
        assert!(o.confirm(InputModality::Text));
        o.require_confirmation = Some(false);
        assert!(!o.confirm(InputModality::Audio));
    }
}
