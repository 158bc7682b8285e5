//! The OpenAI provider against an in-process server on 127.0.0.1 that records request bodies and
//! replays scripted Chat Completions streams. No test reaches the network, except
//! `real_openai_call`, which runs only when `OPENAI_API_KEY` is set.

use agents_core::llm::openai::{OpenAiLlm, OpenAiLlmBuilder};
use agents_core::llm::{
    AgentHandoff, ChatChunk, ChatContext, ChatRequest, ChatStream, FunctionCall,
    FunctionCallOutput, Llm, LlmError, Role, ToolCallRequest, ToolChoice, Usage,
};
use agents_core::tools::ToolDefinition;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use futures::StreamExt;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

const KEY: &str = "sk-test-SECRET-0123456789";

/// One step of a scripted event stream.
#[derive(Debug, Clone)]
enum Step {
    /// `data: <payload>` followed by a blank line.
    Data(String),
    /// Wait this many milliseconds.
    Delay(u64),
    /// Break the connection (the chunked body is never terminated).
    Abort,
    /// Send nothing more, ever.
    Stall,
    /// Send an SSE comment every 20 ms, forever (so a closed client is noticed).
    Ping,
}

/// A scripted reply.
enum Reply {
    Sse(Vec<Step>),
    Plain {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
}

#[derive(Clone, Default)]
struct Shared {
    replies: Arc<Mutex<VecDeque<Reply>>>,
    bodies: Arc<Mutex<Vec<Value>>>,
    auth: Arc<Mutex<Vec<Option<String>>>>,
    peers: Arc<Mutex<Vec<SocketAddr>>>,
    body_dropped: Arc<Notify>,
}

struct Server {
    url: String,
    shared: Shared,
}

impl Server {
    async fn start(replies: Vec<Reply>) -> Server {
        let shared = Shared::default();
        shared.replies.lock().unwrap().extend(replies);
        let app = axum::Router::new()
            .route("/v1/chat/completions", axum::routing::post(handle))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/v1", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let app = app.into_make_service_with_connect_info::<SocketAddr>();
            let _ = axum::serve(listener, app).await;
        });
        Server { url, shared }
    }

    fn bodies(&self) -> Vec<Value> {
        self.shared.bodies.lock().unwrap().clone()
    }

    fn requests(&self) -> usize {
        self.shared.bodies.lock().unwrap().len()
    }

    fn llm(&self) -> OpenAiLlmBuilder {
        OpenAiLlm::builder()
            .base_url(&self.url)
            .api_key(KEY)
            .model("test-model")
            .initial_backoff(Duration::from_millis(5))
            .max_backoff(Duration::from_millis(50))
            .request_timeout(Duration::from_secs(5))
            .idle_timeout(Duration::from_secs(5))
    }
}

async fn handle(
    State(shared): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared.peers.lock().unwrap().push(peer);
    shared
        .bodies
        .lock()
        .unwrap()
        .push(serde_json::from_slice(&body).unwrap_or(Value::Null));
    shared.auth.lock().unwrap().push(
        headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    );
    let reply = shared.replies.lock().unwrap().pop_front();
    match reply {
        None => Response::builder()
            .status(500)
            .body(Body::from("no scripted reply left"))
            .unwrap(),
        Some(Reply::Plain {
            status,
            headers,
            body,
        }) => {
            let mut response = Response::builder().status(StatusCode::from_u16(status).unwrap());
            let mut has_type = false;
            for (name, value) in headers {
                has_type |= name.eq_ignore_ascii_case("content-type");
                response = response.header(name, value);
            }
            if !has_type {
                response = response.header("content-type", "text/plain");
            }
            response.body(Body::from(body)).unwrap()
        }
        Some(Reply::Sse(steps)) => Response::builder()
            .header("content-type", "text/event-stream")
            .body(Body::from_stream(sse_body(
                steps,
                shared.body_dropped.clone(),
            )))
            .unwrap(),
    }
}

/// Signals when the response body is dropped, i.e. when the server gave up on the connection.
struct DropSignal(Arc<Notify>);

impl Drop for DropSignal {
    fn drop(&mut self) {
        self.0.notify_one();
    }
}

