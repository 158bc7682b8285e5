//! Talking to language models: the chat context, the streaming [`Llm`] trait and its request and
//! chunk types. Providers live in submodules.

pub mod chat_context;
#[cfg(feature = "openai")]
pub mod openai;

pub use chat_context::{
    AgentHandoff, ChatContext, ChatItem, ChatMessage, CopyOptions, FunctionCall,
    FunctionCallOutput, Role,
};

use crate::tools::ToolDefinition;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use std::sync::Arc;
use std::time::Duration;

/// Whether and which tool the LLM must call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ToolChoice {
    /// The model decides.
    #[default]
    Auto,
    /// The model must not call a tool.
    None,
    /// The model must call some tool.
    Required,
    /// The model must call this tool.
    Named(String),
}

/// One request to a chat model.
#[derive(Debug, Clone, Default)]
pub struct ChatRequest {
    /// The conversation so far, instructions first.
    pub chat_ctx: ChatContext,
    /// Tools the model may call.
    pub tools: Vec<Arc<ToolDefinition>>,
    /// Tool choice for this request.
    pub tool_choice: ToolChoice,
    /// Whether the model may ask for several tool calls at once.
    pub parallel_tool_calls: Option<bool>,
    /// Sampling temperature.
    pub temperature: Option<f32>,
}

impl ChatRequest {
    /// The text of the most recent user message, if any.
    pub fn last_user_text(&self) -> Option<&str> {
        self.chat_ctx
            .last_message(Role::User)
            .map(|m| m.content.as_str())
    }

    /// The latest item of the request's context.
    pub fn last_item(&self) -> Option<&ChatItem> {
        self.chat_ctx.items().last()
    }

    /// Whether a tool named `name` is offered.
    pub fn offers_tool(&self, name: &str) -> bool {
        self.tools.iter().any(|t| t.name == name)
    }

    /// All system and developer messages joined with newlines.
    pub fn instructions(&self) -> String {
        self.chat_ctx
            .messages()
            .filter(|m| matches!(m.role, Role::System | Role::Developer))
            .map(|m| m.content.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Token counts and timing for one request.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    /// Tokens in the prompt.
    pub prompt_tokens: u64,
    /// Tokens generated.
    pub completion_tokens: u64,
    /// Time from sending the request to the first streamed token.
    pub time_to_first_token: Option<Duration>,
}

/// A piece of a streamed reply.
#[derive(Debug, Clone, PartialEq)]
pub enum ChatChunk {
    /// More reply text, to be shown or spoken as it arrives.
    Text(String),
    /// A complete tool call (the provider accumulates argument deltas).
    ToolCall(ToolCallRequest),
    /// Usage figures, usually at the end.
    Usage(Usage),
}

/// A tool call as the LLM produced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCallRequest {
    /// Provider call id.
    pub call_id: String,
    /// Tool name.
    pub name: String,
    /// Arguments as JSON text.
    pub arguments: String,
}

/// Errors from an LLM provider.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LlmError {
    /// The provider answered with an HTTP error status.
    #[error("LLM request failed with HTTP {status}: {body}")]
    Status {
        /// HTTP status code.
        status: u16,
        /// The start of the response body.
        body: String,
        /// Whether retrying may help (429, 5xx).
        retryable: bool,
    },
    /// The connection failed or timed out.
    #[error("LLM connection failed: {0}")]
    Connection(String),
    /// The stream broke or stalled after it started.
    #[error("LLM stream failed: {0}")]
    Stream(String),
    /// The provider sent something that could not be understood.
    #[error("LLM response could not be parsed: {0}")]
    Protocol(String),
    /// Configuration problem (no API key, bad URL, ...).
    #[error("LLM is not configured: {0}")]
    Config(String),
    /// Any other provider failure.
    #[error("LLM failed: {0}")]
    Other(String),
}

/// The stream of a reply.
pub type ChatStream = BoxStream<'static, Result<ChatChunk, LlmError>>;

/// A chat model that streams replies and tool calls.
///
/// Implement it for a provider; the session calls [`Llm::chat`] once per LLM step. Dropping the
/// returned stream must abort the request.
pub trait Llm: Send + Sync + 'static {
    /// Starts a streamed reply to `request`.
    fn chat(&self, request: ChatRequest) -> BoxFuture<'_, Result<ChatStream, LlmError>>;

    /// A short name for logs and transcripts (e.g. the model name).
    fn label(&self) -> String {
        std::any::type_name::<Self>().to_string()
    }
}

impl<L: Llm + ?Sized> Llm for Arc<L> {
    fn chat(&self, request: ChatRequest) -> BoxFuture<'_, Result<ChatStream, LlmError>> {
        (**self).chat(request)
    }
    fn label(&self) -> String {
        (**self).label()
    }
}

/// Runs `request` and returns the whole reply text (tool calls are ignored). For one-off
/// requests beside the conversation, such as summaries and evaluations.
pub async fn collect_text(llm: &dyn Llm, request: ChatRequest) -> Result<String, LlmError> {
    use futures::StreamExt;
    let mut stream = llm.chat(request).await?;
    let mut text = String::new();
    while let Some(chunk) = stream.next().await {
        if let ChatChunk::Text(t) = chunk? {
            text.push_str(&t);
        }
    }
    Ok(text)
}
