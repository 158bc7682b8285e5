//! JSON shapes of the Chat Completions API, and the mapping from a [`ChatRequest`] to them.
//!
//! Requests are typed so the shape is checked at compile time; streamed chunks are parsed
//! leniently (every field optional, unknown fields ignored, loosely typed where servers disagree).

use crate::llm::{ChatContext, ChatItem, Role, ToolChoice};
use crate::tools::ToolDefinition;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Body of `POST /chat/completions` without its `messages`, which [`encode_body`] appends from
/// the per-item encodings kept in the chat context.
#[derive(Debug, Serialize)]
pub(crate) struct RequestHead<'a> {
    pub model: &'a str,
    pub stream: bool,
    pub stream_options: StreamOptions,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<Tool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
}

/// Asks the server for a final usage chunk.
#[derive(Debug, Serialize)]
pub(crate) struct StreamOptions {
    pub include_usage: bool,
}

/// A tool offered to the model.
#[derive(Debug, Serialize)]
pub(crate) struct Tool<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    function: FunctionDef<'a>,
}

#[derive(Debug, Serialize)]
struct FunctionDef<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    description: &'a str,
    parameters: &'a Value,
    strict: bool,
}

/// The wire role of a message. Developer messages are sent as `system`: OpenAI treats the two
/// alike for chat models, and many OpenAI-compatible servers reject `developer`.
fn wire_role(role: Role) -> &'static str {
    match role {
        Role::System | Role::Developer => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
    }
}

/// Which message, if any, is still open while the array is written.
#[derive(Clone, Copy, PartialEq)]
enum Open {
    /// None (nothing written yet, or the last message was complete).
    Nothing,
    /// A non-assistant message: only its `}` is missing.
    Plain,
    /// An assistant message without calls yet: calls that follow join it.
    Assistant,
    /// An assistant message inside its `tool_calls` array.
    AssistantCalls,
}

impl Open {
    fn closing(self) -> &'static [u8] {
        match self {
            Open::Nothing => b"",
            Open::Plain | Open::Assistant => b"}",
            Open::AssistantCalls => b"]}",
        }
    }
}

/// The `messages` array being written: its bytes, the message still open (function calls that
/// follow an assistant text join its message as `tool_calls`), and how many were started.
struct Writer {
    body: Vec<u8>,
    open: Open,
    count: usize,
}

impl Writer {
    fn string(&mut self, s: &str) {
        // Writing a string into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut self.body, s);
    }

    fn start_message(&mut self) {
        self.body.extend_from_slice(self.open.closing());
        if self.count > 0 {
            self.body.push(b',');
        }
        self.count += 1;
    }

    /// Appends one item the [`Plan`] keeps.
    fn item(&mut self, item: &ChatItem) {
        match item {
            ChatItem::Message(m) => {
                self.start_message();
                let role = wire_role(m.role);
                self.body.extend_from_slice(b"{\"role\":\"");
                self.body.extend_from_slice(role.as_bytes());
                self.body.extend_from_slice(b"\",\"content\":");
                self.string(&m.content);
                self.open = if role == "assistant" {
                    Open::Assistant
                } else {
                    Open::Plain
                };
            }
            ChatItem::FunctionCall(c) => {
                match self.open {
                    Open::Assistant => self.body.extend_from_slice(b",\"tool_calls\":["),
                    Open::AssistantCalls => self.body.push(b','),
                    Open::Nothing | Open::Plain => {
                        self.start_message();
                        self.body
                            .extend_from_slice(b"{\"role\":\"assistant\",\"tool_calls\":[");
                    }
                }
                self.body.extend_from_slice(b"{\"id\":");
                self.string(&c.call_id);
                self.body
                    .extend_from_slice(b",\"type\":\"function\",\"function\":{\"name\":");
                self.string(&c.name);
                self.body.extend_from_slice(b",\"arguments\":");
                self.string(&c.arguments);
                self.body.extend_from_slice(b"}}");
                self.open = Open::AssistantCalls;
            }
            ChatItem::FunctionCallOutput(o) => {
                self.start_message();
                self.body
                    .extend_from_slice(b"{\"role\":\"tool\",\"content\":");
                self.string(&o.output);
                self.body.extend_from_slice(b",\"tool_call_id\":");
                self.string(&o.call_id);
                self.body.push(b'}');
                self.open = Open::Nothing;
            }
            ChatItem::AgentHandoff(_) => {}
        }
    }
}

