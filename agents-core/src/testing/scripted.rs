//! Scripted LLMs: deterministic [`Llm`] implementations driven by rules or a fixed sequence.

use crate::llm::{
    ChatChunk, ChatItem, ChatRequest, ChatStream, Llm, LlmError, Role, ToolCallRequest, Usage,
};
use futures::future::BoxFuture;
use futures::FutureExt;
use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

type Predicate = Arc<dyn Fn(&ChatRequest) -> bool + Send + Sync>;
type ReplyFn = Arc<dyn Fn(&ChatRequest) -> Reply + Send + Sync>;

/// The default reply after tool outputs when nothing else matches.
const DEFAULT_AFTER_TOOL: &str = "Done.";
/// The default reply otherwise.
const DEFAULT_REPLY: &str = "I'm not sure how to respond to that.";

/// What a [`ScriptedLlm`] answers: text, tool calls, or both (text first).
///
/// ```
/// use agents_core::testing::Reply;
/// use serde_json::json;
///
/// let greet = Reply::text("Hello! How can I help?");
/// let book = Reply::text("Let me book that.").and_call("book", json!({"day": "monday"}));
/// let both = Reply::calls(vec![("lookup", json!({"id": 1})), ("lookup", json!({"id": 2}))]);
/// let echo = Reply::dynamic(|req| {
///     Reply::text(format!("You said: {}", req.last_user_text().unwrap_or_default()))
/// });
/// # let _ = (greet, book, both, echo);
/// ```
#[derive(Clone)]
pub struct Reply {
    kind: ReplyKind,
}

#[derive(Clone)]
enum ReplyKind {
    Fixed(FixedReply),
    Dynamic(ReplyFn),
}

#[derive(Clone, Debug, Default)]
struct FixedReply {
    text: String,
    calls: Vec<(String, serde_json::Value)>,
    fail: Option<LlmError>,
}

impl Reply {
    /// A text reply.
    pub fn text(text: impl Into<String>) -> Self {
        Self::fixed(FixedReply {
            text: text.into(),
            ..FixedReply::default()
        })
    }

    /// One tool call. Its call id is generated (`call_<n>`); `null` arguments are sent as `{}`.
    pub fn call(name: impl Into<String>, arguments: serde_json::Value) -> Self {
        Self::calls([(name, arguments)])
    }

    /// Several tool calls in one reply (parallel calls), in the given order.
    pub fn calls<N: Into<String>>(calls: impl IntoIterator<Item = (N, serde_json::Value)>) -> Self {
        Self::fixed(FixedReply {
            calls: calls.into_iter().map(|(n, a)| (n.into(), a)).collect(),
            ..FixedReply::default()
        })
    }

    /// A reply computed from the request when it is played.
    pub fn dynamic(f: impl Fn(&ChatRequest) -> Reply + Send + Sync + 'static) -> Self {
        Reply {
            kind: ReplyKind::Dynamic(Arc::new(f)),
        }
    }

    /// The same reply with its text replaced by `text` (streamed before the calls).
    pub fn with_text(self, text: impl Into<String>) -> Self {
        let text = text.into();
        self.map(move |mut r| {
            r.text = text.clone();
            r
        })
    }

    /// The same reply with one more tool call after the existing ones.
    pub fn and_call(self, name: impl Into<String>, arguments: serde_json::Value) -> Self {
        let name = name.into();
        self.map(move |mut r| {
            r.calls.push((name.clone(), arguments.clone()));
            r
        })
    }

    /// The same reply, but the stream fails with `error` after the text and calls (no usage is
    /// sent). Use it to test replies cut off mid-stream.
    pub fn then_fail(self, error: LlmError) -> Self {
        self.map(move |mut r| {
            r.fail = Some(error.clone());
            r
        })
    }

    /// The names of the tools this reply calls, or `None` for a dynamic reply.
    pub fn tool_names(&self) -> Option<Vec<&str>> {
        match &self.kind {
            ReplyKind::Fixed(f) => Some(f.calls.iter().map(|(n, _)| n.as_str()).collect()),
            ReplyKind::Dynamic(_) => None,
        }
    }

