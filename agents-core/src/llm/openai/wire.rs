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

/// How to write the items from some index on.
struct Plan {
    /// First index planned.
    start: usize,
    /// For each item from `start`: a call's output index, an output's call index; `None` for a
    /// call or output left out, and for other items.
    partner: Vec<Option<usize>>,
    /// The items before this index can be kept for the next request: none of them is a call
    /// still waiting for its output, so later items cannot change how they are written.
    cut: usize,
    /// Rough size of the encoding, to allocate once.
    estimate: usize,
}

impl Plan {
    fn partner(&self, index: usize) -> Option<usize> {
        self.partner[index - self.start]
    }
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
        start,
        partner: vec![None; items.len() - start],
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
                            let (_, call) = waiting.remove(at);
                            plan.partner[call - start] = Some(index);
                            plan.partner[index - start] = Some(call);
                        }
                        None => {
                            tracing::debug!(call_id = %o.call_id, tool = %o.name, "leaving out a function output without an earlier call");
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
    for (call_id, _) in waiting {
        tracing::debug!(%call_id, "leaving out a function call that has no output");
    }
    plan
}

/// The `messages` array being written.
///
/// Consecutive function calls form one assistant `tool_calls` message, followed directly by the
/// outputs of its calls, as the API requires. A call is written once its output has arrived and
/// the next message starts (or the group is complete), so whatever was said between a call
/// and its output (a task the tool ran, speech from the tool) comes before it, and the
/// conversation reads on from the output; calls already answered when such talk starts are
/// written before it. When nothing came in between, the calls join the assistant text they
/// followed.
struct Writer<'a> {
    items: &'a [ChatItem],
    plan: &'a Plan,
    body: Vec<u8>,
    open: Open,
    /// Messages started.
    count: usize,
    /// Groups of calls waiting for outputs, oldest first.
    groups: Vec<CallGroup>,
    /// The last item written or grouped was a call: the next call joins its group.
    after_call: bool,
}

/// Consecutive calls, written as one message when all their outputs have arrived (or their
/// answered part, when a message arrives first).
struct CallGroup {
    calls: Vec<usize>,
    /// Whether each call's output has arrived.
    answered: Vec<bool>,
    /// The assistant text message open when the group began (by message number): the calls
    /// join it if it is still the last message when they are written.
    joins: Option<usize>,
}

