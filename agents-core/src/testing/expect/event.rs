//! Assertions on one event: its kind, then what it holds.

use super::matching::*;
use crate::llm::{AgentHandoff, ChatMessage, FunctionCall, FunctionCallOutput, Llm, Role};
use crate::session::RunEvent;
use serde_json::Value;

/// Declares what an `is_xxx` assertion returns: the event it matched and the value inside it,
/// with a getter for each.
macro_rules! event_view {
    ($(#[$doc:meta])* $name:ident { $field:ident: $ty:ty }, $(#[$getter_doc:meta])*) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name<'a> {
            pub(super) event: EventAssert<'a>,
            pub(super) $field: &'a $ty,
        }

        impl<'a> $name<'a> {
            $(#[$getter_doc])*
            pub fn $field(&self) -> &'a $ty {
                self.$field
            }

            /// The event asserted on, to go on from it.
            pub fn event(&self) -> EventAssert<'a> {
                self.event
            }
        }
    };
}

/// One event of a turn, to assert what it is.
#[derive(Debug, Clone, Copy)]
pub struct EventAssert<'a> {
    pub(super) events: &'a [RunEvent],
    pub(super) index: usize,
}

impl<'a> EventAssert<'a> {
    pub(super) fn new(events: &'a [RunEvent], index: usize) -> Self {
        EventAssert { events, index }
    }

    /// The event.
    pub fn event(&self) -> &'a RunEvent {
        &self.events[self.index]
    }

    /// Its index in the turn.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Asserts that the event is a message by `role`.
    #[track_caller]
    pub fn is_message(self, role: Role) -> MessageAssert<'a> {
        let message = self.matched(match_message(self.event(), role), || what_message(role));
        MessageAssert {
            event: self,
            message,
        }
    }

    /// Asserts that the event is a call of tool `name`. With `Some(arguments)`, the call's
    /// arguments must include them: every key of an expected object must be present with a
    /// matching value (recursively), arrays match element by element and must have the same
    /// length, and numbers match by value (`1` matches `1.0`).
    #[track_caller]
    pub fn is_function_call(
        self,
        name: &str,
        arguments: impl Into<Option<Value>>,
    ) -> FunctionCallAssert<'a> {
        let arguments = arguments.into();
        let call = self.matched(
            match_function_call(self.event(), name, arguments.as_ref()),
            || what_function_call(name, arguments.as_ref()),
        );
        FunctionCallAssert { event: self, call }
    }

    /// Asserts that the event is a tool output.
    #[track_caller]
    pub fn is_function_call_output(self) -> FunctionCallOutputAssert<'a> {
        let output = self.matched(match_output(self.event(), None), || what_output(None));
        FunctionCallOutputAssert {
            event: self,
            output,
        }
    }

    /// Asserts that the event is a handoff to the agent or task with id `new_agent_id`.
    #[track_caller]
    pub fn is_agent_handoff(self, new_agent_id: &str) -> AgentHandoffAssert<'a> {
        self.handoff(HandoffTarget::Id(new_agent_id), || {
            what_handoff_id(new_agent_id)
        })
    }

    /// Asserts that the event is a handoff to an agent or task of type `T`.
    #[track_caller]
    pub fn is_agent_handoff_to<T: ?Sized>(self) -> AgentHandoffAssert<'a> {
        let type_name = std::any::type_name::<T>();
        self.handoff(HandoffTarget::Type(type_name), || {
            what_handoff_type(type_name)
        })
    }

    /// Panics with `headline` and the turn's events, this one marked.
    #[track_caller]
    pub fn fail(&self, headline: impl std::fmt::Display) -> ! {
        fail(self.events, Some(self.index), headline)
    }

    /// Asserts that the event is a handoff to `target`, described by `what` on failure.
    #[track_caller]
    fn handoff(
        self,
        target: HandoffTarget<'_>,
        what: impl FnOnce() -> String,
    ) -> AgentHandoffAssert<'a> {
        let handoff = self.matched(match_handoff(self.event(), target), what);
        AgentHandoffAssert {
            event: self,
            handoff,
        }
    }

    /// What a matcher found, or a failure naming `what` was expected.
    #[track_caller]
    fn matched<T>(&self, found: Result<T, Mismatch>, what: impl FnOnce() -> String) -> T {
        match found {
            Ok(v) => v,
            Err(m) => self.mismatch(&what(), m),
        }
    }

    /// Fails unless the text of this event (a message or a tool output) contains `needle`,
    /// ignoring case.
    #[track_caller]
    fn text_contains(&self, needle: &str) {
        let (text, whose) = match self.event() {
            RunEvent::Message(m) => (&m.content, format!("the {} message", m.role)),
            RunEvent::FunctionCallOutput(o) => (&o.output, format!("the output of `{}`", o.name)),
            _ => self.mismatch("a message or a tool output", Mismatch::kind()),
        };
        if !contains_ci(text, needle) {
            self.mismatch(&format!("{whose} to contain {needle:?}"), Mismatch::kind());
        }
    }

    #[track_caller]
    pub(super) fn mismatch(&self, what: &str, m: Mismatch) -> ! {
        let detail = m.0.map(|d| format!(" ({d})")).unwrap_or_default();
        self.fail(format!(
            "expected {what}, found {}{detail}",
            self.event().describe()
        ))
    }
}

