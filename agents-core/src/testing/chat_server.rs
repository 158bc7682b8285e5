//! An in-process OpenAI-compatible server that answers with any [`Llm`] (typically a
//! [`ScriptedLlm`](super::ScriptedLlm)) and rejects what the Chat Completions API rejects.
//!
//! Point [`OpenAiLlm`](crate::llm::openai::OpenAiLlm) at it to run a scripted conversation
//! through the real provider: every request is encoded, sent over loopback HTTP, checked
//! against the API's rules on messages and tools (a violation is a `400` with the reason, as the
//! API answers), turned back into a [`ChatRequest`] for the inner model, and the reply is
//! streamed back as server-sent events. `demo --over-http` in console mode does this.
//!
//! The inner model sees the request as it was sent, as a real model would: item ids,
//! handoff records, the error flag of tool outputs and empty assistant messages do not travel,
//! and tool outputs come right after their calls.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use agents_core::llm::openai::OpenAiLlm;
//! use agents_core::testing::{ChatCompletionsServer, Reply, ScriptedLlm};
//!
//! let server = ChatCompletionsServer::start(ScriptedLlm::new().on_user("hi", Reply::text("Hello!"))).await?;
//! let llm = OpenAiLlm::builder().base_url(server.base_url()).api_key("unused").build();
//! # Ok(()) }
//! ```

use crate::llm::{
    ChatChunk, ChatContext, ChatItem, ChatMessage, ChatRequest, FunctionCall, FunctionCallOutput,
    Llm, Role, ToolChoice,
};
use crate::tools::ToolDefinition;
use bytes::Bytes;
use futures::StreamExt;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::sync::Arc;
use tokio_util::task::AbortOnDropHandle;

type Body = http_body_util::combinators::UnsyncBoxBody<Bytes, Infallible>;

/// The server; it stops when dropped.
pub struct ChatCompletionsServer {
    base_url: String,
    _task: AbortOnDropHandle<()>,
}

impl ChatCompletionsServer {
    /// Starts serving `llm` on a free port of 127.0.0.1, on the current tokio runtime.
    pub async fn start(llm: impl Llm) -> std::io::Result<ChatCompletionsServer> {
        Self::spawn(llm)
    }

    /// [`start`](Self::start) from synchronous code running inside a tokio runtime; an error
    /// outside one.
    pub fn spawn(llm: impl Llm) -> std::io::Result<ChatCompletionsServer> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(std::io::Error::other(
                "the chat completions test server needs a tokio runtime",
            ));
        }
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let base_url = format!("http://{}/v1", listener.local_addr()?);
        let llm: Arc<dyn Llm> = Arc::new(llm);
        let task = AbortOnDropHandle::new(tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    // Out of file descriptors and the like: wait rather than spin.
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                };
                let llm = llm.clone();
                let service = hyper::service::service_fn(move |request| {
                    let llm = llm.clone();
                    async move { Ok::<_, Infallible>(handle(llm, request).await) }
                });
                tokio::spawn(async move {
                    let io = hyper_util::rt::TokioIo::new(stream);
                    if let Err(e) = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service)
                        .await
                    {
                        tracing::debug!(error = %e, "chat completions test server: connection ended");
                    }
                });
            }
        }));
        Ok(ChatCompletionsServer {
            base_url,
            _task: task,
        })
    }

    /// The base URL to give the provider, `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }
}

fn error_response(status: u16, message: &str) -> hyper::Response<Body> {
    let body = json!({"error": {"message": message, "type": "invalid_request_error"}});
    hyper::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())).boxed_unsync())
        .unwrap_or_else(|_| hyper::Response::new(Full::new(Bytes::new()).boxed_unsync()))
}