impl Writer<'_> {
    fn string(&mut self, s: &str) {
        // Writing a string into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut self.body, s);
    }

    fn begin(&mut self) {
        self.body.extend_from_slice(self.open.closing());
        self.open = Open::Nothing;
        if self.count > 0 {
            self.body.push(b',');
        }
        self.count += 1;
    }

    /// Writes the item at `index` (or holds it in a group of calls).
    fn item(&mut self, index: usize) {
        let items = self.items;
        match &items[index] {
            ChatItem::Message(m) => {
                self.write_answered();
                self.begin();
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
                self.after_call = false;
            }
            ChatItem::FunctionCall(_) => {
                if self.plan.partner(index).is_none() {
                    return;
                }
                match self.groups.last_mut() {
                    Some(group) if self.after_call => {
                        group.calls.push(index);
                        group.answered.push(false);
                    }
                    _ => self.groups.push(CallGroup {
                        calls: vec![index],
                        answered: vec![false],
                        joins: (self.open == Open::Assistant).then_some(self.count),
                    }),
                }
                self.after_call = true;
            }
            ChatItem::FunctionCallOutput(_) => {
                let Some(call) = self.plan.partner(index) else {
                    return;
                };
                self.after_call = false;
                let found = self.groups.iter().enumerate().find_map(|(g, group)| {
                    group.calls.iter().position(|&c| c == call).map(|c| (g, c))
                });
                let Some((g, c)) = found else {
                    return;
                };
                let group = &mut self.groups[g];
                group.answered[c] = true;
                if group.answered.iter().all(|&a| a) {
                    let group = self.groups.remove(g);
                    self.write_group(&group.calls, group.joins);
                }
            }
            ChatItem::AgentHandoff(_) => {}
        }
    }

    /// Before a message: the calls whose outputs have arrived are written now, each group's
    /// answered part as its own `tool_calls` message; the rest wait for their outputs.
    fn write_answered(&mut self) {
        if self.groups.is_empty() {
            return;
        }
        let mut groups = std::mem::take(&mut self.groups);
        for group in &mut groups {
            if !group.answered.contains(&true) {
                continue;
            }
            let (done, waiting): (Vec<_>, Vec<_>) = group
                .calls
                .iter()
                .zip(&group.answered)
                .partition(|(_, &answered)| answered);
            let done: Vec<usize> = done.into_iter().map(|(&c, _)| c).collect();
            self.write_group(&done, group.joins);
            group.calls = waiting.iter().map(|(&c, _)| c).collect();
            group.answered = vec![false; group.calls.len()];
            // The text it could join is no longer the last message.
            group.joins = None;
        }
        self.groups = groups;
    }

    /// Writes `calls` (all answered) as a `tool_calls` message, then each call's output; the
    /// message joins the assistant text numbered `joins` if that is still the open message.
    fn write_group(&mut self, calls: &[usize], joins: Option<usize>) {
        if self.open == Open::Assistant && joins == Some(self.count) {
            self.body.extend_from_slice(b",\"tool_calls\":[");
        } else {
            self.begin();
            self.body
                .extend_from_slice(b"{\"role\":\"assistant\",\"tool_calls\":[");
        }
        let items = self.items;
        for (n, &call) in calls.iter().enumerate() {
            let ChatItem::FunctionCall(c) = &items[call] else {
                continue;
            };
            if n > 0 {
                self.body.push(b',');
            }
            self.body.extend_from_slice(b"{\"id\":");
            self.string(&c.call_id);
            self.body
                .extend_from_slice(b",\"type\":\"function\",\"function\":{\"name\":");
            self.string(&c.name);
            self.body.extend_from_slice(b",\"arguments\":");
            self.string(&c.arguments);
            self.body.extend_from_slice(b"}}");
        }
        self.open = Open::AssistantCalls;
        for &call in calls {
            let output = self.plan.partner(call).map(|i| &items[i]);
            if let Some(ChatItem::FunctionCallOutput(o)) = output {
                self.begin();
                self.body
                    .extend_from_slice(b"{\"role\":\"tool\",\"content\":");
                self.string(&o.output);
                self.body.extend_from_slice(b",\"tool_call_id\":");
                self.string(&o.call_id);
                self.body.push(b'}');
            }
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

/// The request body: `head` (the encoded [`RequestHead`] object) with the context's `messages`
/// array added as its last field (see [`Writer`] for the mapping; calls and outputs [`plan`]
/// pairs with nothing and handoffs are left out); also returns the number of messages.
///
/// The encoding of the leading items is kept with the context, so a history resent every turn
/// is copied, and only the items added since the last request are encoded.
pub(crate) fn encode_body(head: &[u8], ctx: &ChatContext) -> (Bytes, usize) {
    const FIELD: &[u8] = b",\"messages\":[";
    let items = ctx.items();
    let kept = ctx.encoded_prefix::<KeptMessages>();
    let start = kept.as_ref().map_or(0, |(n, _)| *n);
    let plan = plan(items, start);
    debug_assert!(head.ends_with(b"}"), "the head is a JSON object");
    let head = head.strip_suffix(b"}").unwrap_or(head);
    let kept_len = kept.as_ref().map_or(0, |(_, k)| k.bytes.len());
    let mut w = Writer {
        items,
        plan: &plan,
        body: Vec::with_capacity(head.len() + FIELD.len() + kept_len + plan.estimate + 2),
        open: Open::Nothing,
        count: 0,
        groups: Vec::new(),
        after_call: false,
    };
    w.body.extend_from_slice(head);
    w.body.extend_from_slice(FIELD);
    let array_start = w.body.len();
    if let Some((_, k)) = &kept {
        w.body.extend_from_slice(&k.bytes);
        w.open = k.open;
        w.count = k.count;
    }
    let mut at_cut = None;
    for index in start..items.len() {
        w.item(index);
        if index + 1 == plan.cut {
            // No call waits here, so every group is written.
            debug_assert!(w.groups.is_empty());
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

    /// The same context encoded from scratch, with nothing kept.
    fn fresh_messages(ctx: &ChatContext) -> Value {
        encoded_messages(&ChatContext::from_items(ctx.items().to_vec()))
    }

    /// Checks `messages` against what the API accepts and against `ctx`:
    /// - each `tool_calls` message is followed directly by one tool message per call, in order,
    ///   and tool messages appear nowhere else;
    /// - the text messages are the context's messages, in order, with their wire roles;
    /// - the calls are the context's paired calls (each output pairs with the earliest earlier
    ///   call of its id not yet paired), and each tool message carries its call's output.
    fn check_wire(ctx: &ChatContext, messages: &Value) {
        let messages = messages.as_array().expect("an array");
        let mut i = 0;
        let mut texts = Vec::new();
        let mut calls = Vec::new();
        while i < messages.len() {
            let m = &messages[i];
            assert_ne!(
                m["role"], "tool",
                "a tool message not right after its call: {messages:?}"
            );
            if let Some(content) = m.get("content") {
                texts.push((m["role"].as_str().unwrap().to_string(), content.clone()));
            }
            i += 1;
            for call in m
                .get("tool_calls")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let answer = messages.get(i).unwrap_or(&Value::Null);
                assert_eq!(
                    answer["role"], "tool",
                    "call {call} not answered next: {messages:?}"
                );
                assert_eq!(answer["tool_call_id"], call["id"]);
                calls.push((call.clone(), answer["content"].clone()));
                i += 1;
            }
        }
        let items = ctx.items();
        let expected_texts: Vec<(String, Value)> = ctx
            .messages()
            .map(|m| (wire_role(m.role).to_string(), json!(m.content)))
            .collect();
        assert_eq!(texts, expected_texts);
        let mut output_of: Vec<Option<usize>> = vec![None; items.len()];
        let mut taken = vec![false; items.len()];
        for (j, item) in items.iter().enumerate() {
            if let ChatItem::FunctionCallOutput(o) = item {
                let call = (0..j).find(|&i| {
                    !taken[i]
                        && matches!(&items[i], ChatItem::FunctionCall(c) if c.call_id == o.call_id)
                });
                if let Some(i) = call {
                    taken[i] = true;
                    output_of[i] = Some(j);
                }
            }
        }
        let expected_calls: Vec<(Value, Value)> = items
            .iter()
            .zip(&output_of)
            .filter_map(|(item, out)| match (item, out) {
                (ChatItem::FunctionCall(c), Some(j)) => {
                    let ChatItem::FunctionCallOutput(o) = &items[*j] else {
                        unreachable!()
                    };
                    Some((
                        json!({"id": c.call_id, "type": "function",
                               "function": {"name": c.name, "arguments": c.arguments}}),
                        json!(o.output),
                    ))
                }
                _ => None,
            })
            .collect();
        // A group of calls is sent when its last output arrives, so groups may come in
        // another order than their calls: compare as multisets.
        let sorted = |mut v: Vec<(Value, Value)>| {
            v.sort_by_key(|pair| serde_json::to_string(pair).unwrap());
            v
        };
        assert_eq!(sorted(calls), sorted(expected_calls));
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
        assert_eq!(encoded_messages(&ctx), fresh_messages(&ctx));
        assert_eq!(kept_items(&ctx), Some(5));
        assert_ne!(encoded_messages(&ctx), first);

        // A clone shares what is kept; changing it elsewhere than at the end drops it there.
        let mut other = ctx.clone();
        assert_eq!(kept_items(&other), Some(5));
        other.insert(0, ChatMessage::new(Role::System, "zero"));
        assert_eq!(kept_items(&other), None);
        assert_eq!(kept_items(&ctx), Some(5));
        assert_eq!(encoded_messages(&other), fresh_messages(&other));
        let second = other.items()[2].id().to_string();
        other.remove(&second);
        assert_eq!(kept_items(&other), None);
        other.push(ChatMessage::new(Role::User, "four"));
        assert_eq!(encoded_messages(&other), fresh_messages(&other));
        assert_eq!(encoded_messages(&ctx), fresh_messages(&ctx));
        // Removing an item after what is kept leaves it.
        encoded_messages(&other);
        let kept = kept_items(&other);
        assert_eq!(kept, Some(other.len()));
        other.push(ChatMessage::new(Role::User, "five"));
        let five = other.items()[other.len() - 1].id().to_string();
        other.push(ChatMessage::new(Role::User, "six"));
        other.remove(&five);
        assert_eq!(kept_items(&other), kept);
        assert_eq!(encoded_messages(&other), fresh_messages(&other));
        // Copies and truncation start afresh, correctly.
        let copied = other.copy(&crate::llm::CopyOptions::default().exclude_instructions());
        assert_eq!(encoded_messages(&copied), fresh_messages(&copied));
        other.truncate(1);
        assert_eq!(encoded_messages(&other), fresh_messages(&other));
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

    /// One change to a context, for the operations property.
    #[derive(Debug, Clone)]
    enum Op {
        Push(ChatItem),
        Insert(usize, ChatItem),
        Remove(usize),
        Truncate(usize),
        MergeInto(Vec<ChatItem>),
        CloneAndPush(ChatItem),
        Encode,
    }

    fn op_strategy() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => item_strategy().prop_map(Op::Push),
            1 => (0..12usize, item_strategy()).prop_map(|(i, item)| Op::Insert(i, item)),
            1 => (0..12usize).prop_map(Op::Remove),
            1 => (0..12usize).prop_map(Op::Truncate),
            1 => proptest::collection::vec(item_strategy(), 0..3).prop_map(Op::MergeInto),
            1 => item_strategy().prop_map(Op::CloneAndPush),
            3 => Just(Op::Encode),
        ]
    }

    proptest! {
        /// Whatever the history, the body is what the API accepts and says what the history
        /// says, the first time and when encoded again from what the first request kept.
        #[test]
        fn encoding_matches_the_history(items in proptest::collection::vec(item_strategy(), 0..24)) {
            let ctx = ChatContext::from_items(items);
            let first = encoded_messages(&ctx);
            check_wire(&ctx, &first);
            prop_assert_eq!(&encoded_messages(&ctx), &first);
        }

        /// A history encoded turn after turn (each request continuing from what the last one
        /// kept) reads the same as the history encoded in one go.
        #[test]
        fn growing_history_encodes_as_a_whole(
            turns in proptest::collection::vec(proptest::collection::vec(item_strategy(), 0..6), 1..8)
        ) {
            let mut ctx = ChatContext::new();
            for turn in turns {
                for item in turn {
                    ctx.push(item);
                }
                prop_assert_eq!(encoded_messages(&ctx), fresh_messages(&ctx));
            }
        }

        /// Whatever changes a context goes through between requests (and whatever its clones
        /// do), each request's body equals encoding the context from scratch.
        #[test]
        fn kept_encoding_never_goes_stale(ops in proptest::collection::vec(op_strategy(), 0..30)) {
            let mut ctx = ChatContext::new();
            let mut clones = Vec::new();
            for op in ops {
                match op {
                    Op::Push(item) => ctx.push(item),
                    Op::Insert(i, item) => ctx.insert(i, item),
                    Op::Remove(i) => {
                        if let Some(id) = ctx.items().get(i).map(|x| x.id().to_string()) {
                            ctx.remove(&id);
                        }
                    }
                    Op::Truncate(n) => ctx.truncate(n),
                    Op::MergeInto(items) => {
                        let mut other = ctx.clone();
                        for item in items {
                            other.push(item);
                        }
                        encoded_messages(&other);
                        ctx.merge(&other, &crate::llm::CopyOptions::all());
                    }
                    Op::CloneAndPush(item) => {
                        let mut clone = ctx.clone();
                        clone.push(item);
                        encoded_messages(&clone);
                        clones.push(clone);
                    }
                    Op::Encode => {
                        let messages = encoded_messages(&ctx);
                        check_wire(&ctx, &messages);
                    }
                }
                prop_assert_eq!(encoded_messages(&ctx), fresh_messages(&ctx));
                let round_trip: ChatContext =
                    serde_json::from_str(&serde_json::to_string(&ctx).unwrap()).unwrap();
                prop_assert_eq!(encoded_messages(&round_trip), fresh_messages(&ctx));
            }
            for clone in &clones {
                prop_assert_eq!(encoded_messages(clone), fresh_messages(clone));
            }
        }
    }

    #[test]
    fn calls_are_sent_with_their_outputs_after_what_was_said_in_between() {
        // A tool that speaks, or runs a task, adds items between its call and its output.
        let mut ctx = ChatContext::new();
        ctx.add_message(Role::User, "book a table");
        let call = FunctionCall::new("a", "ask_date", "{}");
        ctx.push(call.clone());
        ctx.push(AgentHandoff::new(None, "ask_task"));
        ctx.add_message(Role::Assistant, "What date?");
        ctx.add_message(Role::User, "friday");
        ctx.push(FunctionCallOutput::new(&call, "date=friday", false));
        let messages = encoded_messages(&ctx);
        check_wire(&ctx, &messages);
        assert_eq!(
            messages,
            json!([
                {"role": "user", "content": "book a table"},
                {"role": "assistant", "content": "What date?"},
                {"role": "user", "content": "friday"},
                {"role": "assistant", "tool_calls": [
                    {"id": "a", "type": "function", "function": {"name": "ask_date", "arguments": "{}"}}]},
                {"role": "tool", "content": "date=friday", "tool_call_id": "a"},
            ])
        );
        // Two calls after some text, the first answered before more speech, the second after
        // it: the first is sent (joining the text) before the speech, the second after it.
        let mut ctx = ChatContext::new();
        ctx.add_message(Role::Assistant, "Checking.");
        let (a, b) = (
            FunctionCall::new("a", "t", "{}"),
            FunctionCall::new("b", "t", "{}"),
        );
        ctx.push(a.clone());
        ctx.push(b.clone());
        ctx.push(FunctionCallOutput::new(&a, "1", false));
        ctx.add_message(Role::Assistant, "x");
        ctx.push(FunctionCallOutput::new(&b, "2", false));
        let messages = encoded_messages(&ctx);
        check_wire(&ctx, &messages);
        let call = |id: &str| json!({"id": id, "type": "function", "function": {"name": "t", "arguments": "{}"}});
        assert_eq!(
            messages,
            json!([
                {"role": "assistant", "content": "Checking.", "tool_calls": [call("a")]},
                {"role": "tool", "content": "1", "tool_call_id": "a"},
                {"role": "assistant", "content": "x"},
                {"role": "assistant", "tool_calls": [call("b")]},
                {"role": "tool", "content": "2", "tool_call_id": "b"},
            ])
        );
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
