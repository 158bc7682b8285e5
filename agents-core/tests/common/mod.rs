//! Shared by the reliability tests: an in-process OpenAI-compatible streaming server on
//! 127.0.0.1 that records every request body and answers each request with a [`Plan`] — a normal
//! reply or an injected fault — plus builders for Chat Completions stream chunks.
//!
//! Plans come from a queue (`push`) and, when the queue is empty, from a responder closure that
//! sees the request body (by default: a short text reply). Nothing here reaches the network.

#![allow(dead_code)]

pub mod address;

use agents_core::llm::openai::{OpenAiLlm, OpenAiLlmBuilder};
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::task::AbortOnDropHandle;

/// One step of a streamed (`text/event-stream`) response body.
#[derive(Debug, Clone)]
pub enum Step {
    /// `data: <payload>` and a blank line.
    Data(String),
    /// These bytes as they are (garbage, invalid UTF-8, odd framing).
    Raw(Vec<u8>),
    /// Wait this many milliseconds.
    Delay(u64),
    /// Break the connection: the chunked body is never terminated.
    Abort,
    /// Send nothing more, ever (until the client goes away).
    Stall,
    /// An SSE comment every 20 ms, forever, so a client that went away is noticed.
    Ping,
}

/// What the server does with one request.
#[derive(Debug, Clone)]
pub enum Plan {
    /// `200 text/event-stream` with these steps.
    Sse(Vec<Step>),
    /// A plain response (errors, or a 200 with the wrong content type).
    Status {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
}

type Responder = Box<dyn FnMut(&Value) -> Plan + Send>;

#[derive(Clone)]
struct Shared {
    queue: Arc<Mutex<VecDeque<Plan>>>,
    responder: Arc<Mutex<Responder>>,
    bodies: Arc<Mutex<Vec<Value>>>,
    /// The `Authorization` header of each request, if any.
    auths: Arc<Mutex<Vec<Option<String>>>>,
    /// The client address of each request.
    peers: Arc<Mutex<Vec<SocketAddr>>>,
    /// Notified when a streamed body is dropped before all its steps were sent, i.e. when the
    /// client went away mid-stream.
    dropped: Arc<Notify>,
    unfinished: Arc<AtomicUsize>,
}

/// The fault-injecting server.
pub struct FaultServer {
    /// Base URL, e.g. `http://127.0.0.1:PORT/v1`.
    pub url: String,
    shared: Shared,
    /// The serving task, stopped when the server is dropped.
    _task: AbortOnDropHandle<()>,
}

impl FaultServer {
    /// A server on a fresh port.
    pub async fn start() -> FaultServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::start_on(listener)
    }

    /// A server on `listener` (e.g. one bound late to a port that refused connections before).
    pub fn start_on(listener: tokio::net::TcpListener) -> FaultServer {
        let shared = Shared {
            queue: Arc::default(),
            responder: Arc::new(Mutex::new(Box::new(echo))),
            bodies: Arc::default(),
            auths: Arc::default(),
            peers: Arc::default(),
            dropped: Arc::default(),
            unfinished: Arc::default(),
        };
        let app = axum::Router::new()
            .route("/v1/chat/completions", axum::routing::post(handle))
            .with_state(shared.clone());
        let url = format!("http://{}/v1", listener.local_addr().unwrap());
        let task = AbortOnDropHandle::new(tokio::spawn(async move {
            let app = app.into_make_service_with_connect_info::<SocketAddr>();
            let _ = axum::serve(listener, app).await;
        }));
        FaultServer {
            url,
            shared,
            _task: task,
        }
    }

    /// Answers the next request not yet planned with `plan`.
    pub fn push(&self, plan: Plan) {
        self.shared.queue.lock().unwrap().push_back(plan);
    }

    /// Answers requests with `f` once the queue is empty.
    pub fn set_responder(&self, f: impl FnMut(&Value) -> Plan + Send + 'static) {
        *self.shared.responder.lock().unwrap() = Box::new(f);
    }

    /// Every request body received, oldest first.
    pub fn bodies(&self) -> Vec<Value> {
        self.shared.bodies.lock().unwrap().clone()
    }

    /// The latest request body.
    pub fn last_body(&self) -> Value {
        self.shared
            .bodies
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("the server received a request")
    }

