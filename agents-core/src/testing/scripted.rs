//! Scripted LLMs: deterministic [`Llm`] implementations driven by rules or a fixed sequence.

use crate::llm::{
    ChatChunk, ChatItem, ChatRequest, ChatStream, Llm, LlmError, ToolCallRequest, Usage,
};
use futures::future::BoxFuture;
use futures::FutureExt;
use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

mod reply;
mod rule;
#[cfg(test)]
mod tests;

use reply::FixedReply;
pub use reply::Reply;
pub use rule::Rule;
use rule::{last_sent, split_request, RuleSlot};

/// The default reply after tool outputs when nothing else matches.
const DEFAULT_AFTER_TOOL: &str = "Done.";
/// The default reply otherwise.
const DEFAULT_REPLY: &str = "I'm not sure how to respond to that.";

#[derive(Default)]
struct State {
    rules: Vec<Arc<RuleSlot>>,
    queue: VecDeque<Reply>,
    fallback: Option<Reply>,
    requests: Vec<ChatRequest>,
    fail_next: VecDeque<LlmError>,
    fail_always: Option<LlmError>,
    chunk_size: Option<usize>,
}

#[derive(Default)]
struct Inner {
    state: Mutex<State>,
    next_call: AtomicU64,
}

/// A deterministic [`Llm`] for tests: it answers from rules (tried in the order added, first
/// match wins) or from a fixed sequence, and records every request.
///
/// Clones share their script and recorded requests, so keep a clone to inspect what the session
/// sent after giving the LLM away.
///
/// A reply streams its text (in word-sized chunks, or [`with_chunk_size`](Self::with_chunk_size)
/// characters), then each tool call, then a [`ChatChunk::Usage`] estimated at four characters per
/// token. When nothing matches, the LLM answers `"Done."` right after tool outputs and
/// `"I'm not sure how to respond to that."` otherwise (change it with
/// [`otherwise`](Self::otherwise)).
///
/// ```
/// use agents_core::llm::{ChatContext, ChatRequest, Llm, Role};
/// use agents_core::testing::{Reply, ScriptedLlm};
/// use futures::StreamExt;
///
/// let llm = ScriptedLlm::new().on_user("hello", Reply::text("Hi there!"));
/// let mut chat_ctx = ChatContext::new();
/// chat_ctx.add_message(Role::User, "Hello?");
/// let request = ChatRequest { chat_ctx, ..Default::default() };
/// let chunks: Vec<_> = futures::executor::block_on(async {
///     llm.chat(request).await.unwrap().collect::<Vec<_>>().await
/// });
/// assert_eq!(chunks.len(), 3); // "Hi ", "there!", usage
/// assert_eq!(llm.request_count(), 1);
/// ```
#[derive(Clone, Default)]
pub struct ScriptedLlm {
    inner: Arc<Inner>,
}

impl ScriptedLlm {
    /// A rule-based LLM with no rules yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// An LLM that plays `replies` in order, one per request, whatever the request says; after
    /// the last one, rules (if any were added) and then the fallback answer.
    pub fn sequence(replies: Vec<Reply>) -> Self {
        let llm = Self::new();
        llm.state().queue.extend(replies);
        llm
    }

    /// Adds a rule.
    pub fn rule(self, rule: Rule) -> Self {
        self.state().rules.push(Arc::new(RuleSlot {
            rule,
            fired: AtomicUsize::new(0),
        }));
        self
    }

    /// Adds a rule: answer `reply` when the user's latest message contains `pattern`
    /// (see [`Rule::on_user`]).
    pub fn on_user(self, pattern: &str, reply: Reply) -> Self {
        self.rule(Rule::on_user(pattern).reply(reply))
    }

    /// Adds a rule: answer `reply` when the reply instructions contain `pattern`
    /// (see [`Rule::on_instructions`]).
    pub fn on_instructions(self, pattern: &str, reply: Reply) -> Self {
        self.rule(Rule::on_instructions(pattern).reply(reply))
    }

    /// Adds a rule: answer `reply` right after an output of `tool_name`
    /// (see [`Rule::after_tool`]).
    pub fn after_tool(self, tool_name: &str, reply: Reply) -> Self {
        self.rule(Rule::after_tool(tool_name).reply(reply))
    }

    /// Adds a rule: answer `reply` when `predicate` holds (see [`Rule::when`]).
    pub fn when(
        self,
        predicate: impl Fn(&ChatRequest) -> bool + Send + Sync + 'static,
        reply: Reply,
    ) -> Self {
        self.rule(Rule::when(predicate).reply(reply))
    }

    /// The answer when no rule matches. Unlike rules, it is played even if it calls tools that
    /// are not offered.
    pub fn otherwise(self, reply: Reply) -> Self {
        self.state().fallback = Some(reply);
        self
    }

    /// Streams text replies in chunks of `n` characters (`0` sends the text in one chunk).
    pub fn with_chunk_size(self, n: usize) -> Self {
        self.state().chunk_size = Some(n);
        self
    }

    /// Makes every request fail with `error` (until [`recover`](Self::recover)).
    pub fn failing_with(self, error: LlmError) -> Self {
        self.state().fail_always = Some(error);
        self
    }

    /// Makes the next `n` requests fail with `error`; later requests are answered normally.
    pub fn fail_next(self, n: usize, error: LlmError) -> Self {
        self.state().fail_next.extend(std::iter::repeat_n(error, n));
        self
    }

    /// Stops failing requests (undoes [`failing_with`](Self::failing_with) and
    /// [`fail_next`](Self::fail_next)).
    pub fn recover(&self) {
        let mut state = self.state();
        state.fail_always = None;
        state.fail_next.clear();
    }

