//! What happens in a session, as events: streamed to subscribers (console, transcripts) and
//! collected per turn into a `RunResult`.

use crate::llm::{AgentHandoff, ChatMessage, FunctionCall, FunctionCallOutput, Role};
use serde::Serialize;

/// One event of a turn, as kept in a `RunResult`.
#[derive(Debug, Clone, PartialEq)]
pub enum RunEvent {
    /// A message the agent said (or a user message inserted by the agent's code).
    Message(ChatMessage),
    /// The LLM called a tool.
    FunctionCall(FunctionCall),
    /// A tool call's output.
    FunctionCallOutput(FunctionCallOutput),
    /// Control moved to another agent or task.
    AgentHandoff {
        /// The handoff record.
        item: AgentHandoff,
        /// Full Rust type name of the new agent or task.
        new_agent_type: &'static str,
    },
}

impl RunEvent {
    /// A one-line description, used in assertion failure listings.
    pub fn describe(&self) -> String {
        match self {
            RunEvent::Message(m) => format!("message {}: {:?}", m.role, m.content),
            RunEvent::FunctionCall(c) => format!("function_call {}({})", c.name, c.arguments),
            RunEvent::FunctionCallOutput(o) => format!(
                "function_call_output {}{}: {:?}",
                o.name,
                if o.is_error { " [error]" } else { "" },
                o.output
            ),
            RunEvent::AgentHandoff { item, .. } => format!(
                "agent_handoff {} -> {}",
                item.old_agent_id.as_deref().unwrap_or("(none)"),
                item.new_agent_id
            ),
        }
    }
}

/// Everything observable in a session, one JSON object per event in transcripts.
///
/// Events from inside a sensitive activity ([`Activity::is_sensitive`]) have `sensitive` set:
/// their fields hold the real content, for code that acts on it, but `Serialize` and `Debug`
/// show [`REDACTED`] in its place, so transcripts and logs never hold it.
///
/// [`Activity::is_sensitive`]: crate::agent::Activity::is_sensitive
#[derive(Clone, PartialEq)]
pub enum SessionEvent {
    /// A complete message (user input or agent speech).
    Message {
        /// Author.
        role: Role,
        /// Text.
        content: String,
        /// Id of the agent or task in control.
        agent: String,
        /// Said inside a sensitive activity.
        sensitive: bool,
    },
    /// A piece of agent speech as it streams from the LLM.
    TextDelta {
        /// The new text.
        content: String,
        /// Said inside a sensitive activity.
        sensitive: bool,
    },
    /// The LLM called a tool.
    FunctionCall {
        /// Provider call id.
        call_id: String,
        /// Tool name.
        name: String,
        /// JSON arguments as produced by the LLM.
        arguments: String,
        /// Called inside a sensitive activity.
        sensitive: bool,
    },
    /// A tool call's output.
    FunctionCallOutput {
        /// Provider call id.
        call_id: String,
        /// Tool name.
        name: String,
        /// Output the LLM sees.
        output: String,
        /// Whether the tool failed.
        is_error: bool,
        /// Produced inside a sensitive activity.
        sensitive: bool,
    },
    /// Control moved to another agent or task.
    AgentHandoff {
        /// Previous agent id.
        old_agent: Option<String>,
        /// New agent id.
        new_agent: String,
    },
    /// A task completed.
    TaskCompleted {
        /// Task id.
        name: String,
        /// The result, as JSON.
        output: serde_json::Value,
        /// The task is sensitive, or ran inside a sensitive activity.
        sensitive: bool,
    },
    /// Token counts and latency of one LLM request.
    Usage {
        /// Tokens in the prompt.
        prompt_tokens: u64,
        /// Tokens generated.
        completion_tokens: u64,
        /// Milliseconds from the request to the first streamed token, when known.
        time_to_first_token_ms: Option<f64>,
    },
    /// Keypad digits arrived.
    Dtmf {
        /// The digits.
        digits: String,
        /// Pressed while a sensitive activity was in control.
        sensitive: bool,
    },
    /// A turn failed or a limit was hit; the session goes on.
    Error {
        /// What went wrong.
        content: String,
        /// Failed inside a sensitive activity (the message may quote what was said).
        sensitive: bool,
    },
    /// The latest reply was cut to what the user heard before an interruption
    /// ([`AgentSession::truncate_reply`](crate::session::AgentSession::truncate_reply)); an
    /// empty `heard` means the reply was removed from the conversation.
    ReplyTruncated {
        /// The part of the reply the user heard, now its content.
        heard: String,
        /// Said inside a sensitive activity.
        sensitive: bool,
    },
    /// The session ended.
    Closed,
}

/// What serialising or formatting a sensitive event shows instead of its content.
pub const REDACTED: &str = "[redacted]";