/// The encoding of a context's leading items, kept with the context for the next request: their
/// part of the `messages` array and the writer's state after them.
struct KeptMessages {
    bytes: Bytes,
    open: Open,
    count: usize,
}

/// How to write the items from some index on.
struct Plan {
    /// Indices to leave out, ascending.
    left_out: Vec<usize>,
    /// The items before this index can be kept for the next request: none of them is a call
    /// still waiting for its output, so later items cannot change how they are written.
    cut: usize,
    /// Rough size of the encoding, to allocate once.
    estimate: usize,
}

/// Plans `items[start..]` (no call before `start` waits for an output). Each function output
/// pairs with the earliest earlier call of the same id still without one; calls and outputs
/// left unpaired are left out, since the API rejects a call without its output and an output
/// without its call.
///
/// Calls wait for their output in a short list (outputs follow their calls within a turn), so
/// a long history costs one pass and no hashing.
fn plan(items: &[ChatItem], start: usize) -> Plan {
    let mut plan = Plan {
        left_out: Vec::new(),
        cut: start,
        estimate: 0,
    };
    let mut waiting: Vec<(&str, usize)> = Vec::new();
    for (index, item) in items.iter().enumerate().skip(start) {
        plan.estimate += 64
            + match item {
                ChatItem::Message(m) => m.content.len(),
                ChatItem::FunctionCall(c) => {
                    waiting.push((&c.call_id, index));
                    c.call_id.len() + c.name.len() + c.arguments.len()
                }
                ChatItem::FunctionCallOutput(o) => {
                    match waiting.iter().position(|(id, _)| *id == o.call_id) {
                        Some(at) => {
                            waiting.remove(at);
                        }
                        None => {
                            tracing::debug!(call_id = %o.call_id, tool = %o.name, "leaving out a function output without an earlier call");
                            plan.left_out.push(index);
                        }
                    }
                    o.call_id.len() + o.output.len()
                }
                ChatItem::AgentHandoff(_) => 0,
            };
        if waiting.is_empty() {
            plan.cut = index + 1;
        }
    }
    for &(call_id, index) in &waiting {
        tracing::debug!(%call_id, "leaving out a function call that has no output");
        plan.left_out.push(index);
    }
    plan.left_out.sort_unstable();
    plan
}

/// The request body: `head` (the encoded [`RequestHead`] object) with the context's `messages`
/// array added as its last field; also returns the number of messages.
///
/// Consecutive function calls become one assistant message (joining a directly preceding
/// assistant text message); handoffs, and the calls and outputs [`plan`] pairs with nothing,
/// are left out. The encoding of the leading items is kept with the context, so a history
/// resent every turn is copied, and only the items added since the last request are encoded.
pub(crate) fn encode_body(head: &[u8], ctx: &ChatContext) -> (Bytes, usize) {
    const FIELD: &[u8] = b",\"messages\":[";
    let items = ctx.items();
    let kept = ctx.encoded_prefix::<KeptMessages>();
    let start = kept.as_ref().map_or(0, |(n, _)| *n);
    let plan = plan(items, start);
    let head = head.strip_suffix(b"}").unwrap_or(head);
    let kept_len = kept.as_ref().map_or(0, |(_, k)| k.bytes.len());
    let mut w = Writer {
        body: Vec::with_capacity(head.len() + FIELD.len() + kept_len + plan.estimate + 2),
        open: Open::Nothing,
        count: 0,
    };
    w.body.extend_from_slice(head);
    w.body.extend_from_slice(FIELD);
    let array_start = w.body.len();
    if let Some((_, k)) = &kept {
        w.body.extend_from_slice(&k.bytes);
        w.open = k.open;
        w.count = k.count;
    }
    let mut left_out = plan.left_out.iter().copied().peekable();
    let mut at_cut = None;
    for (index, item) in items.iter().enumerate().skip(start) {
        if left_out.next_if_eq(&index).is_none() {
            w.item(item);
        }
        if index + 1 == plan.cut {
            at_cut = Some((w.body.len(), w.open, w.count));
        }
    }
    let count = w.count;
    w.body.extend_from_slice(w.open.closing());
    w.body.extend_from_slice(b"]}");
    let body = Bytes::from(w.body);
    if let Some((end, open, count)) = at_cut {
        let bytes = body.slice(array_start..end);
        ctx.keep_encoded_prefix(plan.cut, KeptMessages { bytes, open, count });
    }
    (body, count)
}

