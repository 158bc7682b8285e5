//! `http_turn`: the `turn_overhead` turn through the real `OpenAiLlm` against an in-process
//! OpenAI-compatible server on 127.0.0.1 (axum). The client session runs on a current-thread
//! runtime; the server runs once on its own thread (figures with `"server": "own_thread"`) and
//! once as a task on the client's runtime (`"client_runtime"`: no cross-thread wake-ups).
//!
//! The server parses each request body, and streams an SSE reply: a call of the tool when the
//! last message is the user's, a short text after a tool output, a greeting otherwise. It adds
//! up its own time: the time inside its connections' polls (reading and parsing each request,
//! the handler, writing the reply), so per turn (two requests) the framework's added time =
//! client turn time − server time. That added time includes the client's HTTP stack and the
//! kernel's loopback, and with the server on its own thread the wake-ups between the two.
//! To separate the protocol's price from the framework's, each measured turn's two request
//! bodies are re-sent by a bare reqwest client (`same_body_floor`); `framework` is the added
//! time minus that, per turn.
//!
//! The history grows by four items a turn; turn times are taken in windows of 10 turns around
//! turn 1, 50 and 200 over several sessions.

use crate::fixtures::{self, IntakeAgent, AFTER_TOOL, GREETING, TOOL, TOOL_ARGS, USER_TEXT};
use crate::stats::Samples;
use crate::{current_thread_runtime, Config, Figure};
use agents_core::llm::openai::OpenAiLlm;
use agents_core::session::AgentSession;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const BENCH: &str = "http_turn";
/// The target for the framework's added time, p99, in microseconds.
const TARGET_ADDED_P99_US: f64 = 200.0;
/// The target for turn 200 over turn 1.
const TARGET_RATIO: f64 = 2.0;
/// Turns per session.
const TURNS: usize = 200;
/// (label, first turn, last turn), 1-based.
const WINDOWS: [(u64, usize, usize); 3] = [(1, 1, 10), (50, 46, 55), (200, 191, 200)];

#[derive(Default)]
struct ServerStats {
    busy_ns: AtomicU64,
    requests: AtomicU64,
    next_call: AtomicU64,
    body_bytes: AtomicU64,
    /// The bodies of the requests since the last `take`, kept while `keep_bodies` is set.
    keep_bodies: std::sync::atomic::AtomicBool,
    bodies: std::sync::Mutex<Vec<Bytes>>,
}

/// The in-process OpenAI-compatible server (stops when dropped).
pub struct Server {
    /// Base URL, `http://127.0.0.1:PORT/v1`.
    pub url: String,
    stats: Arc<ServerStats>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Where the server runs.
#[derive(Clone, Copy, PartialEq)]
pub enum Placement {
    /// Its own thread and runtime: each request and reply wakes a thread on the other CPU,
    /// as a remote server's packets would.
    OwnThread,
    /// A task on the client's current-thread runtime: no cross-thread wake-ups, so the added
    /// time is CPU work only (the framework, both HTTP stacks and the kernel's loopback).
    ClientRuntime,
}

impl Placement {
    fn label(self) -> &'static str {
        match self {
            Placement::OwnThread => "own_thread",
            Placement::ClientRuntime => "client_runtime",
        }
    }
}

/// Serves the chat completions endpoint until `stopped`, one task per connection. Each
/// connection's work (reading and parsing requests, the handler, writing replies) is timed
/// where it happens, in its polls, so the server's time holds all of the server's work and
/// none of the client's, even when both share a thread.
async fn serve(
    listener: tokio::net::TcpListener,
    stats: Arc<ServerStats>,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let app = axum::Router::new()
        .route("/v1/chat/completions", axum::routing::post(handle))
        .with_state(stats.clone());
    loop {
        let stream = tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
        };
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        let connection = hyper::server::conn::http1::Builder::new()
            .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
        tokio::spawn(Timed {
            inner: Box::pin(connection),
            stats: stats.clone(),
        });
    }
}

/// A future whose time inside `poll` is added to the server's busy time.
struct Timed<F> {
    inner: std::pin::Pin<Box<F>>,
    stats: Arc<ServerStats>,
}

impl<F: std::future::Future> std::future::Future for Timed<F> {
    type Output = ();

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        let t = Instant::now();
        let poll = self.inner.as_mut().poll(cx);
        self.stats
            .busy_ns
            .fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
        poll.map(|_| ())
    }
}