    /// The `Authorization` header of each request (`None` where it had none), oldest first.
    pub fn auths(&self) -> Vec<Option<String>> {
        self.shared.auths.lock().unwrap().clone()
    }

    /// The client address of each request, oldest first.
    pub fn peers(&self) -> Vec<SocketAddr> {
        self.shared.peers.lock().unwrap().clone()
    }

    /// How many requests arrived.
    pub fn request_count(&self) -> usize {
        self.shared.bodies.lock().unwrap().len()
    }

    /// Waits (at most `within`) until a streamed body is dropped before its end.
    pub async fn wait_for_drop(&self, within: Duration) -> bool {
        let notified = self.shared.dropped.notified();
        if self.shared.unfinished.load(Ordering::SeqCst) > 0 {
            return true;
        }
        tokio::time::timeout(within, notified).await.is_ok()
    }

    /// How many streamed bodies were dropped before their end.
    pub fn unfinished_streams(&self) -> usize {
        self.shared.unfinished.load(Ordering::SeqCst)
    }

    /// An `OpenAiLlm` builder for this server with short timeouts and backoffs.
    pub fn llm(&self) -> OpenAiLlmBuilder {
        llm_for(&self.url)
    }
}

/// A builder pointing at `url` with the short timeouts the reliability tests use: 2 retries,
/// 2–20 ms backoff, 150 ms idle timeout.
pub fn llm_for(url: &str) -> OpenAiLlmBuilder {
    OpenAiLlm::builder()
        .base_url(url)
        .api_key("test")
        .model("fault-model")
        .max_retries(2)
        .initial_backoff(Duration::from_millis(2))
        .max_backoff(Duration::from_millis(20))
        .request_timeout(Duration::from_secs(2))
        .idle_timeout(Duration::from_millis(150))
}

/// A local port on which nothing listens (bound, then released).
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