/// An event as transcripts and `Debug` show it: content replaced by [`REDACTED`] when the event
/// is sensitive.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Shown<'a> {
    Message {
        role: Role,
        content: &'a str,
        agent: &'a str,
        #[serde(skip_serializing_if = "is_false")]
        sensitive: bool,
    },
    TextDelta {
        content: &'a str,
        #[serde(skip_serializing_if = "is_false")]
        sensitive: bool,
    },
    FunctionCall {
        call_id: &'a str,
        name: &'a str,
        arguments: &'a str,
        #[serde(skip_serializing_if = "is_false")]
        sensitive: bool,
    },
    FunctionCallOutput {
        call_id: &'a str,
        name: &'a str,
        output: &'a str,
        is_error: bool,
        #[serde(skip_serializing_if = "is_false")]
        sensitive: bool,
    },
    AgentHandoff {
        old_agent: Option<&'a str>,
        new_agent: &'a str,
    },
    TaskCompleted {
        name: &'a str,
        output: &'a serde_json::Value,
        #[serde(skip_serializing_if = "is_false")]
        sensitive: bool,
    },
    Usage {
        prompt_tokens: u64,
        completion_tokens: u64,
        time_to_first_token_ms: Option<f64>,
    },
    Dtmf {
        digits: &'a str,
        #[serde(skip_serializing_if = "is_false")]
        sensitive: bool,
    },
    Error {
        content: &'a str,
        #[serde(skip_serializing_if = "is_false")]
        sensitive: bool,
    },
    ReplyTruncated {
        heard: &'a str,
        #[serde(skip_serializing_if = "is_false")]
        sensitive: bool,
    },
    Closed,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// `text`, or [`REDACTED`] in its place when `sensitive`.
pub(crate) fn redacted_if(sensitive: bool, text: &str) -> &str {
    if sensitive {
        REDACTED
    } else {
        text
    }
}

/// [`REDACTED`] as a JSON value, for a sensitive task's result.
static REDACTED_VALUE: std::sync::LazyLock<serde_json::Value> =
    std::sync::LazyLock::new(|| serde_json::Value::String(REDACTED.to_string()));

impl SessionEvent {
    fn shown(&self) -> Shown<'_> {
        let text = redacted_if;
        match self {
            SessionEvent::Message {
                role,
                content,
                agent,
                sensitive,
            } => Shown::Message {
                role: *role,
                content: text(*sensitive, content),
                agent,
                sensitive: *sensitive,
            },
            SessionEvent::TextDelta { content, sensitive } => Shown::TextDelta {
                content: text(*sensitive, content),
                sensitive: *sensitive,
            },
            SessionEvent::FunctionCall {
                call_id,
                name,
                arguments,
                sensitive,
            } => Shown::FunctionCall {
                call_id,
                name,
                arguments: text(*sensitive, arguments),
                sensitive: *sensitive,
            },
            SessionEvent::FunctionCallOutput {
                call_id,
                name,
                output,
                is_error,
                sensitive,
            } => Shown::FunctionCallOutput {
                call_id,
                name,
                output: text(*sensitive, output),
                is_error: *is_error,
                sensitive: *sensitive,
            },
            SessionEvent::AgentHandoff {
                old_agent,
                new_agent,
            } => Shown::AgentHandoff {
                old_agent: old_agent.as_deref(),
                new_agent,
            },
            SessionEvent::TaskCompleted {
                name,
                output,
                sensitive,
            } => Shown::TaskCompleted {
                name,
                output: if *sensitive { &REDACTED_VALUE } else { output },
                sensitive: *sensitive,
            },
            SessionEvent::Usage {
                prompt_tokens,
                completion_tokens,
                time_to_first_token_ms,
            } => Shown::Usage {
                prompt_tokens: *prompt_tokens,
                completion_tokens: *completion_tokens,
                time_to_first_token_ms: *time_to_first_token_ms,
            },
            SessionEvent::Dtmf { digits, sensitive } => Shown::Dtmf {
                digits: text(*sensitive, digits),
                sensitive: *sensitive,
            },
            SessionEvent::Error { content, sensitive } => Shown::Error {
                content: text(*sensitive, content),
                sensitive: *sensitive,
            },
            SessionEvent::ReplyTruncated { heard, sensitive } => Shown::ReplyTruncated {
                heard: text(*sensitive, heard),
                sensitive: *sensitive,
            },
            SessionEvent::Closed => Shown::Closed,
        }
    }

    /// Whether the event came from inside a sensitive activity (see [`REDACTED`]).
    pub fn is_sensitive(&self) -> bool {
        match self {
            SessionEvent::Message { sensitive, .. }
            | SessionEvent::TextDelta { sensitive, .. }
            | SessionEvent::FunctionCall { sensitive, .. }
            | SessionEvent::FunctionCallOutput { sensitive, .. }
            | SessionEvent::TaskCompleted { sensitive, .. }
            | SessionEvent::Dtmf { sensitive, .. }
            | SessionEvent::Error { sensitive, .. }
            | SessionEvent::ReplyTruncated { sensitive, .. } => *sensitive,
            SessionEvent::AgentHandoff { .. }
            | SessionEvent::Usage { .. }
            | SessionEvent::Closed => false,
        }
    }
}

impl Serialize for SessionEvent {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.shown().serialize(serializer)
    }
}

impl std::fmt::Debug for SessionEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.shown().fmt(f)
    }
}

impl SessionEvent {
    pub(crate) fn from_run_event(ev: &RunEvent, agent: &str, sensitive: bool) -> Self {
        match ev {
            RunEvent::Message(m) => SessionEvent::Message {
                role: m.role,
                content: m.content.clone(),
                agent: agent.to_string(),
                sensitive,
            },
            RunEvent::FunctionCall(c) => SessionEvent::FunctionCall {
                call_id: c.call_id.clone(),
                name: c.name.clone(),
                arguments: c.arguments.clone(),
                sensitive,
            },
            RunEvent::FunctionCallOutput(o) => SessionEvent::FunctionCallOutput {
                call_id: o.call_id.clone(),
                name: o.name.clone(),
                output: o.output.clone(),
                is_error: o.is_error,
                sensitive,
            },
            RunEvent::AgentHandoff { item, .. } => SessionEvent::AgentHandoff {
                old_agent: item.old_agent_id.clone(),
                new_agent: item.new_agent_id.clone(),
            },
        }
    }
}
