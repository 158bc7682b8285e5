//! Turns the server-sent events of a streamed completion into [`ChatChunk`]s.
//!
//! Text is passed on as it arrives; tool-call fragments are accumulated and released whole when
//! the choice finishes, at `[DONE]`, or at a clean end of the body.

use super::wire::{self, Chunk, ToolCallDelta};
use super::Redactor;
use crate::llm::chat_context::new_id;
use crate::llm::{ChatChunk, ChatStream, LlmError, ToolCallRequest, Usage};
use eventsource_stream::{Event, EventStreamError};
use futures::stream::BoxStream;
use futures::StreamExt;
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// The raw event stream over the response body.
pub(crate) type Events = BoxStream<'static, Result<Event, EventStreamError<reqwest::Error>>>;

/// Why reading the stream failed; the caller maps it to an [`LlmError`] depending on whether
/// any token had arrived yet.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The body broke off (connection reset, truncated chunked encoding, ...).
    Transport(String),
    /// No event within the idle timeout.
    Idle(Duration),
    /// The server sent something that is not a valid chunk.
    Protocol(String),
    /// The server reported an error inside the stream.
    Provider(String),
}

impl Failure {
    /// Whether the request may be retried when this happens before the first token.
    pub fn retryable_before_first_token(&self) -> bool {
        matches!(self, Failure::Transport(_) | Failure::Idle(_))
    }

    /// The error to report before the first token (after retries are exhausted).
    pub fn before_first_token(self) -> LlmError {
        match self {
            Failure::Transport(e) => {
                LlmError::Connection(format!("response broke off before any token: {e}"))
            }
            Failure::Idle(d) => LlmError::Connection(format!(
                "idle: no data for {} ms before the first token",
                d.as_millis()
            )),
            Failure::Protocol(e) => LlmError::Protocol(e),
            Failure::Provider(e) => LlmError::Stream(format!("provider error: {e}")),
        }
    }

    /// The error to report once tokens have been streamed; never retried.
    pub fn after_first_token(self) -> LlmError {
        match self {
            Failure::Transport(e) => LlmError::Stream(format!("connection lost mid-reply: {e}")),
            Failure::Idle(d) => LlmError::Stream(format!(
                "idle: no data for {} ms in the middle of the reply",
                d.as_millis()
            )),
            Failure::Protocol(e) => LlmError::Protocol(e),
            Failure::Provider(e) => LlmError::Stream(format!("provider error: {e}")),
        }
    }
}

/// Reading state of one streamed reply.
pub(crate) struct ReplyStream {
    events: Events,
    idle_timeout: Duration,
    started: Instant,
    redactor: Redactor,
    pending: VecDeque<ChatChunk>,
    calls: ToolCalls,
    usage: Option<(u64, u64)>,
    ttft: Option<Duration>,
    saw_event: bool,
    saw_finish: bool,
    saw_done_marker: bool,
    at_eof: bool,
    done: bool,
}

impl ReplyStream {
    /// Starts reading `events`; `started` is when the first attempt was sent (for TTFT).
    pub fn new(
        events: Events,
        idle_timeout: Duration,
        started: Instant,
        redactor: Redactor,
    ) -> Self {
        ReplyStream {
            events,
            idle_timeout,
            started,
            redactor,
            pending: VecDeque::new(),
            calls: ToolCalls::default(),
            usage: None,
            ttft: None,
            saw_event: false,
            saw_finish: false,
            saw_done_marker: false,
            at_eof: false,
            done: false,
        }
    }

    /// Whether a content or tool-call delta has arrived, after which failures are not retried.
    pub fn has_first_token(&self) -> bool {
        self.ttft.is_some()
    }

    /// Whether there is something to hand out or nothing more to read.
    pub fn ready(&self) -> bool {
        self.has_first_token() || self.done || !self.pending.is_empty()
    }

    /// Reads and handles one event.
    pub async fn step(&mut self) -> Result<(), Failure> {
        let next = match tokio::time::timeout(self.idle_timeout, self.events.next()).await {
            Ok(next) => next,
            Err(_) => return Err(Failure::Idle(self.idle_timeout)),
        };
        match next {
            Some(Ok(event)) => self.handle_event(&event),
            Some(Err(EventStreamError::Transport(e))) => {
                Err(Failure::Transport(super::describe_reqwest(&e)))
            }
            Some(Err(e)) => Err(Failure::Protocol(format!("malformed event stream: {e}"))),
            None => self.handle_eof(),
        }
    }