impl Server {
    /// Starts the server on a free loopback port, on its own thread.
    pub fn start() -> Server {
        let stats = Arc::new(ServerStats::default());
        let (url_tx, url_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let state = stats.clone();
        let thread = std::thread::Builder::new()
            .name("llm-server".into())
            .spawn(move || {
                current_thread_runtime().block_on(async move {
                    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                    let addr = listener.local_addr().unwrap();
                    url_tx.send(format!("http://{addr}/v1")).unwrap();
                    serve(listener, state, stopped).await;
                })
            })
            .expect("server thread");
        let url = url_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("server started");
        Server {
            url,
            stats,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Starts the server as a task of `rt` (served while `rt` runs the client).
    pub fn start_on(rt: &tokio::runtime::Runtime) -> Server {
        let stats = Arc::new(ServerStats::default());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}/v1", listener.local_addr().unwrap());
        rt.spawn(serve(listener, stats.clone(), stopped));
        Server {
            url,
            stats,
            stop: Some(stop),
            thread: None,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn event(out: &mut String, v: Value) {
    let _ = write!(out, "data: {v}\n\n");
}

fn usage(out: &mut String) {
    event(
        out,
        json!({"id": "b", "object": "chat.completion.chunk", "choices": [],
               "usage": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110}}),
    );
    out.push_str("data: [DONE]\n\n");
}

fn tool_call_sse(n: u64) -> String {
    let mut out = String::new();
    event(
        &mut out,
        json!({"id": "b", "object": "chat.completion.chunk", "choices": [{"index": 0,
            "delta": {"role": "assistant", "content": null, "tool_calls": [{"index": 0,
                "id": format!("call_{n}"), "type": "function",
                "function": {"name": TOOL, "arguments": ""}}]},
            "finish_reason": null}]}),
    );
    event(
        &mut out,
        json!({"id": "b", "object": "chat.completion.chunk", "choices": [{"index": 0,
            "delta": {"tool_calls": [{"index": 0, "function": {"arguments": TOOL_ARGS}}]},
            "finish_reason": null}]}),
    );
    event(
        &mut out,
        json!({"id": "b", "object": "chat.completion.chunk",
               "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}),
    );
    usage(&mut out);
    out
}

fn text_sse(text: &str) -> String {
    let mut out = String::new();
    event(
        &mut out,
        json!({"id": "b", "object": "chat.completion.chunk",
               "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null}]}),
    );
    for word in text.split_inclusive(' ') {
        event(
            &mut out,
            json!({"id": "b", "object": "chat.completion.chunk",
                   "choices": [{"index": 0, "delta": {"content": word}, "finish_reason": null}]}),
        );
    }
    event(
        &mut out,
        json!({"id": "b", "object": "chat.completion.chunk",
               "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
    );
    usage(&mut out);
    out
}

async fn handle(State(stats): State<Arc<ServerStats>>, request: Request) -> Response {
    let body: Bytes = axum::body::to_bytes(request.into_body(), usize::MAX)
        .await
        .unwrap_or_default();
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let last_role = parsed["messages"]
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m["role"].as_str());
    let sse = match last_role {
        Some("user") => tool_call_sse(stats.next_call.fetch_add(1, Ordering::Relaxed)),
        Some("tool") => text_sse(AFTER_TOOL),
        _ => text_sse(GREETING),
    };
    let response = Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from(sse))
        .unwrap();
    stats
        .body_bytes
        .fetch_add(body.len() as u64, Ordering::Relaxed);
    if stats.keep_bodies.load(Ordering::Relaxed) {
        if let Ok(mut bodies) = stats.bodies.lock() {
            bodies.push(body.clone());
        }
    }
    stats.requests.fetch_add(1, Ordering::Relaxed);
    response
}

/// Per window: client turn times, server times and the difference.
#[derive(Default)]
struct Window {
    client: Samples,
    server: Samples,
    added: Samples,
    body_bytes: Samples,
    /// The same turn's two request bodies re-sent by a bare reqwest client, minus server time.
    same_body_floor: Samples,
    /// `added` minus `same_body_floor`, per turn: what the framework adds beyond the HTTP
    /// exchange of the bytes the protocol requires.
    framework: Samples,
}

/// Runs `sessions` sessions of [`TURNS`] turns; returns the windows' samples.
async fn measure(server: &Server, llm: &OpenAiLlm, sessions: usize) -> Vec<Window> {
    let mut windows: Vec<Window> = WINDOWS.iter().map(|_| Window::default()).collect();
    let replay = Replay::new(server);
    for _ in 0..sessions {
        let session = AgentSession::builder(llm.clone()).build();
        let started = session.start(IntakeAgent).await.unwrap();
        assert!(started.assistant_text().contains(GREETING), "{started:?}");
        for turn_no in 1..=TURNS {
            let window = WINDOWS
                .iter()
                .position(|&(_, from, to)| (from..=to).contains(&turn_no));
            server
                .stats
                .keep_bodies
                .store(window.is_some(), Ordering::Relaxed);
            let busy = server.stats.busy_ns.load(Ordering::Relaxed);
            let bytes = server.stats.body_bytes.load(Ordering::Relaxed);
            let t = Instant::now();
            let turn = session.run(USER_TEXT).await.unwrap();
            let client = t.elapsed().as_nanos() as u64;
            let server_ns = server.stats.busy_ns.load(Ordering::Relaxed) - busy;
            let body = server.stats.body_bytes.load(Ordering::Relaxed) - bytes;
            fixtures::check_tool_turn(&turn);
            if let Some(w) = window {
                let added = client.saturating_sub(server_ns);
                let floor = replay.same_bodies().await;
                let w = &mut windows[w];
                w.client.push_ns(client);
                w.server.push_ns(server_ns);
                w.added.push_ns(added);
                w.body_bytes.push_ns(body);
                w.same_body_floor.push_ns(floor);
                w.framework.push_ns(added.saturating_sub(floor));
            }
        }
        session.close().await;
    }
    windows
}

/// Re-sends the bodies the server just received through a bare reqwest client (its own
/// connection), each response read to the end: the cost of exchanging exactly those bytes over
/// HTTP on this machine, with no framework around it.
struct Replay<'a> {
    server: &'a Server,
    client: reqwest::Client,
    url: reqwest::Url,
}

impl<'a> Replay<'a> {
    fn new(server: &'a Server) -> Self {
        Replay {
            server,
            client: reqwest::Client::new(),
            url: format!("{}/chat/completions", server.url).parse().unwrap(),
        }
    }

    /// Time of the replayed requests minus the server's time for them, in ns.
    async fn same_bodies(&self) -> u64 {
        let stats = &self.server.stats;
        stats.keep_bodies.store(false, Ordering::Relaxed);
        let bodies = std::mem::take(&mut *stats.bodies.lock().unwrap());
        assert_eq!(bodies.len(), 2, "one tool turn is two requests");
        self.exchange(bodies).await
    }

    /// Posts `bodies` one after another, each response read to the end; returns the time
    /// taken minus the server's time for them, in ns.
    async fn exchange(&self, bodies: impl IntoIterator<Item = Bytes>) -> u64 {
        let stats = &self.server.stats;
        let busy = stats.busy_ns.load(Ordering::Relaxed);
        let t = Instant::now();
        for body in bodies {
            let response = self
                .client
                .post(self.url.clone())
                .header("content-type", "application/json")
                .header("accept", "text/event-stream")
                .body(body)
                .send()
                .await
                .unwrap();
            let bytes = response.bytes().await.unwrap();
            assert!(bytes.ends_with(b"data: [DONE]\n\n"));
        }
        let client_ns = t.elapsed().as_nanos() as u64;
        client_ns.saturating_sub(stats.busy_ns.load(Ordering::Relaxed) - busy)
    }
}

/// The floor the HTTP stack sets: two plain reqwest POSTs of a one-message body, each response
/// read to the end, minus the server's time for them. What the framework adds beyond this is
/// its own.
async fn transport_floor(server: &Server, pairs: usize) -> Samples {
    let replay = Replay::new(server);
    let body = Bytes::from(
        serde_json::to_vec(&json!({
            "model": "bench-model", "stream": true,
            "messages": [{"role": "user", "content": USER_TEXT}],
        }))
        .unwrap(),
    );
    let mut samples = Samples::with_capacity(pairs);
    for i in 0..pairs + 10 {
        let ns = replay.exchange([body.clone(), body.clone()]).await;
        if i >= 10 {
            samples.push_ns(ns);
        }
    }
    samples
}

/// Runs the workload.
pub fn run(cfg: &Config) -> Vec<Figure> {
    let mut out = run_with(cfg, Placement::OwnThread);
    out.extend(run_with(cfg, Placement::ClientRuntime));
    out
}

fn run_with(cfg: &Config, placement: Placement) -> Vec<Figure> {
    let sessions = cfg.pick(25, 1);
    let rt = current_thread_runtime();
    let server = match placement {
        Placement::OwnThread => Server::start(),
        Placement::ClientRuntime => Server::start_on(&rt),
    };
    let llm = OpenAiLlm::builder()
        .base_url(&server.url)
        .api_key("x")
        .model("bench-model")
        .max_retries(0)
        .build()
        .expect("client");
    // Warm-up: connection, lazy statics.
    rt.block_on(async {
        let session = AgentSession::builder(llm.clone()).build();
        session.start(IntakeAgent).await.unwrap();
        for _ in 0..10 {
            session.run(USER_TEXT).await.unwrap();
        }
        session.close().await;
    });
    let mut windows = rt.block_on(measure(&server, &llm, sessions));
    let mut floor = rt.block_on(transport_floor(&server, cfg.pick(2_000, 50)));
    let requests = server.stats.requests.load(Ordering::Relaxed);
    drop(server);
    drop(rt);

    let mut out = Vec::new();
    let floor_n = floor.len() as u64;
    for (metric, p) in [("transport_floor_p50", 50.0), ("transport_floor_p99", 99.0)] {
        out.push(
            Figure::new(BENCH, metric, floor.percentile_us(p), "us")
                .with("samples", floor_n)
                .with("how", "2 plain reqwest POSTs (one-message body, SSE reply read to the end) minus server time: the HTTP stack's share of added_*"),
        );
    }
    let mut client_p50 = Vec::new();
    let mut added_p50 = Vec::new();
    let mut framework_p50 = Vec::new();
    for (w, &(history, from, to)) in windows.iter_mut().zip(WINDOWS.iter()) {
        let n = w.client.len() as u64;
        let f = |metric: &str, value: f64, unit: &'static str| {
            Figure::new(BENCH, metric, value, unit)
                .with("history_turns", history)
                .with("turns_window", format!("{from}-{to}"))
                .with("samples", n)
                .with("sessions", sessions as u64)
        };
        let c50 = w.client.percentile_us(50.0);
        client_p50.push(c50);
        out.push(f("client_p50", c50, "us"));
        out.push(f("client_p99", w.client.percentile_us(99.0), "us"));
        out.push(f("server_p50", w.server.percentile_us(50.0), "us").with(
            "how",
            "server time per turn (2 requests): its connections' polls, i.e. reading and parsing the requests, the handler, writing the replies",
        ));
        let a50 = w.added.percentile_us(50.0);
        added_p50.push(a50);
        out.push(f("added_p50", a50, "us"));
        out.push(f("added_p90", w.added.percentile_us(90.0), "us"));
        out.push(
            f("added_p99", w.added.percentile_us(99.0), "us")
                .at_most(TARGET_ADDED_P99_US)
                .with("how", "client turn time - server handler time, per turn"),
        );
        out.push(
            f(
                "same_body_floor_p50",
                w.same_body_floor.percentile_us(50.0),
                "us",
            )
            .with(
                "how",
                "the turn's two request bodies re-sent by a bare reqwest client, minus server time",
            ),
        );
        out.push(f(
            "same_body_floor_p99",
            w.same_body_floor.percentile_us(99.0),
            "us",
        ));
        let fw50 = w.framework.percentile_us(50.0);
        framework_p50.push(fw50);
        out.push(f("framework_p50", fw50, "us").with(
            "how",
            "added minus same_body_floor, per turn: the framework beyond exchanging the protocol's bytes",
        ));
        out.push(
            f("framework_p99", w.framework.percentile_us(99.0), "us").at_most(TARGET_ADDED_P99_US),
        );
        out.push(f(
            "request_body_per_turn",
            w.body_bytes.percentile_ns(50.0) as f64 / 1024.0,
            "KiB",
        ));
    }
    let ratios = [
        ("turn200_over_turn1", &client_p50, "client p50 of turns 191-200 / client p50 of turns 1-10"),
        ("added200_over_added1", &added_p50, "framework-added p50 of turns 191-200 / of turns 1-10 (server time taken out)"),
        ("framework200_over_framework1", &framework_p50, "framework p50 of turns 191-200 / of turns 1-10 (server time and same-body HTTP exchange taken out)"),
    ];
    for (metric, p50, how) in ratios {
        if p50[0] <= 0.0 {
            // A zero share at turn 1 (possible for `framework` in a short run) has no ratio.
            continue;
        }
        out.push(
            Figure::new(BENCH, metric, p50[2] / p50[0], "ratio")
                .at_most(TARGET_RATIO)
                .with("how", how)
                .with("requests", requests),
        );
    }
    out.into_iter()
        .map(|f| f.with("server", placement.label()))
        .collect()
}