event_view!(
    /// A message event, to assert on its text.
    MessageAssert { message: ChatMessage },
    /// The message.
);

impl<'a> MessageAssert<'a> {
    /// The message text.
    pub fn content(&self) -> &'a str {
        &self.message.content
    }

    /// Asserts that the text contains `needle`, ignoring case.
    #[track_caller]
    pub fn containing(self, needle: &str) -> Self {
        self.event.text_contains(needle);
        self
    }

    /// Asks `llm` whether the message fulfils `intent` (see [`judge`](crate::testing::judge)).
    ///
    /// # Panics
    /// When the judge rejects the message or cannot give a verdict; the reason is in the message.
    pub async fn judge(self, llm: &dyn Llm, intent: &str) -> Self {
        if let Err(failure) = crate::testing::judge(llm, &self.message.content, intent).await {
            self.event.fail(format!(
                "expected a message that fulfils the intent {intent:?}: {failure}"
            ));
        }
        self
    }
}

event_view!(
    /// A tool call event, to inspect it further.
    FunctionCallAssert { call: FunctionCall },
    /// The call.
);

impl<'a> FunctionCallAssert<'a> {
    /// The call's arguments, parsed (an empty string counts as `{}`).
    ///
    /// # Panics
    /// When the arguments are not valid JSON.
    #[track_caller]
    pub fn arguments(&self) -> Value {
        match parse_arguments(&self.call.arguments) {
            Ok(v) => v,
            Err(e) => self.event.mismatch(
                &format!("the arguments of `{}` to be JSON", self.call.name),
                Mismatch::detail(e.to_string()),
            ),
        }
    }
}

event_view!(
    /// A tool output event, to assert on its text and error flag.
    FunctionCallOutputAssert { output: FunctionCallOutput },
    /// The output.
);

impl<'a> FunctionCallOutputAssert<'a> {
    /// Asserts that the output text contains `needle`, ignoring case.
    #[track_caller]
    pub fn with_output_containing(self, needle: &str) -> Self {
        self.event.text_contains(needle);
        self
    }

    /// Asserts that the tool did (`true`) or did not (`false`) fail.
    #[track_caller]
    pub fn is_error(self, is_error: bool) -> Self {
        if self.output.is_error != is_error {
            let expected = if is_error { "to be" } else { "not to be" };
            self.event.mismatch(
                &format!("the output of `{}` {expected} an error", self.output.name),
                Mismatch::kind(),
            );
        }
        self
    }
}

event_view!(
    /// A handoff event, to inspect it further.
    AgentHandoffAssert { handoff: AgentHandoff },
    /// The handoff record.
);

impl<'a> AgentHandoffAssert<'a> {
    /// Full Rust type name of the new agent or task.
    pub fn new_agent_type(&self) -> &'static str {
        match self.event.event() {
            RunEvent::AgentHandoff { new_agent_type, .. } => new_agent_type,
            _ => unreachable!("an AgentHandoffAssert wraps a handoff event"),
        }
    }

    /// Asserts that control came from the agent or task with id `old_agent_id`.
    #[track_caller]
    pub fn from_agent(self, old_agent_id: &str) -> Self {
        if self.handoff.old_agent_id.as_deref() != Some(old_agent_id) {
            self.event.mismatch(
                &format!("a handoff from `{old_agent_id}`"),
                Mismatch::kind(),
            );
        }
        self
    }
}