    fn fixed(reply: FixedReply) -> Self {
        Reply {
            kind: ReplyKind::Fixed(reply),
        }
    }

    fn map(self, g: impl Fn(FixedReply) -> FixedReply + Send + Sync + 'static) -> Self {
        match self.kind {
            ReplyKind::Fixed(f) => Self::fixed(g(f)),
            ReplyKind::Dynamic(f) => Reply::dynamic(move |req| {
                let inner = f(req).resolve(req);
                Self::fixed(g(inner))
            }),
        }
    }

    /// The concrete reply for `request`, evaluating dynamic replies.
    fn resolve(&self, request: &ChatRequest) -> FixedReply {
        let mut reply = self.clone();
        loop {
            match reply.kind {
                ReplyKind::Fixed(f) => return f,
                ReplyKind::Dynamic(f) => reply = f(request),
            }
        }
    }
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ReplyKind::Fixed(r) => f
                .debug_struct("Reply")
                .field("text", &r.text)
                .field("calls", &r.calls)
                .field("fail", &r.fail)
                .finish(),
            ReplyKind::Dynamic(_) => f.write_str("Reply::dynamic(..)"),
        }
    }
}

#[derive(Clone)]
enum Trigger {
    User(String),
    Instructions(String),
    AfterTool(String),
    When(Predicate),
}

impl fmt::Debug for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Trigger::User(p) => write!(f, "on_user({p:?})"),
            Trigger::Instructions(p) => write!(f, "on_instructions({p:?})"),
            Trigger::AfterTool(t) => write!(f, "after_tool({t:?})"),
            Trigger::When(_) => f.write_str("when(..)"),
        }
    }
}

/// A rule of a [`ScriptedLlm`]: when it fires and what it replies.
///
/// A rule whose reply calls tools fires only when every one of those tools is offered in the
/// request, so a rule for a task's tool stays quiet while another agent is in control (opt out
/// with [`Rule::allow_unoffered_tools`]). A rule without [`Rule::reply`] answers with the default
/// reply.
///
/// ```
/// use agents_core::testing::{Reply, Rule, ScriptedLlm};
/// use serde_json::json;
///
/// let llm = ScriptedLlm::new()
///     .rule(Rule::on_user("yes").reply(Reply::call("consent_given", json!({}))).times(1))
///     .rule(Rule::after_tool("consent_given").reply(Reply::text("Thanks!")));
/// # let _ = llm;
/// ```
#[derive(Clone, Debug)]
pub struct Rule {
    trigger: Trigger,
    reply: Option<Reply>,
    times: Option<usize>,
    required_tools: Vec<String>,
    allow_unoffered: bool,
}

impl Rule {
    fn new(trigger: Trigger) -> Self {
        Rule {
            trigger,
            reply: None,
            times: None,
            required_tools: Vec::new(),
            allow_unoffered: false,
        }
    }

    /// Fires when the request is fresh from the user: its last item (after any trailing
    /// reply instructions) is a user message containing `pattern`, ignoring case.
    pub fn on_user(pattern: &str) -> Self {
        Self::new(Trigger::User(pattern.to_lowercase()))
    }

    /// Fires when the request ends with reply instructions (the system message the session
    /// appends for `generate_reply(instructions)`) containing `pattern`, ignoring case.
    ///
    /// The agent's own instructions (the first item) never count. When tools are offered, the
    /// rule does not fire on the step right after tool outputs, so a rule that calls a tool does
    /// not loop; use [`Rule::after_tool`] for that step. A speech-only reply (no tools offered,
    /// as from a hook) is always fresh.
    pub fn on_instructions(pattern: &str) -> Self {
        Self::new(Trigger::Instructions(pattern.to_lowercase()))
    }

    /// Fires right after an output of the tool `tool_name`: the request's last item (after any
    /// trailing reply instructions) is a tool output, and the outputs of that step include one of
    /// `tool_name`.
    pub fn after_tool(tool_name: &str) -> Self {
        Self::new(Trigger::AfterTool(tool_name.to_string()))
    }

    /// Fires when `predicate` returns true for the request.
    pub fn when(predicate: impl Fn(&ChatRequest) -> bool + Send + Sync + 'static) -> Self {
        Self::new(Trigger::When(Arc::new(predicate)))
    }