/// Maps a tool definition, using the strict schema only when both the tool and the provider
/// setting allow it.
pub(crate) fn tool(def: &ToolDefinition, strict_tools: bool) -> Tool<'_> {
    let strict = def.strict && strict_tools;
    Tool {
        kind: "function",
        function: FunctionDef {
            name: &def.name,
            description: &def.description,
            parameters: if strict {
                &def.parameters
            } else {
                &def.relaxed_parameters
            },
            strict,
        },
    }
}

/// Maps a tool choice to its wire form.
pub(crate) fn tool_choice(choice: &ToolChoice) -> Value {
    match choice {
        ToolChoice::Auto => json!("auto"),
        ToolChoice::None => json!("none"),
        ToolChoice::Required => json!("required"),
        ToolChoice::Named(name) => json!({"type": "function", "function": {"name": name}}),
    }
}

/// One streamed `chat.completion.chunk`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Chunk {
    #[serde(default)]
    pub choices: Option<Vec<Choice>>,
    #[serde(default)]
    pub usage: Option<UsageWire>,
    /// Some servers report failures inside the stream as `{"error": {...}}`.
    #[serde(default)]
    pub error: Option<Value>,
}

/// One choice of a chunk.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Choice {
    #[serde(default)]
    pub index: Option<Value>,
    #[serde(default)]
    pub delta: Option<Delta>,
    #[serde(default)]
    pub finish_reason: Option<Value>,
}

/// The new part of the reply.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Delta {
    /// A string, null, or (rarely) an array of `{type: "text", text}` parts.
    #[serde(default)]
    pub content: Option<Value>,
    /// Text of a refusal; shown like content.
    #[serde(default)]
    pub refusal: Option<Value>,
    #[serde(default)]
    pub tool_calls: Option<Vec<ToolCallDelta>>,
}

/// A piece of a tool call.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ToolCallDelta {
    #[serde(default)]
    pub index: Option<Value>,
    #[serde(default)]
    pub id: Option<Value>,
    #[serde(default)]
    pub function: Option<FunctionDelta>,
}

/// A piece of a tool call's function.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct FunctionDelta {
    #[serde(default)]
    pub name: Option<Value>,
    /// Usually a string fragment; some servers send the whole arguments object.
    #[serde(default)]
    pub arguments: Option<Value>,
}

/// Token counts as sent by the server.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct UsageWire {
    #[serde(default)]
    pub prompt_tokens: Option<u64>,
    #[serde(default)]
    pub completion_tokens: Option<u64>,
}

/// A non-negative integer sent as a number or a numeric string.
pub(crate) fn as_index(v: &Value) -> Option<u64> {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

/// A string sent as a string or a number; empty means absent.
pub(crate) fn as_text(v: &Value) -> Option<String> {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    (!s.is_empty()).then_some(s)
}

/// The text of a `content` value: a string, or the concatenated text of content parts.
pub(crate) fn content_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| match p {
                Value::String(s) => Some(s.as_str()),
                Value::Object(o) => o.get("text").and_then(Value::as_str),
                _ => None,
            })
            .collect(),
        _ => String::new(),
    }
}

