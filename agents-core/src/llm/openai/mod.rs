//! An [`Llm`] for the OpenAI Chat Completions API and servers that speak it (vLLM, Ollama,
//! LiteLLM, Azure-style gateways, ...).
//!
//! Replies are streamed: text chunks are handed on as they arrive, tool calls once complete.
//! Failures before the first token (HTTP 429, 5xx, connection errors, timeouts) are retried with
//! exponential backoff and full jitter, honouring `Retry-After`; once tokens have been streamed
//! nothing is retried and the caller decides. Dropping the stream aborts the HTTP request.
//!
//! ```no_run
//! # async fn demo() -> Result<(), agents_core::llm::LlmError> {
//! use agents_core::llm::openai::OpenAiLlm;
//! let llm = OpenAiLlm::from_env()?; // OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_MODEL
//! let local = OpenAiLlm::builder()
//!     .base_url("http://127.0.0.1:8000/v1")
//!     .model("llama3")
//!     .build()?;
//! # Ok(()) }
//! ```

mod config;
mod retry;
mod sse;
#[cfg(test)]
mod timeout_tests;
mod wire;

pub use config::{
    OpenAiLlmBuilder, RetryNotice, DEFAULT_CONNECT_TIMEOUT, DEFAULT_IDLE_TIMEOUT,
    DEFAULT_MAX_RETRIES, DEFAULT_REQUEST_TIMEOUT, DEFAULT_TOTAL_TIMEOUT,
};

use crate::llm::{ChatRequest, ChatStream, Llm, LlmError};
use config::RetryHook;
use eventsource_stream::Eventsource;
use futures::future::BoxFuture;
use futures::StreamExt;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use retry::RetryPolicy;
use sse::ReplyStream;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Base URL used when none is configured.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
/// Model used when none is configured: small, fast and cheap, which suits conversation.
pub const DEFAULT_MODEL: &str = "gpt-4o-mini";

/// Most of an error body kept in [`LlmError::Status`], in characters.
const ERROR_BODY_CHARS: usize = 500;
/// Most of an error body read from the network, in bytes.
const ERROR_BODY_BYTES: usize = 8 * 1024;

/// An API key that never shows itself in `Debug` or `Display` output, so it cannot leak
/// through logs or error messages.
#[derive(Clone, PartialEq, Eq)]
struct ApiKey(Arc<str>);

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Removes the API key from text the server sent back (some servers echo the request) before
/// it goes into an error, and cuts the text to size.
#[derive(Clone, Default)]
pub(crate) struct Redactor(Option<Arc<str>>);

impl Redactor {
    /// The first `max_chars` characters of `text`, with the API key masked.
    pub(crate) fn excerpt(&self, text: &str, max_chars: usize) -> String {
        let masked = match &self.0 {
            Some(key) if !key.is_empty() && text.contains(&**key) => {
                std::borrow::Cow::Owned(text.replace(&**key, "***"))
            }
            _ => std::borrow::Cow::Borrowed(text),
        };
        masked.chars().take(max_chars).collect()
    }
}

/// A reqwest error with its chain of causes, which is where the useful detail lives.
pub(crate) fn describe_reqwest(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// A chat model served over the OpenAI Chat Completions streaming API.
///
/// Cheap to clone (the HTTP connection pool is shared).
#[derive(Clone)]
pub struct OpenAiLlm {
    client: reqwest::Client,
    base_url: String,
    endpoint: reqwest::Url,
    api_key: Option<ApiKey>,
    redactor: Redactor,
    model: String,
    temperature: Option<f32>,
    parallel_tool_calls: Option<bool>,
    strict_tools: bool,
    retry: RetryPolicy,
    request_timeout: Duration,
    idle_timeout: Duration,
    total_timeout: Duration,
    on_retry: Option<RetryHook>,
}

impl fmt::Debug for OpenAiLlm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiLlm")
            .field("model", &self.model)
            .field("endpoint", &self.endpoint.as_str())
            .field("api_key", &self.api_key)
            .field("temperature", &self.temperature)
            .field("parallel_tool_calls", &self.parallel_tool_calls)
            .field("strict_tools", &self.strict_tools)
            .field("retry", &self.retry)
            .field("request_timeout", &self.request_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("total_timeout", &self.total_timeout)
            .finish_non_exhaustive()
    }
}