    /// What the rule replies.
    pub fn reply(mut self, reply: Reply) -> Self {
        self.reply = Some(reply);
        self
    }

    /// Fires at most `n` times.
    pub fn times(mut self, n: usize) -> Self {
        self.times = Some(n);
        self
    }

    /// Fires only when a tool named `name` is offered in the request.
    pub fn if_tool_offered(mut self, name: &str) -> Self {
        self.required_tools.push(name.to_string());
        self
    }

    /// Lets the rule call tools that are not offered (to test how unknown tools are handled).
    pub fn allow_unoffered_tools(mut self) -> Self {
        self.allow_unoffered = true;
        self
    }

    fn triggers(&self, request: &ChatRequest) -> bool {
        if !self.required_tools.iter().all(|t| request.offers_tool(t)) {
            return false;
        }
        let (body, instructions) = split_request(request);
        match &self.trigger {
            Trigger::User(pattern) => matches!(
                last_sent(body),
                Some(ChatItem::Message(m)) if m.role == Role::User && contains_ci(&m.content, pattern)
            ),
            Trigger::Instructions(pattern) => {
                !instructions.is_empty()
                    && (request.tools.is_empty()
                        || !matches!(last_sent(body), Some(ChatItem::FunctionCallOutput(_))))
                    && instructions
                        .iter()
                        .filter_map(ChatItem::as_message)
                        .any(|m| contains_ci(&m.content, pattern))
            }
            Trigger::AfterTool(tool) => {
                matches!(last_sent(body), Some(ChatItem::FunctionCallOutput(_)))
                    && body
                        .iter()
                        .rev()
                        .take_while(|i| {
                            matches!(
                                i,
                                ChatItem::FunctionCall(_)
                                    | ChatItem::FunctionCallOutput(_)
                                    | ChatItem::AgentHandoff(_)
                            )
                        })
                        .any(|i| matches!(i, ChatItem::FunctionCallOutput(o) if &o.name == tool))
            }
            Trigger::When(predicate) => predicate(request),
        }
    }
}

struct RuleSlot {
    rule: Rule,
    fired: AtomicUsize,
}

impl RuleSlot {
    /// Takes one use of the rule; false when it is used up.
    fn claim(&self) -> bool {
        match self.rule.times {
            None => {
                self.fired.fetch_add(1, Ordering::SeqCst);
                true
            }
            Some(max) => self
                .fired
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                    (n < max).then_some(n + 1)
                })
                .is_ok(),
        }
    }
}

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

/// Splits the request into the conversation and the trailing reply instructions (system or
/// developer messages at the end, not counting the agent's own instructions at the start).
fn split_request(request: &ChatRequest) -> (&[ChatItem], &[ChatItem]) {
    let items = request.chat_ctx.items();
    let is_instructions = |i: &ChatItem| matches!(i, ChatItem::Message(m) if matches!(m.role, Role::System | Role::Developer));
    let mut start = items.len();
    while start > 0 && is_instructions(&items[start - 1]) {
        start -= 1;
    }
    // The first item is the agent's own instructions when it is followed by more, or carries the
    // session's instructions id; only a lone ad-hoc system message counts as reply instructions.
    if start == 0
        && !items.is_empty()
        && (items.len() > 1 || items[0].id().ends_with(".instructions"))
    {
        start = 1;
    }
    items.split_at(start)
}

