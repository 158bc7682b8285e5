//! Deepgram-like streaming STT test server (`/v1/listen` over WebSocket).
//!
//! It checks the handshake (`Authorization: Token …`, `encoding`, `sample_rate`),
//! counts the audio it receives, and sends scripted JSON messages once enough audio
//! arrived; `Finalize`, `KeepAlive` and `CloseStream` are recorded, and `CloseStream`
//! flushes the remaining script and closes, as Deepgram does.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::Message;

use super::{lock, Running};

/// A scripted server message, sent once `after_audio` of audio was received.
#[derive(Clone, Debug)]
pub struct DeepgramStep {
    /// Audio (at the connection's rate and encoding) needed before sending.
    pub after_audio: Duration,
    /// The JSON message.
    pub message: Value,
}

impl DeepgramStep {
    /// A `Results` message.
    pub fn results(
        after_audio: Duration,
        text: &str,
        is_final: bool,
        speech_final: bool,
        start: f64,
        duration: f64,
    ) -> Self {
        Self {
            after_audio,
            message: json!({
                "type": "Results", "channel_index": [0, 1], "start": start, "duration": duration,
                "is_final": is_final, "speech_final": speech_final,
                "channel": {"alternatives": [{"transcript": text, "confidence": 0.93, "words": []}]},
            }),
        }
    }

    /// A `SpeechStarted` message.
    pub fn speech_started(after_audio: Duration, timestamp: f64) -> Self {
        Self {
            after_audio,
            message: json!({"type": "SpeechStarted", "channel": [0, 1], "timestamp": timestamp}),
        }
    }

    /// An `UtteranceEnd` message.
    pub fn utterance_end(after_audio: Duration, last_word_end: f64) -> Self {
        Self {
            after_audio,
            message: json!({"type": "UtteranceEnd", "channel": [0, 1], "last_word_end": last_word_end}),
        }
    }
}

#[derive(Default)]
struct Inner {
    script: VecDeque<DeepgramStep>,
    reject_handshakes: VecDeque<u16>,
    queries: Vec<String>,
    audio_bytes: usize,
    control: Vec<String>,
}

/// The server; stops when dropped.
pub struct DeepgramServer(Running<Inner>);

impl DeepgramServer {
    /// Starts with a script (shared by all connections, consumed in order).
    pub async fn start(script: Vec<DeepgramStep>) -> std::io::Result<Self> {
        let state = Inner {
            script: script.into(),
            ..Inner::default()
        };
        Running::ws("/v1/listen", state, serve).await.map(Self)
    }

    /// The WebSocket URL (`ws://127.0.0.1:PORT/v1/listen`).
    pub fn url(&self) -> &str {
        self.0.url()
    }

    /// Rejects the next handshake with this HTTP status.
    pub fn reject_next_handshake(&self, status: u16) {
        self.0.state().reject_handshakes.push_back(status);
    }

    /// Query strings of accepted connections.
    pub fn queries(&self) -> Vec<String> {
        self.0.state().queries.clone()
    }

    /// Audio bytes received over all connections.
    pub fn audio_bytes(&self) -> usize {
        self.0.state().audio_bytes
    }

    /// Control messages received (`KeepAlive`, `Finalize`, `CloseStream`), in order.
    pub fn control_messages(&self) -> Vec<String> {
        self.0.state().control.clone()
    }
}

fn query_param(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then(|| v.to_string())
    })
}

#[allow(clippy::result_large_err)] // the tungstenite handshake callback's signature
async fn serve(tcp: tokio::net::TcpStream, inner: Arc<Mutex<Inner>>) {
    let mut query = String::new();
    let callback = |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
        let reject = |code: u16, why: &str| {
            let mut r = ErrorResponse::new(Some(why.to_string()));
            *r.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
            r
        };
        if let Some(code) = lock(&inner).reject_handshakes.pop_front() {
            return Err(reject(code, "scripted rejection"));
        }
        let auth = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !auth.starts_with("Token ") {
            return Err(reject(401, "missing Token authorization"));
        }
        let q = req.uri().query().unwrap_or("").to_string();
        let enc = query_param(&q, "encoding");
        if !matches!(enc.as_deref(), Some("linear16") | Some("mulaw"))
            || query_param(&q, "sample_rate").is_none()
        {
            return Err(reject(400, "encoding and sample_rate are required"));
        }
        query = q;
        Ok(resp)
    };
    let Ok(ws) = tokio_tungstenite::accept_hdr_async(tcp, callback).await else {
        return;
    };
    let rate: usize = query_param(&query, "sample_rate")
        .and_then(|r| r.parse().ok())
        .unwrap_or(16_000);
    let bytes_per_sample = if query_param(&query, "encoding").as_deref() == Some("mulaw") {
        1
    } else {
        2
    };
    lock(&inner).queries.push(query);
    let (mut sink, mut stream) = ws.split();
    let mut received = 0usize;
    while let Some(Ok(msg)) = stream.next().await {
        let mut flush_all = false;
        match msg {
            Message::Binary(b) => {
                received += b.len();
                lock(&inner).audio_bytes += b.len();
            }
            Message::Text(t) => {
                let kind = serde_json::from_str::<Value>(t.as_str())
                    .ok()
                    .and_then(|v| v.get("type").and_then(Value::as_str).map(String::from))
                    .unwrap_or_else(|| "invalid".into());
                flush_all = kind == "CloseStream";
                lock(&inner).control.push(kind);
            }
            Message::Close(_) => break,
            _ => {}
        }
        let heard = Duration::from_secs_f64(received as f64 / (bytes_per_sample * rate) as f64);
        loop {
            let next = {
                let mut g = lock(&inner);
                match g.script.front() {
                    Some(s) if flush_all || s.after_audio <= heard => g.script.pop_front(),
                    _ => None,
                }
            };
            let Some(step) = next else { break };
            if sink
                .send(Message::text(step.message.to_string()))
                .await
                .is_err()
            {
                return;
            }
        }
        if flush_all {
            let _ = sink
                .send(Message::text(json!({"type": "Metadata"}).to_string()))
                .await;
            let _ = sink.close().await;
            return;
        }
    }
}