/// Why one attempt failed, and whether another may help.
struct AttemptError {
    error: LlmError,
    retryable: bool,
    retry_after: Option<Duration>,
}

impl AttemptError {
    fn fatal(error: LlmError) -> Self {
        AttemptError {
            error,
            retryable: false,
            retry_after: None,
        }
    }

    fn retryable(error: LlmError) -> Self {
        AttemptError {
            error,
            retryable: true,
            retry_after: None,
        }
    }
}

impl OpenAiLlm {
    /// A builder with the defaults (api.openai.com, [`DEFAULT_MODEL`], no key).
    pub fn builder() -> OpenAiLlmBuilder {
        OpenAiLlmBuilder::default()
    }

    /// A model configured from the environment. The key may be absent when `OPENAI_BASE_URL`
    /// points somewhere other than api.openai.com (e.g. a local server).
    pub fn from_env() -> Result<Self, LlmError> {
        Self::builder().from_env().build()
    }

    /// The model name sent with each request.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The API root requests go to (without `/chat/completions`).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The encoded request body and its number of messages and tools.
    fn request_body(
        &self,
        request: &ChatRequest,
    ) -> Result<(bytes::Bytes, usize, usize), LlmError> {
        let tools: Vec<wire::Tool> = request
            .tools
            .iter()
            .map(|t| wire::tool(t, self.strict_tools))
            .collect();
        let has_tools = !tools.is_empty();
        let tool_count = tools.len();
        let head = wire::RequestHead {
            model: &self.model,
            stream: true,
            stream_options: wire::StreamOptions {
                include_usage: true,
            },
            temperature: request.temperature.or(self.temperature),
            tool_choice: has_tools.then(|| wire::tool_choice(&request.tool_choice)),
            parallel_tool_calls: if has_tools {
                request.parallel_tool_calls.or(self.parallel_tool_calls)
            } else {
                None
            },
            tools,
        };
        let head = serde_json::to_vec(&head)
            .map_err(|e| LlmError::Other(format!("could not encode the request: {e}")))?;
        let (body, message_count) = wire::encode_body(&head, &request.chat_ctx);
        Ok((body, message_count, tool_count))
    }

    async fn stream_chat(&self, request: ChatRequest) -> Result<ChatStream, LlmError> {
        // Encoded once; retries share the bytes instead of copying them.
        let (body, message_count, tool_count) = self.request_body(&request)?;
        tracing::debug!(
            model = %self.model,
            messages = message_count,
            tools = tool_count,
            endpoint = %self.endpoint,
            "sending chat completion request"
        );
        let started = Instant::now();
        let deadline = tokio::time::Instant::now() + self.total_timeout;
        let mut retry = 0;
        loop {
            let failed = match tokio::time::timeout_at(
                deadline,
                self.attempt(body.clone(), started),
            )
            .await
            {
                Ok(Ok(reply)) => return Ok(reply.into_stream()),
                Ok(Err(failed)) => failed,
                Err(_) => {
                    let error = LlmError::Connection(format!(
                        "no reply within the total timeout of {} ms ({} attempts)",
                        self.total_timeout.as_millis(),
                        retry + 1
                    ));
                    tracing::warn!(model = %self.model, %error, "LLM request timed out");
                    return Err(error);
                }
            };
            let delay = self.retry.delay(retry, failed.retry_after);
            let in_time = tokio::time::Instant::now() + delay < deadline;
            if !(failed.retryable && retry < self.retry.max_retries && in_time) {
                tracing::debug!(model = %self.model, error = %failed.error, "LLM request failed");
                return Err(failed.error);
            }
            retry += 1;
            tracing::warn!(
                model = %self.model,
                retry,
                max_retries = self.retry.max_retries,
                delay_ms = delay.as_millis() as u64,
                error = %failed.error,
                "LLM request failed before the first token; retrying"
            );
            if let Some(hook) = &self.on_retry {
                (hook.0)(&RetryNotice {
                    retry,
                    max_retries: self.retry.max_retries,
                    delay,
                    error: failed.error,
                });
            }
            tokio::time::sleep(delay).await;
        }
    }

