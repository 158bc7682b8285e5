//! Test helpers: a server on 127.0.0.1:0 and a WebSocket client speaking the protocol.
#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use agents_web::{WebCall, WebConfig, WebServer};
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Bound on every wait in the tests.
pub const WAIT: Duration = Duration::from_secs(10);

pub struct TestServer {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    pub task: tokio::task::JoinHandle<Result<(), agents_web::WebError>>,
}

impl TestServer {
    pub async fn start<H, F>(config: WebConfig, handler: H) -> TestServer
    where
        H: Fn(WebCall) -> F + Send + Sync + 'static,
        F: Future<Output = ()> + Send + 'static,
    {
        let server = WebServer::bind(WebConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            ..config
        })
        .await
        .expect("bind");
        let addr = server.local_addr();
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(server.serve_with_shutdown(handler, async move {
            let _ = rx.await;
        }));
        TestServer {
            addr,
            stop: Some(tx),
            task,
        }
    }

    pub async fn shutdown(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        tokio::time::timeout(WAIT, &mut self.task)
            .await
            .expect("server stops in time")
            .expect("server task")
            .expect("server result");
    }
}

/// Connects and reads `hello`.
pub async fn connect(addr: SocketAddr) -> (Ws, Value) {
    let (mut ws, _) = tokio::time::timeout(
        WAIT,
        tokio_tungstenite::connect_async(format!("ws://{addr}/ws")),
    )
    .await
    .expect("connect in time")
    .expect("connect");
    let hello = next_json(&mut ws).await;
    assert_eq!(hello["type"], "hello", "{hello}");
    (ws, hello)
}

/// Connects, reads `hello`, sends `start`.
pub async fn start(addr: SocketAddr, reports_playout: bool) -> (Ws, Value) {
    let (mut ws, hello) = connect(addr).await;
    send_json(
        &mut ws,
        json!({"type": "start", "reports_playout": reports_playout}),
    )
    .await;
    (ws, hello)
}

pub async fn send_json(ws: &mut Ws, v: Value) {
    ws.send(Message::Text(v.to_string().into()))
        .await
        .expect("send");
}

pub async fn send_audio(ws: &mut Ws, samples: &[i16]) {
    let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    ws.send(Message::Binary(bytes.into()))
        .await
        .expect("send audio");
}

/// Next message (ping/pong skipped), bounded by [`WAIT`].
pub async fn next(ws: &mut Ws) -> Option<Message> {
    loop {
        match tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("message in time")
        {
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(m)) => return Some(m),
            Some(Err(_)) | None => return None,
        }
    }
}

pub async fn next_json(ws: &mut Ws) -> Value {
    match next(ws).await {
        Some(Message::Text(t)) => serde_json::from_str(&t).expect("json"),
        other => panic!("expected JSON text, got {other:?}"),
    }
}

/// Reads until the server's close frame: its code and reason (skipping other messages);
/// then completes the closing handshake.
pub async fn expect_close(ws: &mut Ws) -> (u16, String) {
    let got = loop {
        match next(ws).await {
            Some(Message::Close(Some(frame))) => {
                break (u16::from(frame.code), frame.reason.to_string())
            }
            Some(Message::Close(None)) => break (u16::from(CloseCode::Status), String::new()),
            Some(_) => continue,
            None => panic!("connection ended without a close frame"),
        }
    };
    // Sends the close reply; the stream then ends.
    let _ = tokio::time::timeout(WAIT, ws.next()).await;
    got
}

pub fn bytes_to_samples(b: &[u8]) -> Vec<i16> {
    b.chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect()
}

/// A deterministic pseudo-random signal (xorshift), full 16-bit range.
pub fn noise(n: usize, seed: u32) -> Vec<i16> {
    let mut x = seed.max(1);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as i16
        })
        .collect()
}

/// A sine tone.
pub fn tone(n: usize, rate: u32, hz: f64, amp: f64) -> Vec<i16> {
    (0..n)
        .map(|i| (amp * (2.0 * std::f64::consts::PI * hz * i as f64 / rate as f64).sin()) as i16)
        .collect()
}
