//! Assertions on one event: its kind, then what it holds.

use super::matching::*;
use crate::llm::{AgentHandoff, ChatMessage, FunctionCall, FunctionCallOutput, Llm, Role};
use crate::session::RunEvent;
use serde_json::Value;

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
        match match_message(self.event(), role) {
            Ok(message) => MessageAssert {
                event: self,
                message,
            },
            Err(m) => self.mismatch(&what_message(role), m),
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
        match match_function_call(self.event(), name, arguments.as_ref()) {
            Ok(call) => FunctionCallAssert { event: self, call },
            Err(m) => self.mismatch(&what_function_call(name, arguments.as_ref()), m),
        }
    }

    /// Asserts that the event is a tool output.
    #[track_caller]
    pub fn is_function_call_output(self) -> FunctionCallOutputAssert<'a> {
        match match_output(self.event(), None) {
            Ok(output) => FunctionCallOutputAssert {
                event: self,
                output,
            },
            Err(m) => self.mismatch(&what_output(None), m),
        }
    }

    /// Asserts that the event is a handoff to the agent or task with id `new_agent_id`.
    #[track_caller]
    pub fn is_agent_handoff(self, new_agent_id: &str) -> AgentHandoffAssert<'a> {
        match match_handoff(self.event(), HandoffTarget::Id(new_agent_id)) {
            Ok(handoff) => AgentHandoffAssert {
                event: self,
                handoff,
            },
            Err(m) => self.mismatch(&what_handoff_id(new_agent_id), m),
        }
    }

    /// Asserts that the event is a handoff to an agent or task of type `T`.
    #[track_caller]
    pub fn is_agent_handoff_to<T: ?Sized>(self) -> AgentHandoffAssert<'a> {
        let type_name = std::any::type_name::<T>();
        match match_handoff(self.event(), HandoffTarget::Type(type_name)) {
            Ok(handoff) => AgentHandoffAssert {
                event: self,
                handoff,
            },
            Err(m) => self.mismatch(&what_handoff_type(type_name), m),
        }
    }

    /// Panics with `headline` and the turn's events, this one marked.
    #[track_caller]
    pub fn fail(&self, headline: impl std::fmt::Display) -> ! {
        fail(self.events, Some(self.index), headline)
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

/// A message event, to assert on its text.
#[derive(Debug, Clone, Copy)]
pub struct MessageAssert<'a> {
    pub(super) event: EventAssert<'a>,
    pub(super) message: &'a ChatMessage,
}

impl<'a> MessageAssert<'a> {
    /// The message.
    pub fn message(&self) -> &'a ChatMessage {
        self.message
    }

    /// The message text.
    pub fn content(&self) -> &'a str {
        &self.message.content
    }

    /// The event this message is.
    pub fn event(&self) -> EventAssert<'a> {
        self.event
    }

    /// Asserts that the text contains `needle`, ignoring case.
    #[track_caller]
    pub fn containing(self, needle: &str) -> Self {
        if !contains_ci(&self.message.content, needle) {
            self.event.fail(format!(
                "expected the {} message to contain {needle:?}, found {}",
                self.message.role,
                self.event.event().describe()
            ));
        }
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

/// A tool call event, to inspect it further.
#[derive(Debug, Clone, Copy)]
pub struct FunctionCallAssert<'a> {
    pub(super) event: EventAssert<'a>,
    pub(super) call: &'a FunctionCall,
}

impl<'a> FunctionCallAssert<'a> {
    /// The call.
    pub fn call(&self) -> &'a FunctionCall {
        self.call
    }

    /// The event this call is.
    pub fn event(&self) -> EventAssert<'a> {
        self.event
    }

    /// The call's arguments, parsed (an empty string counts as `{}`).
    ///
    /// # Panics
    /// When the arguments are not valid JSON.
    #[track_caller]
    pub fn arguments(&self) -> Value {
        match parse_arguments(&self.call.arguments) {
            Ok(v) => v,
            Err(e) => self.event.fail(format!(
                "expected the arguments of `{}` to be JSON, found {} ({e})",
                self.call.name,
                self.event.event().describe()
            )),
        }
    }
}

/// A tool output event, to assert on its text and error flag.
#[derive(Debug, Clone, Copy)]
pub struct FunctionCallOutputAssert<'a> {
    pub(super) event: EventAssert<'a>,
    pub(super) output: &'a FunctionCallOutput,
}

impl<'a> FunctionCallOutputAssert<'a> {
    /// The output.
    pub fn output(&self) -> &'a FunctionCallOutput {
        self.output
    }

    /// The event this output is.
    pub fn event(&self) -> EventAssert<'a> {
        self.event
    }

    /// Asserts that the output text contains `needle`, ignoring case.
    #[track_caller]
    pub fn with_output_containing(self, needle: &str) -> Self {
        if !contains_ci(&self.output.output, needle) {
            self.event.fail(format!(
                "expected the output of `{}` to contain {needle:?}, found {}",
                self.output.name,
                self.event.event().describe()
            ));
        }
        self
    }

    /// Asserts that the tool did (`true`) or did not (`false`) fail.
    #[track_caller]
    pub fn is_error(self, is_error: bool) -> Self {
        if self.output.is_error != is_error {
            self.event.fail(format!(
                "expected the output of `{}` {}, found {}",
                self.output.name,
                if is_error {
                    "to be an error"
                } else {
                    "not to be an error"
                },
                self.event.event().describe()
            ));
        }
        self
    }
}

/// A handoff event, to inspect it further.
#[derive(Debug, Clone, Copy)]
pub struct AgentHandoffAssert<'a> {
    pub(super) event: EventAssert<'a>,
    pub(super) handoff: &'a AgentHandoff,
}

impl<'a> AgentHandoffAssert<'a> {
    /// The handoff record.
    pub fn handoff(&self) -> &'a AgentHandoff {
        self.handoff
    }

    /// Full Rust type name of the new agent or task.
    pub fn new_agent_type(&self) -> &'static str {
        match self.event.event() {
            RunEvent::AgentHandoff { new_agent_type, .. } => new_agent_type,
            _ => unreachable!("an AgentHandoffAssert wraps a handoff event"),
        }
    }

    /// The event this handoff is.
    pub fn event(&self) -> EventAssert<'a> {
        self.event
    }

    /// Asserts that control came from the agent or task with id `old_agent_id`.
    #[track_caller]
    pub fn from_agent(self, old_agent_id: &str) -> Self {
        if self.handoff.old_agent_id.as_deref() != Some(old_agent_id) {
            self.event.fail(format!(
                "expected a handoff from `{old_agent_id}`, found {}",
                self.event.event().describe()
            ));
        }
        self
    }
}
