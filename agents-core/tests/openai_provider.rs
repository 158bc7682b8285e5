//! The OpenAI provider against an in-process server on 127.0.0.1 (the fault server of `common`)
//! that records request bodies and replays scripted Chat Completions streams. No test reaches
//! the network, except `real_openai_call`, which runs only when `OPENAI_API_KEY` is set.

mod common;

use agents_core::llm::openai::{OpenAiLlm, OpenAiLlmBuilder};
use agents_core::llm::{
    AgentHandoff, ChatChunk, ChatContext, ChatRequest, ChatStream, FunctionCall,
    FunctionCallOutput, Llm, LlmError, Role, ToolCallRequest, ToolChoice, Usage,
};
use agents_core::tools::ToolDefinition;
use common::*;
use futures::StreamExt;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

const KEY: &str = "sk-test-SECRET-0123456789";

/// A server that answers with `replies` in order, then with a 500 once they are used up.
async fn scripted_server(replies: Vec<Plan>) -> FaultServer {
    let server = FaultServer::start().await;
    for reply in replies {
        server.push(reply);
    }
    server.set_responder(|_| status(500, &[], "no scripted reply left"));
    server
}

/// A provider for `server` with a real-looking key and timeouts generous enough for a loaded
/// machine.
fn provider(server: &FaultServer) -> OpenAiLlmBuilder {
    OpenAiLlm::builder()
        .base_url(&server.url)
        .api_key(KEY)
        .model("test-model")
        .initial_backoff(Duration::from_millis(5))
        .max_backoff(Duration::from_millis(50))
        .request_timeout(Duration::from_secs(5))
        .idle_timeout(Duration::from_secs(5))
}

fn usage(prompt: u64, completion: u64) -> Step {
    data(json!({"choices": [], "usage":
        {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}}))
}

fn tool(delta: Value) -> Step {
    data(
        json!({"choices": [{"index": 0, "delta": {"tool_calls": [delta]}, "finish_reason": null}]}),
    )
}

fn ok_reply() -> Plan {
    Plan::Sse(vec![role(), text("ok"), finish("stop"), done()])
}

fn user_request(text: &str) -> ChatRequest {
    let mut chat_ctx = ChatContext::new();
    chat_ctx.add_message(Role::User, text);
    ChatRequest {
        chat_ctx,
        ..Default::default()
    }
}

/// All chunks until the end or the first error.
async fn collect(mut stream: ChatStream) -> (Vec<ChatChunk>, Option<LlmError>) {
    let mut chunks = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(chunk) => chunks.push(chunk),
            Err(e) => return (chunks, Some(e)),
        }
    }
    (chunks, None)
}

async fn run(llm: &OpenAiLlm, request: ChatRequest) -> Vec<ChatChunk> {
    let stream = llm.chat(request).await.expect("chat starts");
    let (chunks, error) = collect(stream).await;
    assert!(error.is_none(), "unexpected error {error:?}");
    chunks
}

fn texts(chunks: &[ChatChunk]) -> Vec<&str> {
    chunks
        .iter()
        .filter_map(|c| match c {
            ChatChunk::Text(t) => Some(t.as_str()),
            _ => None,
        })
        .collect()
}

