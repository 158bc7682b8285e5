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
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SessionEvent {
    /// A complete message (user input or agent speech).
    Message {
        /// Author.
        role: Role,
        /// Text.
        content: String,
        /// Id of the agent or task in control.
        agent: String,
    },
    /// A piece of agent speech as it streams from the LLM.
    TextDelta {
        /// The new text.
        content: String,
    },
    /// The LLM called a tool.
    FunctionCall {
        /// Provider call id.
        call_id: String,
        /// Tool name.
        name: String,
        /// JSON arguments as produced by the LLM.
        arguments: String,
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
    },
    /// A turn failed or a limit was hit; the session goes on.
    Error {
        /// What went wrong.
        content: String,
    },
    /// The session ended.
    Closed,
}

impl SessionEvent {
    pub(crate) fn from_run_event(ev: &RunEvent, agent: &str) -> Self {
        match ev {
            RunEvent::Message(m) => SessionEvent::Message {
                role: m.role,
                content: m.content.clone(),
                agent: agent.to_string(),
            },
            RunEvent::FunctionCall(c) => SessionEvent::FunctionCall {
                call_id: c.call_id.clone(),
                name: c.name.clone(),
                arguments: c.arguments.clone(),
            },
            RunEvent::FunctionCallOutput(o) => SessionEvent::FunctionCallOutput {
                call_id: o.call_id.clone(),
                name: o.name.clone(),
                output: o.output.clone(),
                is_error: o.is_error,
            },
            RunEvent::AgentHandoff { item, .. } => SessionEvent::AgentHandoff {
                old_agent: item.old_agent_id.clone(),
                new_agent: item.new_agent_id.clone(),
            },
        }
    }
}