async fn handle(
    State(shared): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared.peers.lock().unwrap().push(peer);
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    shared.auths.lock().unwrap().push(auth);
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    shared.bodies.lock().unwrap().push(body.clone());
    let queued = shared.queue.lock().unwrap().pop_front();
    let plan = match queued {
        Some(p) => p,
        None => (shared.responder.lock().unwrap())(&body),
    };
    match plan {
        Plan::Status {
            status,
            headers,
            body,
        } => {
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
        Plan::Sse(steps) => Response::builder()
            .header("content-type", "text/event-stream")
            .body(Body::from_stream(sse_body(steps, shared)))
            .unwrap(),
    }
}

/// Counts and signals a body dropped before its last step.
struct DropSignal {
    shared: Shared,
    finished: bool,
}

impl DropSignal {
    fn finish(&mut self) {
        self.finished = true;
    }
}

impl Drop for DropSignal {
    fn drop(&mut self) {
        if !self.finished {
            self.shared.unfinished.fetch_add(1, Ordering::SeqCst);
            self.shared.dropped.notify_waiters();
        }
    }
}

fn sse_body(
    steps: Vec<Step>,
    shared: Shared,
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> + Send {
    let signal = DropSignal {
        shared,
        finished: false,
    };
    futures::stream::unfold(
        (VecDeque::from(steps), signal),
        |(mut steps, mut signal)| async move {
            loop {
                let Some(step) = steps.pop_front() else {
                    signal.finish();
                    return None;
                };
                match step {
                    Step::Data(data) => {
                        let bytes = Bytes::from(format!("data: {data}\n\n"));
                        return Some((Ok(bytes), (steps, signal)));
                    }
                    Step::Raw(bytes) => return Some((Ok(Bytes::from(bytes)), (steps, signal))),
                    Step::Delay(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
                    Step::Abort => {
                        // The client sees the connection break; this is the planned end.
                        signal.finish();
                        return Some((
                            Err(std::io::Error::other("injected abort")),
                            (steps, signal),
                        ));
                    }
                    Step::Stall => std::future::pending::<()>().await,
                    Step::Ping => {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        steps.push_front(Step::Ping);
                        return Some((Ok(Bytes::from_static(b": ping\n\n")), (steps, signal)));
                    }
                }
            }
        },
    )
}

// ---- stream builders ----

pub fn data(v: Value) -> Step {
    Step::Data(v.to_string())
}

pub fn role() -> Step {
    data(json!({"id": "c", "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null}]}))
}

pub fn text(t: &str) -> Step {
    data(json!({"id": "c", "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {"content": t}, "finish_reason": null}]}))
}

pub fn finish(reason: &str) -> Step {
    data(json!({"choices": [{"index": 0, "delta": {}, "finish_reason": reason}]}))
}

pub fn usage() -> Step {
    data(
        json!({"choices": [], "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12}}),
    )
}

pub fn done() -> Step {
    Step::Data("[DONE]".into())
}

/// The first fragment of a streamed tool call.
pub fn tool_start(index: u64, id: &str, name: &str) -> Step {
    data(json!({"choices": [{"index": 0, "delta": {"tool_calls": [
        {"index": index, "id": id, "type": "function", "function": {"name": name, "arguments": ""}}
    ]}, "finish_reason": null}]}))
}

/// A fragment of a streamed tool call's arguments.
pub fn tool_args(index: u64, fragment: &str) -> Step {
    data(json!({"choices": [{"index": 0, "delta": {"tool_calls": [
        {"index": index, "function": {"arguments": fragment}}
    ]}, "finish_reason": null}]}))
}

/// A complete text reply.
pub fn text_reply(t: &str) -> Plan {
    Plan::Sse(vec![role(), text(t), finish("stop"), usage(), done()])
}

/// A complete reply calling the tools `(call id, name, raw JSON arguments)`, the arguments of
/// each streamed in two fragments.
pub fn calls_reply(calls: &[(&str, &str, &str)]) -> Plan {
    let mut steps = vec![role()];
    for (i, (id, name, args)) in calls.iter().enumerate() {
        let i = i as u64;
        steps.push(tool_start(i, id, name));
        let cut = args
            .char_indices()
            .map(|(p, _)| p)
            .nth(args.chars().count() / 2)
            .unwrap_or(args.len());
        let (a, b) = args.split_at(cut);
        steps.push(tool_args(i, a));
        steps.push(tool_args(i, b));
    }
    steps.push(finish("tool_calls"));
    steps.push(usage());
    steps.push(done());
    Plan::Sse(steps)
}

/// One tool call.
pub fn call_reply(id: &str, name: &str, args: &str) -> Plan {
    calls_reply(&[(id, name, args)])
}

/// A plain HTTP response.
pub fn status(status: u16, headers: &[(&str, &str)], body: &str) -> Plan {
    Plan::Status {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: body.to_string(),
    }
}

// ---- reading request bodies ----

/// The request's messages.
pub fn messages(body: &Value) -> Vec<Value> {
    body["messages"].as_array().cloned().unwrap_or_default()
}

/// The contents of the request's messages by `role`, in order.
pub fn texts_of(body: &Value, role: &str) -> Vec<String> {
    messages(body)
        .iter()
        .filter(|m| m["role"] == role)
        .filter_map(|m| m["content"].as_str().map(str::to_string))
        .collect()
}

/// The contents of the request's user messages, in order.
pub fn user_texts(body: &Value) -> Vec<String> {
    texts_of(body, "user")
}

/// The contents of the request's tool messages, in order.
pub fn tool_outputs(body: &Value) -> Vec<String> {
    texts_of(body, "tool")
}

/// The contents of the request's assistant messages, in order.
pub fn assistant_texts(body: &Value) -> Vec<String> {
    texts_of(body, "assistant")
}

/// Names of the tools offered in the request.
pub fn offered_tools(body: &Value) -> Vec<String> {
    body["tools"]
        .as_array()
        .map(|tools| {
            tools
                .iter()
                .filter_map(|t| t["function"]["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether the last message of the request is a tool output.
pub fn ends_with_tool_output(body: &Value) -> bool {
    messages(body).last().is_some_and(|m| m["role"] == "tool")
}

/// Whether `needles` appear in `hay` in order (not necessarily next to each other).
pub fn is_subsequence(needles: &[String], hay: &[String]) -> bool {
    let mut it = hay.iter();
    needles.iter().all(|n| it.any(|h| h == n))
}

/// The default answer: a short text that names how many user messages it saw, or "Noted."
/// right after tool outputs.
pub fn echo(body: &Value) -> Plan {
    if ends_with_tool_output(body) {
        text_reply("Noted.")
    } else {
        text_reply(&format!("I have {} user messages.", user_texts(body).len()))
    }
}