fn calls(chunks: &[ChatChunk]) -> Vec<ToolCallRequest> {
    chunks
        .iter()
        .filter_map(|c| match c {
            ChatChunk::ToolCall(t) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

fn call(id: &str, name: &str, arguments: &str) -> ToolCallRequest {
    ToolCallRequest {
        call_id: id.into(),
        name: name.into(),
        arguments: arguments.into(),
    }
}

#[tokio::test]
async fn streams_text_incrementally() {
    let server = scripted_server(vec![Plan::Sse(vec![
        role(),
        text("Hel"),
        Step::Delay(150),
        text("lo"),
        Step::Delay(150),
        text(" world"),
        finish("stop"),
        usage(12, 3),
        done(),
    ])])
    .await;
    let llm = provider(&server).build().unwrap();
    assert_eq!(llm.label(), "test-model");

    let mut stream = llm.chat(user_request("hi")).await.unwrap();
    let mut arrivals = Vec::new();
    while let Some(item) = stream.next().await {
        arrivals.push((Instant::now(), item.unwrap()));
    }
    let end = Instant::now();
    let chunks: Vec<ChatChunk> = arrivals.iter().map(|(_, c)| c.clone()).collect();
    assert_eq!(texts(&chunks), ["Hel", "lo", " world"]);
    let first_text_at = arrivals[0].0;
    assert!(
        end.duration_since(first_text_at) >= Duration::from_millis(250),
        "the first text must arrive well before the stream ends (not buffered)"
    );
    match chunks.last() {
        Some(ChatChunk::Usage(Usage {
            prompt_tokens: 12,
            completion_tokens: 3,
            time_to_first_token: Some(ttft),
        })) => assert!(*ttft < Duration::from_secs(2)),
        other => panic!("expected usage last, got {other:?}"),
    }

    let body = &server.bodies()[0];
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"], json!({"include_usage": true}));
    assert_eq!(body["messages"], json!([{"role": "user", "content": "hi"}]));
    for absent in ["tools", "tool_choice", "parallel_tool_calls", "temperature"] {
        assert!(body.get(absent).is_none(), "{absent} must be omitted");
    }
    assert_eq!(
        server.auths()[0].as_deref(),
        Some(format!("Bearer {KEY}").as_str())
    );
}

#[tokio::test]
async fn maps_chat_context_to_messages() {
    let server = scripted_server(vec![ok_reply()]).await;
    let llm = provider(&server).build().unwrap();

    let mut ctx = ChatContext::new();
    ctx.add_message(Role::System, "be brief");
    ctx.add_message(Role::Developer, "you sell tea");
    ctx.add_message(Role::User, "what's up?");
    ctx.add_message(Role::Assistant, "let me check");
    let c1 = FunctionCall::new("c1", "lookup", r#"{"q":"tea"}"#);
    let c2 = FunctionCall::new("c2", "weather", "{}");
    ctx.push(c1.clone());
    ctx.push(c2.clone());
    ctx.push(FunctionCallOutput::new(&c1, "green", false));
    ctx.push(FunctionCallOutput::new(&c2, "failed: offline", true));
    ctx.push(AgentHandoff::new(None, "sales"));
    ctx.add_message(Role::Assistant, "green tea it is");
    ctx.add_message(Role::User, "thanks");
    let c3 = FunctionCall::new("c3", "hang_up", "");
    ctx.push(c3.clone());
    ctx.push(FunctionCallOutput::new(&c3, "bye", false));

    run(
        &llm,
        ChatRequest {
            chat_ctx: ctx,
            ..Default::default()
        },
    )
    .await;
    let body = &server.bodies()[0];
    assert_eq!(
        body["messages"],
        json!([
            {"role": "system", "content": "be brief"},
            {"role": "system", "content": "you sell tea"},
            {"role": "user", "content": "what's up?"},
            {"role": "assistant", "content": "let me check", "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": "{\"q\":\"tea\"}"}},
                {"id": "c2", "type": "function", "function": {"name": "weather", "arguments": "{}"}}
            ]},
            {"role": "tool", "tool_call_id": "c1", "content": "green"},
            {"role": "tool", "tool_call_id": "c2", "content": "failed: offline"},
            {"role": "assistant", "content": "green tea it is"},
            {"role": "user", "content": "thanks"},
            {"role": "assistant", "tool_calls": [
                {"id": "c3", "type": "function", "function": {"name": "hang_up", "arguments": ""}}
            ]},
            {"role": "tool", "tool_call_id": "c3", "content": "bye"}
        ])
    );
}

fn strict_tool() -> ToolDefinition {
    let def = ToolDefinition::new(
        "lookup",
        "Look a word up",
        json!({"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}),
    );
    assert!(def.strict);
    def
}

fn loose_tool() -> ToolDefinition {
    ToolDefinition {
        name: "free_form".into(),
        description: "Anything goes".into(),
        parameters: json!({"type": "object", "marker": "strict"}),
        relaxed_parameters: json!({"type": "object", "marker": "relaxed"}),
        strict: false,
        ignore_on_enter: false,
    }
}

#[tokio::test]
async fn tools_tool_choice_and_sampling_options() {
    let server = scripted_server((0..6).map(|_| ok_reply()).collect()).await;
    let llm = provider(&server)
        .temperature(0.5)
        .parallel_tool_calls(false)
        .build()
        .unwrap();
    let relaxed_llm = provider(&server).strict_tools(false).build().unwrap();
    let tools = vec![Arc::new(strict_tool()), Arc::new(loose_tool())];
    let with_tools = |choice: ToolChoice, parallel: Option<bool>, temperature: Option<f32>| {
        let mut r = user_request("hi");
        r.tools = tools.clone();
        r.tool_choice = choice;
        r.parallel_tool_calls = parallel;
        r.temperature = temperature;
        r
    };

    run(&llm, with_tools(ToolChoice::Auto, None, None)).await;
    run(&llm, with_tools(ToolChoice::None, Some(true), Some(0.25))).await;
    run(&llm, with_tools(ToolChoice::Required, None, None)).await;
    run(
        &llm,
        with_tools(ToolChoice::Named("lookup".into()), None, None),
    )
    .await;
    run(&relaxed_llm, with_tools(ToolChoice::Auto, None, None)).await;
    run(&llm, user_request("no tools")).await;

    let bodies = server.bodies();
    let strict = strict_tool();
    assert_eq!(
        bodies[0]["tools"],
        json!([
            {"type": "function", "function": {"name": "lookup", "description": "Look a word up",
                "parameters": strict.parameters, "strict": true}},
            {"type": "function", "function": {"name": "free_form", "description": "Anything goes",
                "parameters": {"type": "object", "marker": "relaxed"}, "strict": false}}
        ])
    );
    assert_eq!(bodies[0]["tool_choice"], "auto");
    assert_eq!(bodies[0]["parallel_tool_calls"], false);
    assert_eq!(bodies[0]["temperature"], 0.5);

    assert_eq!(bodies[1]["tool_choice"], "none");
    assert_eq!(bodies[1]["parallel_tool_calls"], true);
    assert_eq!(bodies[1]["temperature"], 0.25);

    assert_eq!(bodies[2]["tool_choice"], "required");
    assert_eq!(
        bodies[3]["tool_choice"],
        json!({"type": "function", "function": {"name": "lookup"}})
    );

    let relaxed = &bodies[4]["tools"][0]["function"];
    assert_eq!(relaxed["strict"], false);
    assert_eq!(relaxed["parameters"], strict.relaxed_parameters);
    assert!(bodies[4].get("parallel_tool_calls").is_none());
    assert!(bodies[4].get("temperature").is_none());

    for absent in ["tools", "tool_choice", "parallel_tool_calls"] {
        assert!(bodies[5].get(absent).is_none(), "{absent} must be omitted");
    }
    assert_eq!(bodies[5]["temperature"], 0.5);
}

#[tokio::test]
async fn rate_limit_is_retried_after_retry_after() {
    let server = scripted_server(vec![
        status(429, &[("retry-after", "1")], "slow down"),
        ok_reply(),
    ])
    .await;
    // Retry-After (1 s) is capped by max_backoff (200 ms); the jittered backoff would be <= 5 ms.
    let llm = provider(&server)
        .max_backoff(Duration::from_millis(200))
        .build()
        .unwrap();
    let started = Instant::now();
    let chunks = run(&llm, user_request("hi")).await;
    let elapsed = started.elapsed();
    assert_eq!(texts(&chunks), ["ok"]);
    assert_eq!(server.request_count(), 2);
    assert!(elapsed >= Duration::from_millis(190), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(900), "{elapsed:?}");
}

#[tokio::test]
async fn server_errors_are_retried() {
    let server = scripted_server(vec![
        status(500, &[], "oops"),
        status(503, &[], "busy"),
        ok_reply(),
    ])
    .await;
    let llm = provider(&server).build().unwrap();
    let chunks = run(&llm, user_request("hi")).await;
    assert_eq!(texts(&chunks), ["ok"]);
    assert_eq!(server.request_count(), 3);
    let bodies = server.bodies();
    assert_eq!(bodies[0], bodies[2], "every attempt sends the same request");
}

#[tokio::test]
async fn retries_stop_at_the_limit() {
    let server = scripted_server((0..5).map(|_| status(502, &[], "bad gateway")).collect()).await;
    let llm = provider(&server).max_retries(2).build().unwrap();
    let err = llm.chat(user_request("hi")).await.err().unwrap();
    match err {
        LlmError::Status {
            status: 502,
            ref body,
            retryable: true,
        } => assert_eq!(body, "bad gateway"),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(server.request_count(), 3);
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let long_body = format!("invalid_request: {}", "x".repeat(600));
    let server = scripted_server(vec![status(400, &[], &long_body), ok_reply()]).await;
    let llm = provider(&server).build().unwrap();
    let err = llm.chat(user_request("hi")).await.err().unwrap();
    match &err {
        LlmError::Status {
            status: 400,
            body,
            retryable: false,
        } => {
            assert!(body.starts_with("invalid_request: xxx"));
            assert_eq!(body.chars().count(), 500);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("HTTP 400"));
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn connection_refused_is_a_connection_error() {
    let port = closed_port();
    let llm = OpenAiLlm::builder()
        .base_url(format!("http://127.0.0.1:{port}/v1"))
        .max_retries(2)
        .initial_backoff(Duration::from_millis(5))
        .build()
        .unwrap();
    let err = llm.chat(user_request("hi")).await.err().unwrap();
    assert!(matches!(err, LlmError::Connection(_)), "{err:?}");
}

#[tokio::test]
async fn breaks_before_the_first_token_are_retried() {
    let server = scripted_server(vec![
        // Headers and an empty role delta, then the connection breaks: no token yet.
        Plan::Sse(vec![role(), Step::Delay(50), Step::Abort]),
        // Headers, then silence longer than the idle timeout.
        Plan::Sse(vec![Step::Stall]),
        ok_reply(),
    ])
    .await;
    let llm = provider(&server)
        .idle_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let chunks = run(&llm, user_request("hi")).await;
    assert_eq!(texts(&chunks), ["ok"]);
    assert_eq!(server.request_count(), 3);
}

#[tokio::test]
async fn close_mid_stream_is_a_stream_error() {
    let server = scripted_server(vec![
        Plan::Sse(vec![text("partial "), Step::Delay(50), Step::Abort]),
        ok_reply(),
    ])
    .await;
    let llm = provider(&server).build().unwrap();
    let stream = llm.chat(user_request("hi")).await.unwrap();
    let (chunks, err) = collect(stream).await;
    assert_eq!(texts(&chunks), ["partial "]);
    assert!(matches!(err, Some(LlmError::Stream(_))), "{err:?}");
    assert_eq!(
        server.request_count(),
        1,
        "errors after the first token are not retried"
    );
}

#[tokio::test]
async fn stalled_stream_hits_the_idle_timeout() {
    let server = scripted_server(vec![Plan::Sse(vec![text("hello"), Step::Stall])]).await;
    let llm = provider(&server)
        .idle_timeout(Duration::from_millis(150))
        .build()
        .unwrap();
    let started = Instant::now();
    let stream = llm.chat(user_request("hi")).await.unwrap();
    let (chunks, err) = collect(stream).await;
    assert_eq!(texts(&chunks), ["hello"]);
    match err {
        Some(LlmError::Stream(message)) => assert!(message.contains("idle"), "{message}"),
        other => panic!("expected an idle stream error, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn garbage_and_in_stream_errors() {
    let server = scripted_server(vec![
        Plan::Sse(vec![Step::Data("this is not json".into())]),
        Plan::Sse(vec![text("ok"), Step::Data("{\"choices\": [oops".into())]),
        Plan::Sse(vec![
            text("a"),
            data(json!({"error": {"message": "model overloaded", "type": "server_error"}})),
        ]),
        status(
            200,
            &[("content-type", "application/json")],
            r#"{"choices":[{"message":{"content":"hi"}}]}"#,
        ),
    ])
    .await;
    let llm = provider(&server).build().unwrap();

    let err = llm.chat(user_request("hi")).await.err().unwrap();
    match &err {
        LlmError::Protocol(m) => assert!(m.contains("this is not json"), "{m}"),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(server.request_count(), 1, "garbage is not retried");

    let (chunks, err) = collect(llm.chat(user_request("hi")).await.unwrap()).await;
    assert_eq!(texts(&chunks), ["ok"]);
    assert!(
        matches!(&err, Some(LlmError::Protocol(m)) if m.contains("oops")),
        "{err:?}"
    );

    let (_, err) = collect(llm.chat(user_request("hi")).await.unwrap()).await;
    assert!(
        matches!(&err, Some(LlmError::Stream(m)) if m.contains("model overloaded")),
        "{err:?}"
    );

    let err = llm.chat(user_request("hi")).await.err().unwrap();
    assert!(matches!(err, LlmError::Protocol(_)), "{err:?}");
}

#[tokio::test]
async fn tool_call_deltas_are_accumulated() {
    let server = scripted_server(vec![Plan::Sse(vec![
        role(),
        text("Checking."),
        tool(
            json!({"index": 0, "id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": ""}}),
        ),
        tool(json!({"index": 0, "function": {"arguments": "{\"q\":"}})),
        Step::Delay(20),
        tool(json!({"index": 0, "function": {"arguments": "\"tea\"}"}})),
        finish("tool_calls"),
        usage(20, 9),
        done(),
    ])])
    .await;
    let llm = provider(&server).build().unwrap();
    let chunks = run(&llm, user_request("hi")).await;
    assert_eq!(chunks.len(), 3, "{chunks:?}");
    assert_eq!(chunks[0], ChatChunk::Text("Checking.".into()));
    assert_eq!(
        chunks[1],
        ChatChunk::ToolCall(call("call_1", "lookup", r#"{"q":"tea"}"#))
    );
    assert!(matches!(
        chunks[2],
        ChatChunk::Usage(Usage {
            prompt_tokens: 20,
            completion_tokens: 9,
            ..
        })
    ));
}

#[tokio::test]
async fn tool_call_quirks_are_tolerated() {
    let server = scripted_server(vec![Plan::Sse(vec![
        // No choices, unknown fields.
        data(json!({"id": "x", "weird": {"nested": true}, "choices": []})),
        // No index anywhere, null content, arguments as an object.
        data(
            json!({"choices": [{"delta": {"content": null, "tool_calls": [
            {"id": "a", "function": {"name": "first", "arguments": {"x": 1}}}]}}]}),
        ),
        // Continues "a" (no id, no index); null arguments.
        data(
            json!({"choices": [{"index": 0, "delta": {"content": "", "tool_calls": [
            {"function": {"arguments": null}}]}}]}),
        ),
        // A new id without index starts a new call.
        data(json!({"choices": [{"index": 0, "delta": {"tool_calls": [
            {"id": "b", "type": "function", "function": {"name": "second", "arguments": ""}}]}}]})),
        // Last chunk has no finish_reason; whitespace-only arguments.
        data(json!({"choices": [{"index": 0, "delta": {"tool_calls": [
            {"function": {"arguments": "  "}}]}}], "usage": null})),
        done(),
    ])])
    .await;
    let llm = provider(&server).build().unwrap();
    let chunks = run(&llm, user_request("hi")).await;
    assert_eq!(
        chunks,
        [
            ChatChunk::ToolCall(call("a", "first", r#"{"x":1}"#)),
            ChatChunk::ToolCall(call("b", "second", "{}")),
        ]
    );
}

#[tokio::test]
async fn parallel_tool_calls_are_interleaved_by_index() {
    let server = scripted_server(vec![Plan::Sse(vec![
        role(),
        tool(
            json!({"index": 0, "id": "c0", "type": "function", "function": {"name": "get_weather", "arguments": ""}}),
        ),
        tool(
            json!({"index": 1, "id": "c1", "type": "function", "function": {"name": "get_time", "arguments": ""}}),
        ),
        tool(json!({"index": 0, "function": {"arguments": "{\"city\":"}})),
        tool(json!({"index": 1, "function": {"arguments": "{\"tz\":"}})),
        data(json!({"choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 1, "function": {"arguments": "\"CET\"}"}},
            {"index": 0, "function": {"arguments": "\"Paris\"}"}}]}}]})),
        finish("tool_calls"),
        done(),
    ])])
    .await;
    let llm = provider(&server).build().unwrap();
    let chunks = run(&llm, user_request("hi")).await;
    assert_eq!(
        calls(&chunks),
        [
            call("c0", "get_weather", r#"{"city":"Paris"}"#),
            call("c1", "get_time", r#"{"tz":"CET"}"#),
        ]
    );
}

#[tokio::test]
async fn clean_end_without_done_still_flushes() {
    let server = scripted_server(vec![Plan::Sse(vec![
        text("One moment."),
        tool(
            json!({"index": 0, "id": "z", "function": {"name": "wait", "arguments": "{\"s\":1}"}}),
        ),
    ])])
    .await;
    let llm = provider(&server).build().unwrap();
    let chunks = run(&llm, user_request("hi")).await;
    assert_eq!(texts(&chunks), ["One moment."]);
    assert_eq!(calls(&chunks), [call("z", "wait", r#"{"s":1}"#)]);
}

#[tokio::test]
async fn dropping_the_stream_closes_the_connection() {
    let server = scripted_server(vec![Plan::Sse(vec![text("hi"), Step::Ping])]).await;
    let llm = provider(&server).build().unwrap();
    let mut stream = llm.chat(user_request("hi")).await.unwrap();
    assert_eq!(
        stream.next().await.unwrap().unwrap(),
        ChatChunk::Text("hi".into())
    );
    drop(stream);
    assert!(
        server.wait_for_drop(Duration::from_secs(5)).await,
        "the server sees the connection closed"
    );
}

#[tokio::test]
async fn connection_is_reused_after_a_complete_reply() {
    let server = scripted_server(vec![
        Plan::Sse(vec![
            text("one"),
            finish("stop"),
            usage(1, 1),
            done(),
            Step::Delay(30),
        ]),
        ok_reply(),
    ])
    .await;
    let llm = provider(&server).build().unwrap();
    run(&llm, user_request("hi")).await;
    // The body's end comes 30 ms after [DONE]; it is read in the background meanwhile.
    tokio::time::sleep(Duration::from_millis(150)).await;
    run(&llm, user_request("again")).await;
    let peers = server.peers();
    assert_eq!(
        peers[0], peers[1],
        "the second request reuses the pooled connection"
    );
}

#[tokio::test]
async fn api_key_never_shows() {
    let server = scripted_server(vec![
        status(
            401,
            &[],
            &format!("Incorrect API key provided: {KEY}. You can find your key..."),
        ),
        Plan::Sse(vec![Step::Data(format!("garbage echoing {KEY}"))]),
    ])
    .await;
    let builder = provider(&server);
    assert!(!format!("{builder:?}").contains(KEY));
    let llm = builder.build().unwrap();
    let debug = format!("{llm:?}");
    assert!(!debug.contains(KEY), "{debug}");
    assert!(debug.contains("***"), "{debug}");

    for _ in 0..2 {
        let err = llm.chat(user_request("hi")).await.err().unwrap();
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains(KEY), "{shown}");
        assert!(shown.contains("***"), "{shown}");
    }
}

#[tokio::test]
async fn configuration_is_checked() {
    let err = OpenAiLlm::builder().build().unwrap_err();
    assert!(matches!(err, LlmError::Config(_)), "{err:?}");
    for bad in ["not a url", "ftp://example.com/v1"] {
        let err = OpenAiLlm::builder()
            .base_url(bad)
            .api_key(KEY)
            .build()
            .unwrap_err();
        assert!(matches!(err, LlmError::Config(_)), "{bad}: {err:?}");
    }
    let err = OpenAiLlm::builder()
        .api_key("bad\nkey")
        .build()
        .unwrap_err();
    assert!(!err.to_string().contains("bad\nkey"));

    // A local server needs no key, and then no Authorization header is sent.
    let server = scripted_server(vec![ok_reply()]).await;
    let llm = OpenAiLlm::builder()
        .base_url(format!("{}/", server.url))
        .model("local")
        .build()
        .unwrap();
    run(&llm, user_request("hi")).await;
    assert_eq!(server.auths()[0], None);
}