/// A human-readable message for an in-stream `error` value.
pub(crate) fn error_message(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(o) => o
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string()),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::{AgentHandoff, ChatMessage, FunctionCall, FunctionCallOutput};

    use proptest::prelude::*;

    /// The `messages` array of the body `encode_body` makes for `ctx`, parsed.
    fn encoded_messages(ctx: &ChatContext) -> Value {
        let (body, count) = encode_body(br#"{"model":"m"}"#, ctx);
        let mut v: Value = serde_json::from_slice(&body).expect("the body is JSON");
        assert_eq!(v["model"], "m");
        let messages = v["messages"].take();
        assert_eq!(messages.as_array().map(Vec::len), Some(count));
        messages
    }

    /// The mapping spelled out over `serde_json::Value`, one message at a time: what
    /// `encode_body`'s cached fragments must add up to.
    fn expected_messages(ctx: &ChatContext) -> Value {
        let items = ctx.items();
        // Each output pairs with the earliest earlier call of its id not yet paired.
        let mut paired = vec![false; items.len()];
        for (j, item) in items.iter().enumerate() {
            if let ChatItem::FunctionCallOutput(o) = item {
                let call = (0..j).find(|&i| {
                    !paired[i]
                        && matches!(&items[i], ChatItem::FunctionCall(c) if c.call_id == o.call_id)
                });
                if let Some(i) = call {
                    paired[i] = true;
                    paired[j] = true;
                }
            }
        }
        let mut out: Vec<Value> = Vec::new();
        for (item, &paired) in items.iter().zip(&paired) {
            match item {
                ChatItem::Message(m) => {
                    out.push(json!({"role": wire_role(m.role), "content": m.content}));
                }
                ChatItem::FunctionCall(c) if paired => {
                    let call = json!({"id": c.call_id, "type": "function",
                        "function": {"name": c.name, "arguments": c.arguments}});
                    match out.last_mut() {
                        Some(last) if last["role"] == "assistant" => {
                            if let Some(calls) =
                                last.get_mut("tool_calls").and_then(Value::as_array_mut)
                            {
                                calls.push(call);
                            } else {
                                last["tool_calls"] = json!([call]);
                            }
                        }
                        _ => out.push(json!({"role": "assistant", "tool_calls": [call]})),
                    }
                }
                ChatItem::FunctionCallOutput(o) if paired => {
                    out.push(
                        json!({"role": "tool", "content": o.output, "tool_call_id": o.call_id}),
                    );
                }
                ChatItem::FunctionCall(_) | ChatItem::FunctionCallOutput(_) => {}
                ChatItem::AgentHandoff(_) => {}
            }
        }
        Value::Array(out)
    }

    #[test]
    fn orphans_are_left_out() {
        let mut ctx = ChatContext::new();
        let lone = FunctionCall::new("c0", "t", "{}");
        ctx.push(FunctionCallOutput::new(&lone, "orphan output", false));
        ctx.add_message(Role::User, "hi");
        ctx.push(FunctionCall::new("c1", "t", "{}"));
        ctx.push(AgentHandoff::new(None, "a"));
        assert_eq!(
            encoded_messages(&ctx),
            json!([{"role": "user", "content": "hi"}])
        );
    }

    #[test]
    fn calls_join_the_assistant_message_before_them() {
        let mut ctx = ChatContext::new();
        ctx.add_message(Role::Developer, "be brief");
        ctx.add_message(Role::Assistant, "Let me check \"that\".");
        let a = FunctionCall::new("a", "lookup", r#"{"q":"x\ny"}"#);
        let b = FunctionCall::new("b", "lookup", "{}");
        ctx.push(a.clone());
        ctx.push(AgentHandoff::new(None, "x"));
        ctx.push(b.clone());
        ctx.push(FunctionCallOutput::new(&a, "é\u{1F600}", false));
        ctx.push(FunctionCallOutput::new(&b, "", true));
        ctx.push(FunctionCall::new("c", "lookup", "{}"));
        ctx.push(FunctionCallOutput::new(
            &FunctionCall::new("c", "lookup", "{}"),
            "3",
            false,
        ));
        assert_eq!(
            encoded_messages(&ctx),
            json!([
                {"role": "system", "content": "be brief"},
                {"role": "assistant", "content": "Let me check \"that\".", "tool_calls": [
                    {"id": "a", "type": "function", "function": {"name": "lookup", "arguments": "{\"q\":\"x\\ny\"}"}},
                    {"id": "b", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}]},
                {"role": "tool", "content": "é\u{1F600}", "tool_call_id": "a"},
                {"role": "tool", "content": "", "tool_call_id": "b"},
                {"role": "assistant", "tool_calls": [
                    {"id": "c", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}]},
                {"role": "tool", "content": "3", "tool_call_id": "c"},
            ])
        );
        assert_eq!(encoded_messages(&ChatContext::new()), json!([]));
    }

    /// How many leading items the context keeps encoded.
    fn kept_items(ctx: &ChatContext) -> Option<usize> {
        ctx.encoded_prefix::<KeptMessages>().map(|(n, _)| n)
    }

    #[test]
    fn kept_encoding_follows_the_context() {
        let mut ctx = ChatContext::new();
        ctx.add_message(Role::User, "one");
        ctx.add_message(Role::Assistant, "two");
        let call = FunctionCall::new("a", "t", "{}");
        ctx.push(call.clone());
        let first = encoded_messages(&ctx);
        // The waiting call and what follows it are not kept: its output may still come.
        assert_eq!(kept_items(&ctx), Some(2));
        ctx.push(FunctionCallOutput::new(&call, "done", false));
        ctx.add_message(Role::Assistant, "three");
        assert_eq!(encoded_messages(&ctx), expected_messages(&ctx));
        assert_eq!(kept_items(&ctx), Some(5));
        assert_ne!(encoded_messages(&ctx), first);

        // A clone shares what is kept; changing it elsewhere than at the end drops it there.
        let mut other = ctx.clone();
        assert_eq!(kept_items(&other), Some(5));
        other.insert(0, ChatMessage::new(Role::System, "zero"));
        assert_eq!(kept_items(&other), None);
        assert_eq!(kept_items(&ctx), Some(5));
        assert_eq!(encoded_messages(&other), expected_messages(&other));
        let second = other.items()[2].id().to_string();
        other.remove(&second);
        assert_eq!(kept_items(&other), None);
        other.push(ChatMessage::new(Role::User, "four"));
        assert_eq!(encoded_messages(&other), expected_messages(&other));
        assert_eq!(encoded_messages(&ctx), expected_messages(&ctx));
        // Removing an item after what is kept leaves it.
        encoded_messages(&other);
        let kept = kept_items(&other);
        assert_eq!(kept, Some(other.len()));
        other.push(ChatMessage::new(Role::User, "five"));
        let five = other.items()[other.len() - 1].id().to_string();
        other.push(ChatMessage::new(Role::User, "six"));
        other.remove(&five);
        assert_eq!(kept_items(&other), kept);
        assert_eq!(encoded_messages(&other), expected_messages(&other));
        // Copies and truncation start afresh, correctly.
        let copied = other.copy(&crate::llm::CopyOptions::default().exclude_instructions());
        assert_eq!(encoded_messages(&copied), expected_messages(&copied));
        other.truncate(1);
        assert_eq!(encoded_messages(&other), expected_messages(&other));
    }

    fn item_strategy() -> impl Strategy<Value = ChatItem> {
        let text = prop_oneof![Just(String::new()), "[a-z \"\\\n]{0,8}", any::<String>()];
        let call_id = prop_oneof![Just("a"), Just("b"), Just("c")];
        prop_oneof![
            (0..4u8, text.clone()).prop_map(|(r, t)| {
                let role = [Role::System, Role::Developer, Role::User, Role::Assistant][r as usize];
                ChatItem::Message(ChatMessage::new(role, t))
            }),
            (call_id.clone(), text.clone())
                .prop_map(|(id, args)| ChatItem::FunctionCall(FunctionCall::new(id, "tool", args))),
            (call_id, text).prop_map(|(id, out)| ChatItem::FunctionCallOutput(
                FunctionCallOutput::new(&FunctionCall::new(id, "tool", "{}"), out, false)
            )),
            Just(ChatItem::AgentHandoff(AgentHandoff::new(None, "x"))),
        ]
    }

    proptest! {
        /// Whatever the history, the body holds the message-by-message mapping, the first time
        /// and when encoded again from what the first request kept.
        #[test]
        fn encoding_matches_the_mapping(items in proptest::collection::vec(item_strategy(), 0..24)) {
            let ctx = ChatContext::from_items(items);
            let expected = expected_messages(&ctx);
            prop_assert_eq!(&encoded_messages(&ctx), &expected);
            prop_assert_eq!(&encoded_messages(&ctx), &expected);
        }

        /// A history encoded turn after turn (each request continuing from what the last one
        /// kept) reads the same as the history encoded in one go.
        #[test]
        fn growing_history_matches_the_mapping(
            turns in proptest::collection::vec(proptest::collection::vec(item_strategy(), 0..6), 1..8)
        ) {
            let mut ctx = ChatContext::new();
            for turn in turns {
                for item in turn {
                    ctx.push(item);
                }
                prop_assert_eq!(encoded_messages(&ctx), expected_messages(&ctx));
            }
        }
    }

    #[test]
    fn content_forms() {
        assert_eq!(content_text(&json!("a")), "a");
        assert_eq!(
            content_text(&json!([{"type": "text", "text": "a"}, "b"])),
            "ab"
        );
        assert_eq!(content_text(&Value::Null), "");
        assert_eq!(as_index(&json!("2")), Some(2));
        assert_eq!(as_index(&json!(-1)), None);
    }
}
