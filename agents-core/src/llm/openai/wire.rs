//! JSON shapes of the Chat Completions API, and the mapping from a [`ChatRequest`] to them.
//!
//! Requests are typed so the shape is checked at compile time; streamed chunks are parsed
//! leniently (every field optional, unknown fields ignored, loosely typed where servers disagree).

use crate::llm::{ChatContext, ChatItem, Role, ToolChoice};
use crate::tools::ToolDefinition;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::HashSet;

/// Body of `POST /chat/completions`.
#[derive(Debug, Serialize)]
pub(crate) struct RequestBody<'a> {
    pub model: &'a str,
    pub messages: Vec<Message<'a>>,
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

/// One message of the request; borrows from the chat context, so building a request copies no
/// conversation text.
#[derive(Debug, Serialize)]
pub(crate) struct Message<'a> {
    role: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<ToolCall<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_call_id: Option<&'a str>,
}

/// A tool call inside an assistant message.
#[derive(Debug, Serialize)]
struct ToolCall<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    function: FunctionCallWire<'a>,
}

#[derive(Debug, Serialize)]
struct FunctionCallWire<'a> {
    name: &'a str,
    arguments: &'a str,
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

/// Maps the context to wire messages.
///
/// Consecutive function calls become one assistant message (merged into a directly preceding
/// assistant text message). Calls without an output and outputs without an earlier call are
/// left out, since the API rejects both; handoffs are skipped.
pub(crate) fn messages(ctx: &ChatContext) -> Vec<Message<'_>> {
    let items = ctx.items();
    let mut seen_calls: HashSet<&str> = HashSet::new();
    let mut answered: HashSet<&str> = HashSet::new();
    for item in items {
        match item {
            ChatItem::FunctionCall(c) => {
                seen_calls.insert(&c.call_id);
            }
            ChatItem::FunctionCallOutput(o) if seen_calls.contains(o.call_id.as_str()) => {
                answered.insert(&o.call_id);
            }
            _ => {}
        }
    }

    let mut out: Vec<Message> = Vec::with_capacity(items.len());
    let mut emitted_outputs: HashSet<&str> = HashSet::new();
    for item in items {
        match item {
            ChatItem::Message(m) => out.push(Message {
                role: wire_role(m.role),
                content: Some(&m.content),
                tool_calls: Vec::new(),
                tool_call_id: None,
            }),
            ChatItem::FunctionCall(c) => {
                if !answered.contains(c.call_id.as_str()) {
                    tracing::debug!(call_id = %c.call_id, tool = %c.name, "leaving out a function call that has no output");
                    continue;
                }
                let call = ToolCall {
                    id: &c.call_id,
                    kind: "function",
                    function: FunctionCallWire {
                        name: &c.name,
                        arguments: &c.arguments,
                    },
                };
                match out.last_mut() {
                    Some(last) if last.role == "assistant" => last.tool_calls.push(call),
                    _ => out.push(Message {
                        role: "assistant",
                        content: None,
                        tool_calls: vec![call],
                        tool_call_id: None,
                    }),
                }
            }
            ChatItem::FunctionCallOutput(o) => {
                if !answered.contains(o.call_id.as_str()) || !emitted_outputs.insert(&o.call_id) {
                    tracing::debug!(call_id = %o.call_id, tool = %o.name, "leaving out a function output without an earlier call");
                    continue;
                }
                out.push(Message {
                    role: "tool",
                    content: Some(&o.output),
                    tool_calls: Vec::new(),
                    tool_call_id: Some(&o.call_id),
                });
            }
            ChatItem::AgentHandoff(_) => {}
        }
    }
    out
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
    use crate::llm::{AgentHandoff, FunctionCall, FunctionCallOutput};

    #[test]
    fn orphans_are_left_out() {
        let mut ctx = ChatContext::new();
        let lone = FunctionCall::new("c0", "t", "{}");
        ctx.push(FunctionCallOutput::new(&lone, "orphan output", false));
        ctx.add_message(Role::User, "hi");
        ctx.push(FunctionCall::new("c1", "t", "{}"));
        ctx.push(AgentHandoff::new(None, "a"));
        let v = serde_json::to_value(messages(&ctx)).unwrap();
        assert_eq!(v, json!([{"role": "user", "content": "hi"}]));
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