    /// Every request received so far, oldest first (failed ones included).
    pub fn requests(&self) -> Vec<ChatRequest> {
        self.state().requests.clone()
    }

    /// How many requests were received.
    pub fn request_count(&self) -> usize {
        self.state().requests.len()
    }

    /// The latest request received, if any.
    pub fn last_request(&self) -> Option<ChatRequest> {
        self.state().requests.last().cloned()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Picks the reply for `request`. User closures run without the lock held.
    fn answer(&self, request: &ChatRequest) -> Result<FixedReply, LlmError> {
        let (rules, fallback) = {
            let mut state = self.state();
            state.requests.push(request.clone());
            if let Some(e) = state.fail_next.pop_front() {
                return Err(e);
            }
            if let Some(e) = &state.fail_always {
                return Err(e.clone());
            }
            if let Some(reply) = state.queue.pop_front() {
                drop(state);
                return Ok(reply.resolve(request));
            }
            (state.rules.clone(), state.fallback.clone())
        };
        for slot in &rules {
            let rule = &slot.rule;
            if !rule.triggers(request) {
                continue;
            }
            let reply = match &rule.reply {
                Some(r) => r.resolve(request),
                None => default_reply(request),
            };
            let offered = rule.allow_unoffered
                || reply
                    .calls
                    .iter()
                    .all(|(name, _)| request.offers_tool(name));
            if offered && slot.claim() {
                return Ok(reply);
            }
        }
        Ok(match fallback {
            Some(r) => r.resolve(request),
            None => default_reply(request),
        })
    }

    fn stream_for(
        &self,
        request: &ChatRequest,
        reply: FixedReply,
    ) -> Vec<Result<ChatChunk, LlmError>> {
        let chunk_size = self.state().chunk_size;
        let mut chunks: Vec<Result<ChatChunk, LlmError>> = split_text(&reply.text, chunk_size)
            .into_iter()
            .map(|t| Ok(ChatChunk::Text(t)))
            .collect();
        let mut completion_chars = reply.text.chars().count();
        for (name, arguments) in reply.calls {
            let arguments = if arguments.is_null() {
                "{}".to_string()
            } else {
                arguments.to_string()
            };
            completion_chars += name.len() + arguments.len();
            let n = self.inner.next_call.fetch_add(1, Ordering::Relaxed) + 1;
            chunks.push(Ok(ChatChunk::ToolCall(ToolCallRequest {
                call_id: format!("call_{n}"),
                name,
                arguments,
            })));
        }
        match reply.fail {
            Some(e) => chunks.push(Err(e)),
            None => chunks.push(Ok(ChatChunk::Usage(Usage {
                prompt_tokens: tokens(prompt_chars(request)),
                completion_tokens: tokens(completion_chars),
                time_to_first_token: None,
            }))),
        }
        chunks
    }
}

impl fmt::Debug for ScriptedLlm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state();
        f.debug_struct("ScriptedLlm")
            .field(
                "rules",
                &state.rules.iter().map(|s| &s.rule).collect::<Vec<_>>(),
            )
            .field("queued", &state.queue.len())
            .field("requests", &state.requests.len())
            .finish_non_exhaustive()
    }
}

impl Llm for ScriptedLlm {
    fn chat(&self, request: ChatRequest) -> BoxFuture<'_, Result<ChatStream, LlmError>> {
        let result = self.answer(&request).map(|reply| {
            let chunks = self.stream_for(&request, reply);
            Box::pin(futures::stream::iter(chunks)) as ChatStream
        });
        futures::future::ready(result).boxed()
    }

    fn label(&self) -> String {
        "scripted".to_string()
    }
}

fn default_reply(request: &ChatRequest) -> FixedReply {
    let (body, _) = split_request(request);
    let text = match last_sent(body) {
        Some(ChatItem::FunctionCallOutput(_)) => DEFAULT_AFTER_TOOL,
        _ => DEFAULT_REPLY,
    };
    FixedReply {
        text: text.to_string(),
        ..FixedReply::default()
    }
}

/// Words with their trailing whitespace, or fixed-size character chunks.
fn split_text(text: &str, chunk_size: Option<usize>) -> Vec<String> {
    if text.is_empty() {
        return Vec::new();
    }
    match chunk_size {
        Some(0) => vec![text.to_string()],
        Some(n) => {
            let chars: Vec<char> = text.chars().collect();
            chars.chunks(n).map(|c| c.iter().collect()).collect()
        }
        None => {
            let mut chunks: Vec<String> = Vec::new();
            let mut current = String::new();
            let mut in_space = false;
            for c in text.chars() {
                if !c.is_whitespace() && in_space {
                    chunks.push(std::mem::take(&mut current));
                }
                in_space = c.is_whitespace();
                current.push(c);
            }
            if !current.is_empty() {
                chunks.push(current);
            }
            chunks
        }
    }
}

fn prompt_chars(request: &ChatRequest) -> usize {
    let items: usize = request
        .chat_ctx
        .items()
        .iter()
        .map(|i| match i {
            ChatItem::Message(m) => m.content.chars().count(),
            ChatItem::FunctionCall(c) => c.name.len() + c.arguments.len(),
            ChatItem::FunctionCallOutput(o) => o.output.chars().count(),
            ChatItem::AgentHandoff(_) => 0,
        })
        .sum();
    let tools: usize = request
        .tools
        .iter()
        .map(|t| t.name.len() + t.description.len() + t.parameters.to_string().len())
        .sum();
    items + tools
}

/// Estimated tokens: a quarter of the characters, rounded up.
fn tokens(chars: usize) -> u64 {
    chars.div_ceil(4) as u64
}