async fn handle(
    llm: Arc<dyn Llm>,
    request: hyper::Request<hyper::body::Incoming>,
) -> hyper::Response<Body> {
    if request.method() != hyper::Method::POST
        || !request.uri().path().ends_with("/chat/completions")
    {
        return error_response(404, "only POST /v1/chat/completions is served");
    }
    let body = match request.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return error_response(400, &format!("could not read the body: {e}")),
    };
    let body: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return error_response(400, &format!("the body is not JSON: {e}")),
    };
    if let Err(why) = check_request(&body) {
        tracing::warn!(%why, "chat completions test server: rejected a request");
        return error_response(400, &why);
    }
    let stream = match llm.chat(to_chat_request(&body)).await {
        Ok(s) => s,
        Err(e) => return error_response(500, &e.to_string()),
    };
    let include_usage = body["stream_options"]["include_usage"] == true;
    // Shaped like the API's stream: the role first, each tool call as its id and name, then
    // its arguments in two pieces; the finish reason; usage last, when asked for; `[DONE]`.
    let events = stream
        .map(Some)
        .chain(futures::stream::once(async { None }))
        .scan(SseState::default(), move |state, chunk| {
            let mut out = String::new();
            if !state.started {
                state.started = true;
                push_event(&mut out, json!({"role": "assistant", "content": null}), None);
            }
            match chunk {
                Some(Ok(ChatChunk::Text(text))) => {
                    push_event(&mut out, json!({"content": text}), None);
                }
                Some(Ok(ChatChunk::ToolCall(call))) => {
                    let index = state.calls;
                    state.calls += 1;
                    push_event(
                        &mut out,
                        json!({"tool_calls": [{"index": index, "id": call.call_id, "type": "function",
                            "function": {"name": call.name, "arguments": ""}}]}),
                        None,
                    );
                    let half = call
                        .arguments
                        .char_indices()
                        .map(|(i, _)| i)
                        .nth(call.arguments.chars().count() / 2)
                        .unwrap_or(call.arguments.len());
                    for piece in [&call.arguments[..half], &call.arguments[half..]] {
                        push_event(
                            &mut out,
                            json!({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}),
                            None,
                        );
                    }
                }
                Some(Ok(ChatChunk::Usage(u))) => state.usage = Some(u),
                Some(Err(e)) => {
                    out.push_str(&format!("data: {}\n\n", json!({"error": {"message": e.to_string()}})));
                }
                None => {
                    let reason = if state.calls > 0 { "tool_calls" } else { "stop" };
                    push_event(&mut out, json!({}), Some(reason));
                    if let (true, Some(u)) = (include_usage, state.usage) {
                        let usage = json!({"object": "chat.completion.chunk", "choices": [],
                            "usage": {"prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens,
                                      "total_tokens": u.prompt_tokens + u.completion_tokens}});
                        out.push_str(&format!("data: {usage}\n\n"));
                    }
                    out.push_str("data: [DONE]\n\n");
                }
            }
            futures::future::ready(Some(Ok::<_, Infallible>(Frame::data(Bytes::from(out)))))
        });
    hyper::Response::builder()
        .header("content-type", "text/event-stream")
        .body(BodyExt::boxed_unsync(StreamBody::new(events)))
        .unwrap_or_else(|_| error_response(500, "could not build the response"))
}

/// Where the streamed reply is.
#[derive(Default)]
struct SseState {
    started: bool,
    calls: u64,
    usage: Option<crate::llm::Usage>,
}

