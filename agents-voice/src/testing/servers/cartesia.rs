//! Cartesia-like streaming TTS test server (`/tts/websocket`).
//!
//! It checks the handshake (`X-API-Key`, `Cartesia-Version`) and every generation
//! request (`model_id`, `voice`, `context_id`, raw `pcm_s16le` output), answers each
//! transcript with base64 `chunk` messages of [`tone_for_text`](super::tone_for_text)
//! audio, and a `done` message when a context is closed (`continue: false`).
//! Faults are per connection, in order.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use base64::Engine;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::Message;

use super::{lock, tone_for_text, Running};

/// What one connection does wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CartesiaFault {
    /// Reject the handshake with this status.
    RejectHandshake(u16),
    /// Answer the first request with an `error` message (this status) before any audio.
    ErrorBeforeAudio(u16),
    /// Send one audio chunk, then an `error` message.
    ErrorAfterAudio,
    /// Accept requests but never answer.
    Hang,
}

#[derive(Default)]
struct Inner {
    faults: VecDeque<CartesiaFault>,
    requests: Vec<Value>,
    connections: usize,
}

/// The server; stops when dropped.
pub struct CartesiaServer(Running<Inner>);

impl CartesiaServer {
    /// Starts on a free loopback port.
    pub async fn start() -> std::io::Result<Self> {
        Running::ws("/tts/websocket", Inner::default(), serve)
            .await
            .map(Self)
    }

    /// The WebSocket URL.
    pub fn url(&self) -> &str {
        self.0.url()
    }

    /// Queues a fault for the next connection.
    pub fn push_fault(&self, fault: CartesiaFault) {
        self.0.state().faults.push_back(fault);
    }

    /// Generation requests received (all connections), in order.
    pub fn requests(&self) -> Vec<Value> {
        self.0.state().requests.clone()
    }

    /// Connection attempts so far (including rejected handshakes).
    pub fn connections(&self) -> usize {
        self.0.state().connections
    }
}

/// Checks a generation request; returns why it is invalid.
fn check(v: &Value) -> Result<(), String> {
    let s = |k: &str| v.get(k).and_then(Value::as_str);
    if s("model_id").is_none() || s("context_id").is_none() || s("transcript").is_none() {
        return Err("model_id, context_id and transcript are required".into());
    }
    if v.pointer("/voice/mode").and_then(Value::as_str) != Some("id")
        || v.pointer("/voice/id").is_none()
    {
        return Err("voice must be {mode: id, id}".into());
    }
    let fmt = |k: &str| v.pointer(&format!("/output_format/{k}")).cloned();
    if fmt("container") != Some(json!("raw")) || fmt("encoding") != Some(json!("pcm_s16le")) {
        return Err("output_format must be raw pcm_s16le".into());
    }
    if fmt("sample_rate").and_then(|r| r.as_u64()).is_none() {
        return Err("output_format.sample_rate is required".into());
    }
    Ok(())
}

#[allow(clippy::result_large_err)] // the tungstenite handshake callback's signature
async fn serve(tcp: tokio::net::TcpStream, inner: Arc<Mutex<Inner>>) {
    let fault = {
        let mut g = lock(&inner);
        g.connections += 1;
        g.faults.pop_front()
    };
    let callback = |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
        let reject = |code: u16| {
            let mut r = ErrorResponse::new(Some("rejected".into()));
            *r.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
            r
        };
        if let Some(CartesiaFault::RejectHandshake(code)) = fault {
            return Err(reject(code));
        }
        if req.headers().get("x-api-key").is_none()
            || req.headers().get("cartesia-version").is_none()
        {
            return Err(reject(401));
        }
        Ok(resp)
    };
    let Ok(ws) = tokio_tungstenite::accept_hdr_async(tcp, callback).await else {
        return;
    };
    let (mut sink, mut stream) = ws.split();
    let mut first = true;
    while let Some(Ok(msg)) = stream.next().await {
        let Message::Text(t) = msg else { continue };
        let Ok(v) = serde_json::from_str::<Value>(t.as_str()) else {
            let _ = sink.send(Message::text(json!({"type": "error", "error": "invalid JSON", "status_code": 400, "done": true}).to_string())).await;
            continue;
        };
        lock(&inner).requests.push(v.clone());
        let ctx = v.get("context_id").cloned().unwrap_or(Value::Null);
        if let Err(why) = check(&v) {
            let _ = sink.send(Message::text(json!({"type": "error", "error": why, "status_code": 400, "done": true, "context_id": ctx}).to_string())).await;
            continue;
        }
        let mut out = Vec::new();
        match (&fault, first) {
            (Some(CartesiaFault::Hang), _) => continue,
            (Some(CartesiaFault::ErrorBeforeAudio(code)), true) => {
                out.push(json!({"type": "error", "error": "scripted failure", "status_code": code, "done": true, "context_id": ctx}));
            }
            _ => {
                let rate = v
                    .pointer("/output_format/sample_rate")
                    .and_then(Value::as_u64)
                    .unwrap_or(24_000) as u32;
                let text = v.get("transcript").and_then(Value::as_str).unwrap_or("");
                let pcm: Vec<u8> = tone_for_text(text, rate)
                    .iter()
                    .flat_map(|s| s.to_le_bytes())
                    .collect();
                for part in pcm.chunks((pcm.len() / 2).max(2)) {
                    let data = base64::engine::general_purpose::STANDARD.encode(part);
                    out.push(json!({"type": "chunk", "data": data, "done": false, "status_code": 206, "context_id": ctx}));
                    if fault == Some(CartesiaFault::ErrorAfterAudio) {
                        out.push(json!({"type": "error", "error": "scripted failure after audio", "status_code": 500, "done": true, "context_id": ctx}));
                        break;
                    }
                }
                if v.get("continue") == Some(&json!(false)) {
                    out.push(json!({"type": "done", "done": true, "status_code": 206, "context_id": ctx}));
                }
            }
        }
        first = false;
        for m in out {
            if sink.send(Message::text(m.to_string())).await.is_err() {
                return;
            }
        }
    }
}