    fn handle_eof(&mut self) -> Result<(), Failure> {
        self.at_eof = true;
        if !self.saw_event {
            return Err(Failure::Protocol(
                "the response ended without any server-sent event; is this an OpenAI-compatible \
                 streaming endpoint?"
                    .into(),
            ));
        }
        if !self.saw_finish {
            tracing::debug!("stream ended without finish_reason or [DONE]; flushing what arrived");
        }
        self.finish();
        Ok(())
    }

    fn handle_event(&mut self, event: &Event) -> Result<(), Failure> {
        self.saw_event = true;
        let data = event.data.trim();
        if event.event == "error" {
            let message = serde_json::from_str::<Value>(data)
                .map(|v| wire::error_message(v.get("error").unwrap_or(&v)))
                .unwrap_or_else(|_| data.to_string());
            return Err(Failure::Provider(self.redactor.excerpt(&message, 500)));
        }
        if data.is_empty() {
            return Ok(());
        }
        if data == "[DONE]" {
            self.saw_done_marker = true;
            self.finish();
            return Ok(());
        }
        let chunk: Chunk = serde_json::from_str(data).map_err(|e| {
            Failure::Protocol(format!(
                "invalid chunk ({e}): {}",
                self.redactor.excerpt(data, 200)
            ))
        })?;
        if let Some(error) = chunk.error.as_ref().filter(|e| !e.is_null()) {
            let message = wire::error_message(error);
            return Err(Failure::Provider(self.redactor.excerpt(&message, 500)));
        }
        if let Some(u) = chunk.usage {
            self.usage = Some((
                u.prompt_tokens.unwrap_or(0),
                u.completion_tokens.unwrap_or(0),
            ));
        }
        for choice in chunk.choices.unwrap_or_default() {
            // Only the first choice is used (`n` is never set above 1).
            if choice.index.as_ref().and_then(wire::as_index).unwrap_or(0) != 0 {
                continue;
            }
            if let Some(delta) = choice.delta {
                let mut text = delta
                    .content
                    .as_ref()
                    .map(wire::content_text)
                    .unwrap_or_default();
                if let Some(refusal) = delta.refusal.as_ref() {
                    text.push_str(&wire::content_text(refusal));
                }
                if !text.is_empty() {
                    self.mark_first_token();
                    self.pending.push_back(ChatChunk::Text(text));
                }
                for call in delta.tool_calls.unwrap_or_default() {
                    self.mark_first_token();
                    self.calls.apply(call);
                }
            }
            if choice.finish_reason.as_ref().is_some_and(|f| !f.is_null()) {
                self.saw_finish = true;
                self.flush_calls();
            }
        }
        Ok(())
    }

    fn mark_first_token(&mut self) {
        if self.ttft.is_none() {
            self.ttft = Some(self.started.elapsed());
        }
    }

    fn flush_calls(&mut self) {
        for call in self.calls.take() {
            self.pending.push_back(ChatChunk::ToolCall(call));
        }
    }

    fn finish(&mut self) {
        self.saw_finish = true;
        self.flush_calls();
        if let Some((prompt_tokens, completion_tokens)) = self.usage.take() {
            self.pending.push_back(ChatChunk::Usage(Usage {
                prompt_tokens,
                completion_tokens,
                time_to_first_token: self.ttft,
            }));
        }
        self.done = true;
    }

    /// The stream handed to the caller. Dropping it drops the response body, which closes the
    /// connection.
    pub fn into_stream(self) -> ChatStream {
        futures::stream::unfold(Some(self), |state| async move {
            let mut s = state?;
            loop {
                if let Some(chunk) = s.pending.pop_front() {
                    return Some((Ok(chunk), Some(s)));
                }
                if s.done {
                    return None;
                }
                if let Err(failure) = s.step().await {
                    let error = if s.has_first_token() {
                        failure.after_first_token()
                    } else {
                        failure.before_first_token()
                    };
                    tracing::debug!(error = %error, "LLM stream failed");
                    return Some((Err(error), None));
                }
            }
        })
        .boxed()
    }
}

/// How long the rest of a finished body may take to arrive before the connection is given up.
const DRAIN_GRACE: Duration = Duration::from_secs(1);