fn sse_body(
    steps: Vec<Step>,
    dropped: Arc<Notify>,
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> + Send {
    let state = (VecDeque::from(steps), DropSignal(dropped));
    futures::stream::unfold(state, |(mut steps, signal)| async move {
        loop {
            match steps.pop_front()? {
                Step::Data(data) => {
                    let bytes = Bytes::from(format!("data: {data}\n\n"));
                    return Some((Ok(bytes), (steps, signal)));
                }
                Step::Delay(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
                Step::Abort => {
                    return Some((
                        Err(std::io::Error::other("scripted abort")),
                        (steps, signal),
                    ))
                }
                Step::Stall => std::future::pending::<()>().await,
                Step::Ping => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    steps.push_front(Step::Ping);
                    return Some((Ok(Bytes::from_static(b": ping\n\n")), (steps, signal)));
                }
            }
        }
    })
}

fn data(v: Value) -> Step {
    Step::Data(v.to_string())
}

fn done() -> Step {
    Step::Data("[DONE]".into())
}

fn role() -> Step {
    data(json!({"id": "c", "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null}]}))
}

fn text(t: &str) -> Step {
    data(json!({"id": "c", "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {"content": t}, "finish_reason": null}]}))
}

fn finish(reason: &str) -> Step {
    data(json!({"choices": [{"index": 0, "delta": {}, "finish_reason": reason}]}))
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

fn ok_reply() -> Reply {
    Reply::Sse(vec![role(), text("ok"), finish("stop"), done()])
}

fn status(status: u16, headers: Vec<(&'static str, String)>, body: &str) -> Reply {
    Reply::Plain {
        status,
        headers,
        body: body.to_string(),
    }
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
    let server = Server::start(vec![Reply::Sse(vec![
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
    let llm = server.llm().build().unwrap();
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
        server.shared.auth.lock().unwrap()[0].as_deref(),
        Some(format!("Bearer {KEY}").as_str())
    );
}

#[tokio::test]
async fn maps_chat_context_to_messages() {
    let server = Server::start(vec![ok_reply()]).await;
    let llm = server.llm().build().unwrap();

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
    let server = Server::start((0..6).map(|_| ok_reply()).collect()).await;
    let llm = server
        .llm()
        .temperature(0.5)
        .parallel_tool_calls(false)
        .build()
        .unwrap();
    let relaxed_llm = server.llm().strict_tools(false).build().unwrap();
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
    let server = Server::start(vec![
        status(429, vec![("retry-after", "1".into())], "slow down"),
        ok_reply(),
    ])
    .await;
    // Retry-After (1 s) is capped by max_backoff (200 ms); the jittered backoff would be <= 5 ms.
    let llm = server
        .llm()
        .max_backoff(Duration::from_millis(200))
        .build()
        .unwrap();
    let started = Instant::now();
    let chunks = run(&llm, user_request("hi")).await;
    let elapsed = started.elapsed();
    assert_eq!(texts(&chunks), ["ok"]);
    assert_eq!(server.requests(), 2);
    assert!(elapsed >= Duration::from_millis(190), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(900), "{elapsed:?}");
}

#[tokio::test]
async fn server_errors_are_retried() {
    let server = Server::start(vec![
        status(500, vec![], "oops"),
        status(503, vec![], "busy"),
        ok_reply(),
    ])
    .await;
    let llm = server.llm().build().unwrap();
    let chunks = run(&llm, user_request("hi")).await;
    assert_eq!(texts(&chunks), ["ok"]);
    assert_eq!(server.requests(), 3);
    let bodies = server.bodies();
    assert_eq!(bodies[0], bodies[2], "every attempt sends the same request");
}

#[tokio::test]
async fn retries_stop_at_the_limit() {
    let server = Server::start((0..5).map(|_| status(502, vec![], "bad gateway")).collect()).await;
    let llm = server.llm().max_retries(2).build().unwrap();
    let err = llm.chat(user_request("hi")).await.err().unwrap();
    match err {
        LlmError::Status {
            status: 502,
            ref body,
            retryable: true,
        } => assert_eq!(body, "bad gateway"),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(server.requests(), 3);
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let long_body = format!("invalid_request: {}", "x".repeat(600));
    let server = Server::start(vec![status(400, vec![], &long_body), ok_reply()]).await;
    let llm = server.llm().build().unwrap();
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
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn connection_refused_is_a_connection_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
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
    let server = Server::start(vec![
        // Headers and an empty role delta, then the connection breaks: no token yet.
        Reply::Sse(vec![role(), Step::Delay(50), Step::Abort]),
        // Headers, then silence longer than the idle timeout.
        Reply::Sse(vec![Step::Stall]),
        ok_reply(),
    ])
    .await;
    let llm = server
        .llm()
        .idle_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let chunks = run(&llm, user_request("hi")).await;
    assert_eq!(texts(&chunks), ["ok"]);
    assert_eq!(server.requests(), 3);
}

#[tokio::test]
async fn close_mid_stream_is_a_stream_error() {
    let server = Server::start(vec![
        Reply::Sse(vec![text("partial "), Step::Delay(50), Step::Abort]),
        ok_reply(),
    ])
    .await;
    let llm = server.llm().build().unwrap();
    let stream = llm.chat(user_request("hi")).await.unwrap();
    let (chunks, err) = collect(stream).await;
    assert_eq!(texts(&chunks), ["partial "]);
    assert!(matches!(err, Some(LlmError::Stream(_))), "{err:?}");
    assert_eq!(
        server.requests(),
        1,
        "errors after the first token are not retried"
    );
}

#[tokio::test]
async fn stalled_stream_hits_the_idle_timeout() {
    let server = Server::start(vec![Reply::Sse(vec![text("hello"), Step::Stall])]).await;
    let llm = server
        .llm()
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
    let server = Server::start(vec![
        Reply::Sse(vec![Step::Data("this is not json".into())]),
        Reply::Sse(vec![text("ok"), Step::Data("{\"choices\": [oops".into())]),
        Reply::Sse(vec![
            text("a"),
            data(json!({"error": {"message": "model overloaded", "type": "server_error"}})),
        ]),
        status(
            200,
            vec![("content-type", "application/json".into())],
            r#"{"choices":[{"message":{"content":"hi"}}]}"#,
        ),
    ])
    .await;
    let llm = server.llm().build().unwrap();

    let err = llm.chat(user_request("hi")).await.err().unwrap();
    match &err {
        LlmError::Protocol(m) => assert!(m.contains("this is not json"), "{m}"),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(server.requests(), 1, "garbage is not retried");

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
    let server = Server::start(vec![Reply::Sse(vec![
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
    let llm = server.llm().build().unwrap();
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
    let server = Server::start(vec![Reply::Sse(vec![
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
    let llm = server.llm().build().unwrap();
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
    let server = Server::start(vec![Reply::Sse(vec![
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
    let llm = server.llm().build().unwrap();
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
    let server = Server::start(vec![Reply::Sse(vec![
        text("One moment."),
        tool(
            json!({"index": 0, "id": "z", "function": {"name": "wait", "arguments": "{\"s\":1}"}}),
        ),
    ])])
    .await;
    let llm = server.llm().build().unwrap();
    let chunks = run(&llm, user_request("hi")).await;
    assert_eq!(texts(&chunks), ["One moment."]);
    assert_eq!(calls(&chunks), [call("z", "wait", r#"{"s":1}"#)]);
}

#[tokio::test]
async fn dropping_the_stream_closes_the_connection() {
    let server = Server::start(vec![Reply::Sse(vec![text("hi"), Step::Ping])]).await;
    let llm = server.llm().build().unwrap();
    let mut stream = llm.chat(user_request("hi")).await.unwrap();
    assert_eq!(
        stream.next().await.unwrap().unwrap(),
        ChatChunk::Text("hi".into())
    );
    drop(stream);
    tokio::time::timeout(
        Duration::from_secs(5),
        server.shared.body_dropped.notified(),
    )
    .await
    .expect("the server sees the connection closed");
}

#[tokio::test]
async fn connection_is_reused_after_a_complete_reply() {
    let server = Server::start(vec![
        Reply::Sse(vec![
            text("one"),
            finish("stop"),
            usage(1, 1),
            done(),
            Step::Delay(30),
        ]),
        ok_reply(),
    ])
    .await;
    let llm = server.llm().build().unwrap();
    run(&llm, user_request("hi")).await;
    // The body's end comes 30 ms after [DONE]; it is read in the background meanwhile.
    tokio::time::sleep(Duration::from_millis(150)).await;
    run(&llm, user_request("again")).await;
    let peers = server.shared.peers.lock().unwrap().clone();
    assert_eq!(
        peers[0], peers[1],
        "the second request reuses the pooled connection"
    );
}

#[tokio::test]
async fn api_key_never_shows() {
    let server = Server::start(vec![
        status(
            401,
            vec![],
            &format!("Incorrect API key provided: {KEY}. You can find your key..."),
        ),
        Reply::Sse(vec![Step::Data(format!("garbage echoing {KEY}"))]),
    ])
    .await;
    let builder = server.llm();
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
    let server = Server::start(vec![ok_reply()]).await;
    let llm = OpenAiLlm::builder()
        .base_url(format!("{}/", server.url))
        .model("local")
        .build()
        .unwrap();
    run(&llm, user_request("hi")).await;
    assert_eq!(server.shared.auth.lock().unwrap()[0], None);
}