    /// Sends the request once and reads up to the first token.
    async fn attempt(
        &self,
        body: bytes::Bytes,
        started: Instant,
    ) -> Result<ReplyStream, AttemptError> {
        let send = self
            .client
            .post(self.endpoint.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "text/event-stream")
            .body(body)
            .send();
        let response = match tokio::time::timeout(self.request_timeout, send).await {
            Err(_) => {
                return Err(AttemptError::retryable(LlmError::Connection(format!(
                    "no response within {} ms",
                    self.request_timeout.as_millis()
                ))))
            }
            Ok(Err(e)) if e.is_builder() => {
                return Err(AttemptError::fatal(LlmError::Config(describe_reqwest(&e))))
            }
            Ok(Err(e)) => {
                return Err(AttemptError::retryable(LlmError::Connection(
                    describe_reqwest(&e),
                )))
            }
            Ok(Ok(response)) => response,
        };

        let status = response.status();
        if !status.is_success() {
            let retry_after = retry::retry_after(response.headers());
            let retryable = status.as_u16() == 429 || status.is_server_error();
            let body = self.read_body_excerpt(response).await;
            return Err(AttemptError {
                error: LlmError::Status {
                    status: status.as_u16(),
                    body,
                    retryable,
                },
                retryable,
                retry_after,
            });
        }
        let is_json = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.trim()
                    .to_ascii_lowercase()
                    .starts_with("application/json")
            });
        if is_json {
            let body = self.read_body_excerpt(response).await;
            return Err(AttemptError::fatal(LlmError::Protocol(format!(
                "expected an event stream but got JSON (is streaming supported?): {body}"
            ))));
        }

        let events = strip_bom(response.bytes_stream()).eventsource().boxed();
        let mut reply = ReplyStream::new(events, self.idle_timeout, started, self.redactor.clone());
        while !reply.ready() {
            if let Err(failure) = reply.step().await {
                let retryable = failure.retryable_before_first_token();
                return Err(AttemptError {
                    error: failure.before_first_token(),
                    retryable,
                    retry_after: None,
                });
            }
        }
        Ok(reply)
    }

    /// The start of a (non-streamed) body, masked and cut to size; best effort, time-bounded.
    async fn read_body_excerpt(&self, mut response: reqwest::Response) -> String {
        let mut bytes = Vec::new();
        let read = async {
            while bytes.len() < ERROR_BODY_BYTES {
                match response.chunk().await {
                    Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
                    Ok(None) | Err(_) => break,
                }
            }
        };
        // A body that does not arrive in time is reported as far as it got.
        let _ = tokio::time::timeout(self.request_timeout, read).await;
        let text = String::from_utf8_lossy(&bytes);
        self.redactor.excerpt(text.trim(), ERROR_BODY_CHARS)
    }
}

impl Llm for OpenAiLlm {
    fn chat(&self, request: ChatRequest) -> BoxFuture<'_, Result<ChatStream, LlmError>> {
        Box::pin(self.stream_chat(request))
    }

    fn label(&self) -> String {
        self.model.clone()
    }
}

/// Drops a UTF-8 byte order mark at the very start of the body. Some servers send one, and the SSE
/// parser slices it as if it were one byte long and panics.
fn strip_bom<S, E>(body: S) -> impl futures::Stream<Item = Result<bytes::Bytes, E>>
where
    S: futures::Stream<Item = Result<bytes::Bytes, E>>,
{
    const BOM: &[u8] = b"\xEF\xBB\xBF";
    let mut head: Option<Vec<u8>> = Some(Vec::new());
    body.filter_map(move |chunk| {
        let out = match chunk {
            Err(e) => Some(Err(e)),
            Ok(bytes) => match head.as_mut() {
                None => Some(Ok(bytes)),
                Some(buf) => {
                    buf.extend_from_slice(&bytes);
                    if buf.len() < BOM.len() && BOM.starts_with(buf) {
                        None // wait for the rest of a possible BOM
                    } else {
                        let buf = head.take().unwrap_or_default();
                        let rest = buf.strip_prefix(BOM).unwrap_or(&buf).to_vec();
                        Some(Ok(bytes::Bytes::from(rest)))
                    }
                }
            },
        };
        futures::future::ready(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redactor_masks_then_cuts() {
        let r = Redactor(Some("sk-abc".into()));
        assert_eq!(r.excerpt("bad key sk-abc!", 100), "bad key ***!");
        assert_eq!(r.excerpt("ééé", 2), "éé");
        assert_eq!(Redactor::default().excerpt("sk-abc", 3), "sk-");
    }
}