impl Drop for ReplyStream {
    /// After `[DONE]` the body's end may still be on its way; reading it in the background lets
    /// the connection return to the pool (saving a TLS handshake on the next turn) without
    /// making the caller wait. Unfinished replies are not drained: dropping them aborts.
    fn drop(&mut self) {
        if !self.saw_done_marker || self.at_eof {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let mut events = std::mem::replace(&mut self.events, futures::stream::empty().boxed());
        runtime.spawn(async move {
            let drain = async { while let Some(Ok(_)) = events.next().await {} };
            let _ = tokio::time::timeout(DRAIN_GRACE, drain).await;
        });
    }
}

/// Accumulates tool-call fragments.
#[derive(Debug, Default)]
struct ToolCalls {
    /// Calls in order of first appearance.
    calls: Vec<PartialCall>,
    /// Wire index → position in `calls` of the latest call with that index.
    by_index: HashMap<u64, usize>,
    /// The call the last fragment went to.
    last: Option<usize>,
}

#[derive(Debug, Default)]
struct PartialCall {
    id: String,
    name: String,
    arguments: String,
}

impl ToolCalls {
    fn start(&mut self, index: Option<u64>) -> usize {
        self.calls.push(PartialCall::default());
        let pos = self.calls.len() - 1;
        if let Some(i) = index {
            self.by_index.insert(i, pos);
        }
        pos
    }

    /// Adds one fragment. A fragment without `index` continues the last call unless it carries
    /// a new `id`; a fragment whose `id` differs from the one its index had starts a new call
    /// (some servers reuse index 0 for every parallel call).
    fn apply(&mut self, delta: ToolCallDelta) {
        let id = delta.id.as_ref().and_then(wire::as_text);
        let index = delta.index.as_ref().and_then(wire::as_index);
        let differs = |call: &PartialCall| {
            id.as_ref()
                .is_some_and(|id| !call.id.is_empty() && call.id != *id)
        };
        let pos = match index {
            Some(i) => match self.by_index.get(&i) {
                Some(&p) if !differs(&self.calls[p]) => p,
                _ => self.start(Some(i)),
            },
            None => match self.last {
                Some(p) if !differs(&self.calls[p]) => p,
                _ => self.start(None),
            },
        };
        self.last = Some(pos);
        let call = &mut self.calls[pos];
        if let Some(id) = id {
            call.id = id;
        }
        let Some(function) = delta.function else {
            return;
        };
        if let Some(name) = function.name.as_ref().and_then(wire::as_text) {
            // Most servers send the name once; some repeat it in every fragment.
            if call.name.is_empty() {
                call.name = name;
            } else if call.name != name {
                call.name.push_str(&name);
            }
        }
        match function.arguments {
            None | Some(Value::Null) => {}
            Some(Value::String(fragment)) => call.arguments.push_str(&fragment),
            // Whole arguments sent as a JSON value: it replaces what came before.
            Some(other) => call.arguments = other.to_string(),
        }
    }

    /// The complete calls so far, in order, leaving the accumulator empty.
    fn take(&mut self) -> Vec<ToolCallRequest> {
        self.by_index.clear();
        self.last = None;
        std::mem::take(&mut self.calls)
            .into_iter()
            .filter_map(|c| {
                if c.name.is_empty() {
                    tracing::warn!(call_id = %c.id, "dropping a streamed tool call without a name");
                    return None;
                }
                let arguments = if c.arguments.trim().is_empty() {
                    "{}".to_string()
                } else {
                    c.arguments
                };
                Some(ToolCallRequest {
                    call_id: if c.id.is_empty() {
                        new_id("call")
                    } else {
                        c.id
                    },
                    name: c.name,
                    arguments,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn delta(v: Value) -> ToolCallDelta {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn reused_index_with_new_id_starts_a_new_call() {
        let mut calls = ToolCalls::default();
        calls.apply(delta(
            json!({"index": 0, "id": "a", "function": {"name": "x", "arguments": "{}"}}),
        ));
        calls.apply(delta(
            json!({"index": 0, "id": "b", "function": {"name": "y", "arguments": ""}}),
        ));
        calls.apply(delta(
            json!({"index": 0, "function": {"arguments": "{\"k\":1}"}}),
        ));
        let out = calls.take();
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].arguments, "{}");
        assert_eq!(
            (out[1].name.as_str(), out[1].arguments.as_str()),
            ("y", "{\"k\":1}")
        );
    }

    #[test]
    fn nameless_calls_are_dropped_and_ids_synthesised() {
        let mut calls = ToolCalls::default();
        calls.apply(delta(json!({"function": {"arguments": "{}"}})));
        assert!(calls.take().is_empty());
        calls.apply(delta(json!({"function": {"name": "n"}})));
        let out = calls.take();
        assert!(out[0].call_id.starts_with("call_"));
        assert_eq!(out[0].arguments, "{}");
    }
}