/// Appends one `chat.completion.chunk` event with this `delta`.
fn push_event(out: &mut String, delta: Value, finish_reason: Option<&str>) {
    let chunk = json!({"object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]});
    out.push_str(&format!("data: {chunk}\n\n"));
}

/// The Chat Completions API's rules on a request's messages and tools that a client can break:
/// `Err` says which, as the API's 400 would.
pub fn check_request(body: &Value) -> Result<(), String> {
    if !body["model"].is_string() {
        return Err("`model` is missing".into());
    }
    let messages = body["messages"]
        .as_array()
        .filter(|m| !m.is_empty())
        .ok_or("`messages` must be a non-empty array")?;
    let mut call_ids = HashSet::new();
    let mut i = 0;
    while i < messages.len() {
        let m = &messages[i];
        let role = m["role"].as_str().unwrap_or_default();
        match role {
            "system" | "developer" | "user" => {
                if !(m["content"].is_string() || m["content"].is_array()) {
                    return Err(format!("messages[{i}]: a {role} message needs `content`"));
                }
            }
            "assistant" => {
                let has_content = m["content"].is_string();
                let calls = m["tool_calls"].as_array();
                if !has_content && calls.is_none_or(Vec::is_empty) {
                    return Err(format!("messages[{i}]: an assistant message needs `content` or `tool_calls`"));
                }
            }
            "tool" => {
                return Err(format!(
                    "messages[{i}]: messages with role 'tool' must be a response to a preceding message with 'tool_calls'"
                ))
            }
            other => return Err(format!("messages[{i}]: unknown role {other:?}")),
        }
        let calls = m["tool_calls"].as_array().cloned().unwrap_or_default();
        i += 1;
        for call in &calls {
            let id = call["id"]
                .as_str()
                .ok_or(format!("messages[{}]: a tool call without `id`", i - 1))?;
            if !call_ids.insert(id.to_string()) {
                return Err(format!("duplicate tool call id {id:?}"));
            }
            if call["type"] != "function"
                || !call["function"]["name"].is_string()
                || !call["function"]["arguments"].is_string()
            {
                return Err(format!(
                    "tool call {id:?}: needs type \"function\", a name and arguments as a string"
                ));
            }
        }
        for call in &calls {
            let answer = messages.get(i).unwrap_or(&Value::Null);
            if answer["role"] != "tool" || answer["tool_call_id"] != call["id"] {
                return Err(format!(
                    "an assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'; {} has none right after it",
                    call["id"]
                ));
            }
            if !answer["content"].is_string() {
                return Err(format!("messages[{i}]: a tool message needs `content`"));
            }
            i += 1;
        }
    }
    let tools = body["tools"].as_array().cloned().unwrap_or_default();
    let mut names = HashSet::new();
    for tool in &tools {
        let f = &tool["function"];
        let name = f["name"].as_str().unwrap_or_default();
        let valid = (1..=64).contains(&name.len())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if tool["type"] != "function" || !valid {
            return Err(format!("invalid tool {name:?}: type must be \"function\" and the name 1-64 of [a-zA-Z0-9_-]"));
        }
        if !names.insert(name) {
            return Err(format!("duplicate tool name {name:?}"));
        }
        if f["strict"] == true {
            check_strict_schema(&f["parameters"], &format!("tool {name:?}"))?;
        }
    }
    match &body["tool_choice"] {
        Value::Null => {}
        _ if tools.is_empty() => {
            return Err("`tool_choice` is only allowed when `tools` are given".into())
        }
        Value::String(s) if ["auto", "none", "required"].contains(&s.as_str()) => {}
        v if v["type"] == "function"
            && v["function"]["name"]
                .as_str()
                .is_some_and(|n| names.contains(n)) => {}
        v => return Err(format!("invalid `tool_choice` {v}")),
    }
    if !body["parallel_tool_calls"].is_null() && tools.is_empty() {
        return Err("`parallel_tool_calls` is only allowed when `tools` are given".into());
    }
    if !body["stream_options"].is_null() && body["stream"] != true {
        return Err("`stream_options` is only allowed when `stream` is true".into());
    }
    Ok(())
}

/// Strict mode's rules: every object schema lists all its properties as required and forbids
/// others. Walks the schema positions only (a property may well be named `properties`).
fn check_strict_schema(schema: &Value, at: &str) -> Result<(), String> {
    let Value::Object(map) = schema else {
        return Ok(());
    };
    let object_type = match map.get("type") {
        Some(Value::String(t)) => t == "object",
        Some(Value::Array(types)) => types.iter().any(|t| t == "object"),
        _ => false,
    };
    if object_type || map.contains_key("properties") {
        if map.get("additionalProperties") != Some(&Value::Bool(false)) {
            return Err(format!(
                "{at}: strict schemas need \"additionalProperties\": false on every object"
            ));
        }
        let required: HashSet<&str> = map
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if let Some(Value::Object(props)) = map.get("properties") {
            if let Some(missing) = props.keys().find(|p| !required.contains(p.as_str())) {
                return Err(format!(
                    "{at}: strict schemas list every property in \"required\"; {missing:?} is not"
                ));
            }
        }
    }
    if let Some(Value::Object(props)) = map.get("properties") {
        for (name, sub) in props {
            check_strict_schema(sub, &format!("{at}.{name}"))?;
        }
    }
    for key in ["$defs", "definitions"] {
        if let Some(Value::Object(defs)) = map.get(key) {
            for (name, sub) in defs {
                check_strict_schema(sub, &format!("{at}.{key}.{name}"))?;
            }
        }
    }
    for key in ["anyOf", "oneOf", "allOf", "prefixItems"] {
        if let Some(Value::Array(subs)) = map.get(key) {
            for sub in subs {
                check_strict_schema(sub, &format!("{at}.{key}"))?;
            }
        }
    }
    if let Some(items) = map.get("items") {
        check_strict_schema(items, &format!("{at}.items"))?;
    }
    Ok(())
}

/// The request as the inner model sees it: the messages as chat items, the tools and the tool
/// choice.
fn to_chat_request(body: &Value) -> ChatRequest {
    let mut ctx = ChatContext::new();
    let mut names: HashMap<String, String> = HashMap::new();
    for m in body["messages"].as_array().into_iter().flatten() {
        let content = match &m["content"] {
            Value::String(s) => s.clone(),
            Value::Array(parts) => parts.iter().filter_map(|p| p["text"].as_str()).collect(),
            _ => String::new(),
        };
        let role = match m["role"].as_str() {
            Some("system") => Some(Role::System),
            Some("developer") => Some(Role::Developer),
            Some("user") => Some(Role::User),
            Some("assistant") => Some(Role::Assistant),
            _ => None,
        };
        match role {
            Some(role) if !(role == Role::Assistant && content.is_empty()) => {
                ctx.push(ChatMessage::new(role, content.clone()));
            }
            _ => {}
        }
        for call in m["tool_calls"].as_array().into_iter().flatten() {
            let id = call["id"].as_str().unwrap_or_default();
            let name = call["function"]["name"].as_str().unwrap_or_default();
            names.insert(id.to_string(), name.to_string());
            let arguments = call["function"]["arguments"].as_str().unwrap_or_default();
            ctx.push(FunctionCall::new(id, name, arguments));
        }
        if m["role"] == "tool" {
            let id = m["tool_call_id"].as_str().unwrap_or_default();
            let call = FunctionCall::new(id, names.get(id).cloned().unwrap_or_default(), "");
            ctx.push(ChatItem::FunctionCallOutput(FunctionCallOutput::new(
                &call, content, false,
            )));
        }
    }
    let tools = body["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            let f = &t["function"];
            Arc::new(ToolDefinition::new(
                f["name"].as_str().unwrap_or_default().to_string(),
                f["description"].as_str().unwrap_or_default(),
                f["parameters"].clone(),
            ))
        })
        .collect();
    let tool_choice = match &body["tool_choice"] {
        Value::String(s) if s == "none" => ToolChoice::None,
        Value::String(s) if s == "required" => ToolChoice::Required,
        v if v["type"] == "function" => ToolChoice::Named(
            v["function"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        ),
        _ => ToolChoice::Auto,
    };
    ChatRequest {
        chat_ctx: ctx,
        tools,
        tool_choice,
        parallel_tool_calls: body["parallel_tool_calls"].as_bool(),
        temperature: body["temperature"].as_f64().map(|t| t as f32),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(messages: Value) -> Value {
        json!({"model": "m", "stream": true, "stream_options": {"include_usage": true}, "messages": messages})
    }

    fn call(id: &str) -> Value {
        json!({"id": id, "type": "function", "function": {"name": "t", "arguments": "{}"}})
    }

    #[test]
    fn requests_the_api_accepts_pass() {
        let ok = request(json!([
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "Checking.", "tool_calls": [call("a"), call("b")]},
            {"role": "tool", "content": "1", "tool_call_id": "a"},
            {"role": "tool", "content": "2", "tool_call_id": "b"},
            {"role": "assistant", "content": "Done."},
        ]));
        assert_eq!(check_request(&ok), Ok(()));
        let mut with_tools = request(json!([{"role": "user", "content": "hi"}]));
        with_tools["tools"] = json!([{"type": "function", "function": {"name": "t", "strict": true,
            "parameters": {"type": "object", "properties": {"x": {"type": "string"}},
                           "required": ["x"], "additionalProperties": false}}}]);
        with_tools["tool_choice"] = json!({"type": "function", "function": {"name": "t"}});
        assert_eq!(check_request(&with_tools), Ok(()));
    }

    #[test]
    fn requests_the_api_rejects_fail_with_the_reason() {
        let cases = [
            (request(json!([])), "non-empty"),
            (
                request(json!([{"role": "tool", "content": "x", "tool_call_id": "a"}])),
                "role 'tool'",
            ),
            (
                request(json!([{"role": "assistant", "tool_calls": [call("a")]},
                               {"role": "user", "content": "hi"}])),
                "must be followed by tool messages",
            ),
            (
                request(json!([{"role": "assistant", "tool_calls": [call("a")]},
                               {"role": "tool", "content": "1", "tool_call_id": "a"},
                               {"role": "assistant", "tool_calls": [call("a")]},
                               {"role": "tool", "content": "1", "tool_call_id": "a"}])),
                "duplicate tool call id",
            ),
            (
                request(json!([{"role": "assistant"}])),
                "needs `content` or `tool_calls`",
            ),
            (
                request(json!([{"role": "robot", "content": "x"}])),
                "unknown role",
            ),
        ];
        for (body, reason) in cases {
            let err = check_request(&body).unwrap_err();
            assert!(err.contains(reason), "{err} (wanted {reason:?})");
        }
        let mut tools = request(json!([{"role": "user", "content": "hi"}]));
        tools["tools"] = json!([{"type": "function", "function": {"name": "t", "strict": true,
            "parameters": {"type": "object", "properties": {"x": {"type": "string"}}}}}]);
        assert!(check_request(&tools)
            .unwrap_err()
            .contains("additionalProperties"));
        tools["tools"][0]["function"]["parameters"]["additionalProperties"] = json!(false);
        assert!(check_request(&tools).unwrap_err().contains("required"));
        // A property may be named `properties`; nested objects are checked too.
        tools["tools"][0]["function"]["parameters"] = json!({"type": "object",
            "properties": {"properties": {"type": "object", "properties": {"y": {"type": "integer"}},
                                          "required": ["y"], "additionalProperties": false}},
            "required": ["properties"], "additionalProperties": false});
        assert_eq!(check_request(&tools), Ok(()));
        tools["tools"][0]["function"]["parameters"]["properties"]["properties"]["required"] =
            json!([]);
        assert!(check_request(&tools).unwrap_err().contains("\"y\" is not"));
        tools["tools"][0]["function"]["name"] = json!("bad name");
        assert!(check_request(&tools).unwrap_err().contains("invalid tool"));
        let mut choice = request(json!([{"role": "user", "content": "hi"}]));
        choice["tool_choice"] = json!("auto");
        assert!(check_request(&choice)
            .unwrap_err()
            .contains("only allowed when `tools`"));
    }

    #[test]
    fn the_inner_model_sees_the_request_as_chat_items() {
        let body = request(json!([
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "hi"},
            {"role": "assistant", "tool_calls": [call("a")]},
            {"role": "tool", "content": "1", "tool_call_id": "a"},
        ]));
        let req = to_chat_request(&body);
        let items = req.chat_ctx.items();
        assert_eq!(items.len(), 4);
        assert!(
            matches!(&items[2], ChatItem::FunctionCall(c) if c.call_id == "a" && c.name == "t")
        );
        assert!(
            matches!(&items[3], ChatItem::FunctionCallOutput(o) if o.name == "t" && o.output == "1")
        );
        assert_eq!(req.instructions(), "be brief");
    }
}
