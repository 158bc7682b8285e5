//! What a tool returns, and how each return type becomes the output the LLM sees.

use super::ToolError;
use crate::agent::Agent;
use crate::session::erased::BoxedAgent;
use serde::Serialize;

/// The outcome of one tool call, as the session handles it.
pub enum ToolOutput {
    /// Text for the LLM (may be empty when the tool returned nothing).
    Text(String),
    /// An error for the LLM; the call's output is flagged `is_error`.
    Error(String),
    /// Record the output but do not ask the LLM for a follow-up reply.
    Stop(String),
    /// Hand the conversation to another agent.
    Handoff(Handoff),
}

impl ToolOutput {
    /// Text output.
    pub fn text(s: impl Into<String>) -> Self {
        ToolOutput::Text(s.into())
    }
    /// Error output.
    pub fn error(e: impl Into<ToolError>) -> Self {
        ToolOutput::Error(e.into().message().to_string())
    }
}

impl std::fmt::Debug for ToolOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ToolOutput::Text(s) => f.debug_tuple("Text").field(s).finish(),
            ToolOutput::Error(s) => f.debug_tuple("Error").field(s).finish(),
            ToolOutput::Stop(s) => f.debug_tuple("Stop").field(s).finish(),
            ToolOutput::Handoff(h) => f.debug_tuple("Handoff").field(&h.agent_id()).finish(),
        }
    }
}

/// Returned from a tool: keep the call's output but end the turn without an LLM reply.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StopResponse;

/// Returned from a tool: the conversation continues with another agent.
pub struct Handoff {
    pub(crate) agent: BoxedAgent,
    pub(crate) message: String,
}

impl Handoff {
    /// Hand off to `agent`.
    pub fn to<A: Agent>(agent: A) -> Self {
        Handoff {
            agent: BoxedAgent::new(agent),
            message: String::new(),
        }
    }

    /// Also give the LLM of the old agent this text as the call's output.
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }

    /// The id of the agent handed off to.
    pub fn agent_id(&self) -> &'static str {
        self.agent.id()
    }
}

/// Wraps any `Serialize` value so a tool can return it as JSON text.
#[derive(Debug, Clone, PartialEq)]
pub struct Json<T>(pub T);

/// Turns a tool's return value into a [`ToolOutput`].
///
/// Implemented for `()`, strings, numbers, `bool`, `serde_json::Value`, [`Json`], [`ToolError`],
/// [`StopResponse`], [`Handoff`], [`ToolOutput`], and `Result<T, E>` where `T` is one of those and
/// `E: Into<ToolError>`. Tools written with `#[function_tool]` may also return any other
/// `Serialize` type.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from a tool",
    label = "this return type has no tool output",
    note = "return (), String, a Serialize type, Result<_, ToolError>, StopResponse or Handoff"
)]
pub trait IntoToolOutput {
    /// The output for the LLM.
    fn into_tool_output(self) -> ToolOutput;
}

impl IntoToolOutput for ToolOutput {
    fn into_tool_output(self) -> ToolOutput {
        self
    }
}
impl IntoToolOutput for () {
    fn into_tool_output(self) -> ToolOutput {
        ToolOutput::Text(String::new())
    }
}
impl IntoToolOutput for String {
    fn into_tool_output(self) -> ToolOutput {
        ToolOutput::Text(self)
    }
}
impl IntoToolOutput for &str {
    fn into_tool_output(self) -> ToolOutput {
        ToolOutput::Text(self.to_string())
    }
}
impl IntoToolOutput for std::borrow::Cow<'_, str> {
    fn into_tool_output(self) -> ToolOutput {
        ToolOutput::Text(self.into_owned())
    }
}
impl IntoToolOutput for ToolError {
    fn into_tool_output(self) -> ToolOutput {
        ToolOutput::Error(self.message().to_string())
    }
}
impl IntoToolOutput for StopResponse {
    fn into_tool_output(self) -> ToolOutput {
        ToolOutput::Stop(String::new())
    }
}
impl IntoToolOutput for Handoff {
    fn into_tool_output(self) -> ToolOutput {
        ToolOutput::Handoff(self)
    }
}
impl IntoToolOutput for serde_json::Value {
    fn into_tool_output(self) -> ToolOutput {
        ToolOutput::Text(json_text(&self))
    }
}
impl<T: Serialize> IntoToolOutput for Json<T> {
    fn into_tool_output(self) -> ToolOutput {
        serialize_output(&self.0)
    }
}
impl<T: IntoToolOutput> IntoToolOutput for Option<T> {
    fn into_tool_output(self) -> ToolOutput {
        match self {
            Some(v) => v.into_tool_output(),
            None => ToolOutput::Text(String::new()),
        }
    }
}
impl<T: IntoToolOutput, E: Into<ToolError>> IntoToolOutput for Result<T, E> {
    fn into_tool_output(self) -> ToolOutput {
        match self {
            Ok(v) => v.into_tool_output(),
            Err(e) => ToolOutput::Error(e.into().message().to_string()),
        }
    }
}

macro_rules! display_output {
    ($($t:ty),*) => {$(
        impl IntoToolOutput for $t {
            fn into_tool_output(self) -> ToolOutput {
                ToolOutput::Text(self.to_string())
            }
        }
    )*};
}
display_output!(bool, i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64);

fn json_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Serializes a value for the LLM: strings as themselves, `null` as nothing, the rest as JSON.
pub(crate) fn serialize_output<T: Serialize + ?Sized>(value: &T) -> ToolOutput {
    match serde_json::to_value(value) {
        Ok(v) => ToolOutput::Text(json_text(&v)),
        Err(e) => ToolOutput::Error(format!("The tool's result could not be serialized: {e}")),
    }
}