/// The last item a provider sends to the model: handoffs are records of the session, not part
/// of any request on the wire, so the script does not see them either.
fn last_sent(body: &[ChatItem]) -> Option<&ChatItem> {
    body.iter()
        .rev()
        .find(|i| !matches!(i, ChatItem::AgentHandoff(_)))
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

fn contains_ci(haystack: &str, lowercase_needle: &str) -> bool {
    haystack.to_lowercase().contains(lowercase_needle)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::{ChatContext, ChatMessage, FunctionCall, FunctionCallOutput, ToolChoice};
    use crate::tools::ToolDefinition;
    use futures::StreamExt;
    use serde_json::json;

    struct Req {
        ctx: ChatContext,
        tools: Vec<Arc<ToolDefinition>>,
    }

    impl Req {
        fn new() -> Self {
            let mut ctx = ChatContext::new();
            let mut msg = ChatMessage::new(Role::System, "You are a booking agent.");
            msg.id = "booking.instructions".into();
            ctx.push(msg);
            Req {
                ctx,
                tools: Vec::new(),
            }
        }
        fn user(mut self, text: &str) -> Self {
            self.ctx.add_message(Role::User, text);
            self
        }
        fn assistant(mut self, text: &str) -> Self {
            self.ctx.add_message(Role::Assistant, text);
            self
        }
        fn system(mut self, text: &str) -> Self {
            self.ctx.add_message(Role::System, text);
            self
        }
        fn tool_round(mut self, name: &str, output: &str) -> Self {
            let call = FunctionCall::new(crate::llm::chat_context::new_id("c"), name, "{}");
            self.ctx.push(call.clone());
            self.ctx.push(FunctionCallOutput::new(&call, output, false));
            self
        }
        fn offer(mut self, name: &str) -> Self {
            self.tools.push(Arc::new(ToolDefinition::new(
                name.to_string(),
                "a tool",
                json!({"type": "object", "properties": {}}),
            )));
            self
        }
        fn build(self) -> ChatRequest {
            ChatRequest {
                chat_ctx: self.ctx,
                tools: self.tools,
                tool_choice: ToolChoice::Auto,
                ..Default::default()
            }
        }
    }

    fn run(llm: &ScriptedLlm, request: ChatRequest) -> Result<Vec<ChatChunk>, LlmError> {
        futures::executor::block_on(async {
            let stream = llm.chat(request).await?;
            stream.collect::<Vec<_>>().await.into_iter().collect()
        })
    }

    /// The text and call names of a reply.
    fn answer(llm: &ScriptedLlm, request: ChatRequest) -> (String, Vec<String>) {
        let chunks = run(llm, request).expect("reply");
        let mut text = String::new();
        let mut calls = Vec::new();
        for c in chunks {
            match c {
                ChatChunk::Text(t) => text.push_str(&t),
                ChatChunk::ToolCall(c) => calls.push(c.name),
                ChatChunk::Usage(_) => {}
            }
        }
        (text, calls)
    }

    fn text(llm: &ScriptedLlm, request: ChatRequest) -> String {
        answer(llm, request).0
    }

    #[test]
    fn on_user_matches_latest_user_message_ignoring_case() {
        let llm = ScriptedLlm::new()
            .on_user("book", Reply::text("Booking."))
            .on_user("hello", Reply::text("Hi!"));
        assert_eq!(text(&llm, Req::new().user("HeLLo there").build()), "Hi!");
        assert_eq!(
            text(
                &llm,
                Req::new().user("hello").user("I want to BOOK").build()
            ),
            "Booking."
        );
        // Trailing reply instructions are ignored.
        assert_eq!(
            text(&llm, Req::new().user("hello").system("be brief").build()),
            "Hi!"
        );
        // Not fresh from the user: an assistant message or a tool output came after.
        assert_eq!(
            text(&llm, Req::new().user("hello").assistant("Hi!").build()),
            DEFAULT_REPLY
        );
        assert_eq!(
            text(&llm, Req::new().user("hello").tool_round("t", "ok").build()),
            DEFAULT_AFTER_TOOL
        );
    }

    #[test]
    fn first_match_wins_in_order_added() {
        let llm = ScriptedLlm::new()
            .on_user("a", Reply::text("first"))
            .on_user("ab", Reply::text("second"));
        assert_eq!(text(&llm, Req::new().user("ab").build()), "first");
    }

    #[test]
    fn after_tool_matches_outputs_of_the_last_step() {
        let llm = ScriptedLlm::new()
            .after_tool("lookup", Reply::text("Found it."))
            .on_user("hi", Reply::text("Hello"));
        assert_eq!(
            text(
                &llm,
                Req::new().user("hi").tool_round("lookup", "x").build()
            ),
            "Found it."
        );
        // Parallel calls: the lookup output is not the last one but belongs to the same step.
        let req = Req::new()
            .user("hi")
            .tool_round("lookup", "x")
            .tool_round("other", "y")
            .build();
        assert_eq!(text(&llm, req), "Found it.");
        // With trailing instructions after the outputs.
        let req = Req::new()
            .user("hi")
            .tool_round("lookup", "x")
            .system("greet")
            .build();
        assert_eq!(text(&llm, req), "Found it.");
        // An older lookup output followed by a later step does not count.
        let req = Req::new()
            .tool_round("lookup", "x")
            .assistant("ok")
            .user("and?")
            .tool_round("other", "y")
            .build();
        assert_eq!(text(&llm, req), DEFAULT_AFTER_TOOL);
        // A user message last: on_user, not after_tool.
        let req = Req::new().tool_round("lookup", "x").user("hi").build();
        assert_eq!(text(&llm, req), "Hello");
    }

    #[test]
    fn on_instructions_uses_only_trailing_reply_instructions() {
        let llm = ScriptedLlm::new()
            .on_instructions("greet", Reply::text("Welcome!"))
            .on_user("hi", Reply::text("Hello"));
        // The agent's own instructions mention "greet" but are not reply instructions.
        let mut own = Req::new();
        own.ctx = ChatContext::new();
        let mut msg = ChatMessage::new(Role::System, "Always greet politely.");
        msg.id = "agent.instructions".into();
        own.ctx.push(msg);
        assert_eq!(text(&llm, own.build()), DEFAULT_REPLY);
        let req = Req::new().user("hi").build();
        assert_eq!(text(&llm, req), "Hello");
        let mut agent_greets = Req::new();
        agent_greets.ctx = ChatContext::new();
        agent_greets
            .ctx
            .add_message(Role::System, "Always greet politely.");
        let req = agent_greets.user("what?").build();
        assert_eq!(text(&llm, req), DEFAULT_REPLY);
        // Reply instructions right after the agent's instructions (on_enter).
        assert_eq!(
            text(&llm, Req::new().system("GREET the user").build()),
            "Welcome!"
        );
        // A lone ad-hoc system message counts.
        let mut lone = ChatContext::new();
        lone.add_message(Role::Developer, "greet");
        let req = ChatRequest {
            chat_ctx: lone,
            ..Default::default()
        };
        assert_eq!(text(&llm, req), "Welcome!");
        // Instructions win over the user message only by rule order.
        assert_eq!(
            text(&llm, Req::new().user("hi").system("greet").build()),
            "Welcome!"
        );
        // Not on the step after tool outputs while tools are offered (a reply loop) ...
        let req = Req::new()
            .tool_round("lookup", "x")
            .system("greet the user")
            .offer("lookup")
            .build();
        assert_eq!(text(&llm, req), DEFAULT_AFTER_TOOL);
        // ... but a speech-only reply (from a hook) is fresh whatever came before.
        let req = Req::new()
            .tool_round("lookup", "x")
            .system("greet the user")
            .build();
        assert_eq!(text(&llm, req), "Welcome!");
    }

    #[test]
    fn tool_calls_fire_only_when_offered() {
        let llm = ScriptedLlm::new()
            .on_user("yes", Reply::call("consent_given", json!({})))
            .on_user("yes", Reply::text("Noted."));
        let (t, calls) = answer(&llm, Req::new().user("yes").build());
        assert_eq!((t.as_str(), calls.len()), ("Noted.", 0));
        let (t, calls) = answer(&llm, Req::new().user("yes").offer("consent_given").build());
        assert_eq!(t, "");
        assert_eq!(calls, ["consent_given"]);

        // Every call must be offered, including calls of dynamic replies.
        let llm = ScriptedLlm::new().when(
            |_| true,
            Reply::dynamic(|_| Reply::calls(vec![("a", json!({})), ("b", json!({}))])),
        );
        let (t, _) = answer(&llm, Req::new().user("x").offer("a").build());
        assert_eq!(t, DEFAULT_REPLY);
        let (_, calls) = answer(&llm, Req::new().user("x").offer("a").offer("b").build());
        assert_eq!(calls, ["a", "b"]);

        // Opting out.
        let llm = ScriptedLlm::new().rule(
            Rule::on_user("x")
                .reply(Reply::call("ghost", json!({})))
                .allow_unoffered_tools(),
        );
        assert_eq!(answer(&llm, Req::new().user("x").build()).1, ["ghost"]);
    }

    #[test]
    fn if_tool_offered_gates_text_rules() {
        let llm = ScriptedLlm::new()
            .rule(
                Rule::on_user("hi")
                    .if_tool_offered("task_tool")
                    .reply(Reply::text("task")),
            )
            .on_user("hi", Reply::text("agent"));
        assert_eq!(text(&llm, Req::new().user("hi").build()), "agent");
        assert_eq!(
            text(&llm, Req::new().user("hi").offer("task_tool").build()),
            "task"
        );
    }

    #[test]
    fn times_limits_how_often_a_rule_fires() {
        let llm = ScriptedLlm::new()
            .rule(Rule::on_user("hi").reply(Reply::text("once")).times(1))
            .rule(Rule::on_user("hi").reply(Reply::text("twice")).times(2))
            .otherwise(Reply::text("later"));
        let got: Vec<String> = (0..4)
            .map(|_| text(&llm, Req::new().user("hi").build()))
            .collect();
        assert_eq!(got, ["once", "twice", "twice", "later"]);
        // A rule that triggers but is gated out does not use up a time.
        let llm = ScriptedLlm::new()
            .rule(
                Rule::on_user("hi")
                    .reply(Reply::call("t", json!({})))
                    .times(1),
            )
            .otherwise(Reply::text("no"));
        assert_eq!(text(&llm, Req::new().user("hi").build()), "no");
        assert_eq!(
            answer(&llm, Req::new().user("hi").offer("t").build()).1,
            ["t"]
        );
        assert_eq!(text(&llm, Req::new().user("hi").offer("t").build()), "no");
    }

    #[test]
    fn when_and_rule_without_reply() {
        let llm = ScriptedLlm::new()
            .when(
                |r| r.tool_choice == ToolChoice::None,
                Reply::text("speech only"),
            )
            .rule(Rule::on_user("x"));
        let mut req = Req::new().user("x").build();
        assert_eq!(text(&llm, req.clone()), DEFAULT_REPLY);
        req.tool_choice = ToolChoice::None;
        assert_eq!(text(&llm, req), "speech only");
    }

    #[test]
    fn sequence_plays_in_order_then_falls_back() {
        let llm = ScriptedLlm::sequence(vec![
            Reply::text("one"),
            Reply::call("not_offered", json!({"a": 1})),
            Reply::text("three"),
        ]);
        assert_eq!(text(&llm, Req::new().user("x").build()), "one");
        assert_eq!(
            answer(&llm, Req::new().build()).1,
            ["not_offered"],
            "sequences are not gated"
        );
        assert_eq!(text(&llm, Req::new().build()), "three");
        assert_eq!(text(&llm, Req::new().user("x").build()), DEFAULT_REPLY);
        assert_eq!(
            text(&llm, Req::new().tool_round("t", "ok").build()),
            DEFAULT_AFTER_TOOL
        );
    }

    #[test]
    fn requests_are_recorded_and_shared_by_clones() {
        let llm = ScriptedLlm::new();
        let copy = llm.clone();
        assert!(llm.last_request().is_none());
        text(&llm, Req::new().user("first").build());
        text(&copy, Req::new().user("second").offer("t").build());
        let requests = llm.requests();
        assert_eq!(requests.len(), 2);
        assert_eq!(llm.request_count(), 2);
        assert_eq!(requests[0].last_user_text(), Some("first"));
        assert!(requests[1].offers_tool("t"));
        assert_eq!(
            copy.last_request().unwrap().last_user_text(),
            Some("second")
        );
    }

    #[test]
    fn failing_requests() {
        let llm = ScriptedLlm::new()
            .fail_next(2, LlmError::Connection("down".into()))
            .on_user("hi", Reply::text("Hello"));
        for _ in 0..2 {
            let err = run(&llm, Req::new().user("hi").build()).unwrap_err();
            assert!(
                matches!(err, LlmError::Connection(ref s) if s == "down"),
                "{err}"
            );
        }
        assert_eq!(text(&llm, Req::new().user("hi").build()), "Hello");
        assert_eq!(llm.request_count(), 3);

        let llm = llm.failing_with(LlmError::Other("nope".into()));
        for _ in 0..3 {
            assert!(run(&llm, Req::new().user("hi").build()).is_err());
        }
        llm.recover();
        assert_eq!(text(&llm, Req::new().user("hi").build()), "Hello");
    }

    #[test]
    fn mid_stream_failure() {
        let llm = ScriptedLlm::sequence(vec![
            Reply::text("partial answer").then_fail(LlmError::Stream("cut".into()))
        ]);
        let chunks = futures::executor::block_on(async {
            let s = llm.chat(Req::new().build()).await.unwrap();
            s.collect::<Vec<_>>().await
        });
        assert_eq!(chunks.len(), 3);
        assert!(matches!(&chunks[0], Ok(ChatChunk::Text(t)) if t == "partial "));
        assert!(matches!(chunks[2], Err(LlmError::Stream(_))));
    }

    #[test]
    fn stream_shape_chunks_call_ids_and_usage() {
        let llm = ScriptedLlm::sequence(vec![
            Reply::text("Hi  there,\nfriend").and_call("a", json!({"x": 1})),
            Reply::calls(vec![("b", json!(null)), ("c", json!({}))]).with_text("ok"),
            Reply::text("abcdefg"),
        ]);
        let chunks = run(&llm, Req::new().build()).unwrap();
        assert_eq!(
            chunks[..3],
            [
                ChatChunk::Text("Hi  ".into()),
                ChatChunk::Text("there,\n".into()),
                ChatChunk::Text("friend".into()),
            ]
        );
        assert_eq!(
            chunks[3],
            ChatChunk::ToolCall(ToolCallRequest {
                call_id: "call_1".into(),
                name: "a".into(),
                arguments: r#"{"x":1}"#.into(),
            })
        );
        let ChatChunk::Usage(usage) = chunks[4] else {
            panic!("usage expected: {chunks:?}");
        };
        assert_eq!(usage.completion_tokens, 7); // (17 text chars + 1 + 7) / 4, rounded up
        assert_eq!(usage.prompt_tokens, 6); // 24 chars of instructions

        let chunks = run(&llm, Req::new().build()).unwrap();
        assert_eq!(chunks[0], ChatChunk::Text("ok".into()));
        let ids: Vec<_> = chunks
            .iter()
            .filter_map(|c| match c {
                ChatChunk::ToolCall(c) => Some((c.call_id.as_str(), c.arguments.as_str())),
                _ => None,
            })
            .collect();
        assert_eq!(ids, [("call_2", "{}"), ("call_3", "{}")]);

        let llm = llm.with_chunk_size(3);
        let chunks = run(&llm, Req::new().build()).unwrap();
        let texts: Vec<_> = chunks
            .iter()
            .filter_map(|c| match c {
                ChatChunk::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(texts, ["abc", "def", "g"]);
    }

    #[test]
    fn dynamic_replies_and_combinators() {
        let llm = ScriptedLlm::new().on_user(
            "",
            Reply::dynamic(|r| Reply::text(format!("echo {}", r.last_user_text().unwrap())))
                .and_call("t", json!({})),
        );
        let (t, calls) = answer(&llm, Req::new().user("ping").offer("t").build());
        assert_eq!(t, "echo ping");
        assert_eq!(calls, ["t"]);
        assert_eq!(Reply::text("x").tool_names(), Some(vec![]));
        assert_eq!(
            Reply::call("a", json!({}))
                .and_call("b", json!({}))
                .tool_names(),
            Some(vec!["a", "b"])
        );
        assert!(Reply::dynamic(|_| Reply::text("")).tool_names().is_none());
        assert!(format!("{llm:?}").contains("on_user"));
    }

    #[test]
    fn split_text_keeps_text_intact() {
        for s in ["", "a", " lead", "trail ", "a  b\tc\n", "héllo wörld"] {
            for size in [None, Some(0), Some(1), Some(4)] {
                assert_eq!(split_text(s, size).concat(), s, "{s:?} {size:?}");
            }
        }
        assert_eq!(split_text("héllo", Some(2)), ["hé", "ll", "o"]);
    }
}
