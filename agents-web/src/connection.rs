//! One WebSocket connection: `hello`, the `start` handshake, then the reader loop that checks
//! every message from the page, and the writer task that sends the session's audio and events.
//!
//! Whatever ends the connection (the page closing or vanishing, a protocol violation, server
//! shutdown), the session's input gets `Hangup` and its output refuses further audio; other
//! connections are untouched.

use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use agents_voice::io::InputEvent;
use agents_voice::AudioFrame;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures::stream::{SplitSink, SplitStream};
use futures::{FutureExt, SinkExt, StreamExt};
use tokio::sync::mpsc;

use crate::call::{EventSender, WebCall};
use crate::outbox::{Outbox, Outgoing};
use crate::output::{Playout, WebAudioOutput};
use crate::protocol::{close, close_reason, ClientMessage, ServerMessage, PROTOCOL_VERSION};
use crate::server::Shared;

/// How long a closing connection waits for the page's close reply.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// Longest a single send to the page may take before the page is considered stalled.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs one connection to its end. `admitted` is false when the server is full.
pub(crate) async fn run(socket: WebSocket, peer: SocketAddr, shared: Arc<Shared>, admitted: bool) {
    let id = shared.next_id.fetch_add(1, Ordering::Relaxed) + 1;
    let (sink, mut stream) = socket.split();
    let (out_tx, out_rx) = mpsc::unbounded_channel();
    let writer = tokio::spawn(write_loop(sink, out_rx, id));
    let config = &shared.config;

    if !admitted {
        tracing::warn!(id, %peer, max = config.max_sessions, "refused: too many sessions");
        let reason = format!("server busy: {} sessions at once", config.max_sessions);
        send_close(&out_tx, close::TRY_AGAIN_LATER, &reason);
        let _ = writer.await;
        drain(&mut stream).await;
        return;
    }
    let hello = ServerMessage::Hello {
        protocol: PROTOCOL_VERSION,
        session: id,
        sample_rate: config.sample_rate,
        channels: 1,
        frame_ms: crate::protocol::FRAME_MS,
        max_message_bytes: config.max_message_bytes,
    };
    send_json(&out_tx, &hello);

    let reports_playout = tokio::select! {
        _ = shared.shutdown.cancelled() => {
            send_close(&out_tx, close::GOING_AWAY, "server shutting down");
            None
        }
        start = tokio::time::timeout(config.start_timeout, wait_start(&mut stream, &out_tx, config.max_message_bytes)) => match start {
            Ok(r) => r,
            Err(_) => {
                let reason = format!("no start message within {:?}", config.start_timeout);
                tracing::warn!(id, "{reason}");
                send_close(&out_tx, close::POLICY, &reason);
                None
            }
        }
    };
    let Some(reports_playout) = reports_playout else {
        drop(out_tx);
        let _ = writer.await;
        drain(&mut stream).await;
        return;
    };
    tracing::info!(id, %peer, reports_playout, "web session started");

    let playout = Playout::new(config.sample_rate);
    playout.set_reports_playout(reports_playout);
    let (input_tx, input_rx) = mpsc::channel(config.input_capacity);
    let call = WebCall {
        id,
        peer,
        input: input_rx,
        output: WebAudioOutput::new(
            config.sample_rate,
            config.playout_lead,
            playout.clone(),
            out_tx.clone(),
        ),
        events: EventSender::new(out_tx.clone()),
        sample_rate: config.sample_rate,
    };
    let handler = shared.handler.clone();
    let done_tx = out_tx.clone();
    shared.tracker.spawn(async move {
        let outcome = AssertUnwindSafe(handler(call)).catch_unwind().await;
        let (code, reason) = match outcome {
            Ok(()) => (close::NORMAL, "session ended"),
            Err(_) => {
                tracing::error!(id, "session handler panicked");
                (close::INTERNAL, "session failed")
            }
        };
        send_close(&done_tx, code, reason);
    });

    let mut reader = Reader {
        id,
        shared: shared.clone(),
        input: input_tx.clone(),
        playout: playout.clone(),
        out: out_tx.clone(),
        dropped: AtomicU64::new(0),
    };
    let why = reader.run(&mut stream).await;
    tracing::info!(id, why, "web session connection ended");
    playout.close();
    if let Err(mpsc::error::TrySendError::Full(ev)) = input_tx.try_send(InputEvent::Hangup) {
        // The handler is behind; deliver the hangup when it catches up (or drops the input).
        tokio::spawn(async move {
            let _ = input_tx.send(ev).await;
        });
    }
    send_close(&out_tx, close::NORMAL, "session ended");
    drop(out_tx);
    drop(reader);
    let _ = writer.await;
    if !matches!(why, "page disconnected" | "page closed" | "read error") {
        drain(&mut stream).await;
    }
}

/// After our close frame: reads (and drops) what the page still sends until its close reply,
/// for at most [`CLOSE_GRACE`]. Closing the socket with unread data would reset it, and the
/// page would lose the close frame and its reason.
async fn drain(stream: &mut SplitStream<WebSocket>) {
    let _ = tokio::time::timeout(CLOSE_GRACE, async {
        while let Some(Ok(msg)) = stream.next().await {
            if matches!(msg, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}

/// Reads until the `start` message; `None` if the page broke the protocol or left.
async fn wait_start(
    stream: &mut SplitStream<WebSocket>,
    out: &Outbox,
    max_bytes: usize,
) -> Option<bool> {
    loop {
        let text = match stream.next().await? {
            Ok(Message::Text(t)) => t,
            Ok(Message::Ping(_) | Message::Pong(_)) => continue,
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(Message::Binary(_)) => {
                send_close(out, close::POLICY, "expected a start message before audio");
                return None;
            }
        };
        if text.len() > max_bytes {
            send_close(out, close::TOO_BIG, &too_big(text.len(), max_bytes));
            return None;
        }
        return match serde_json::from_str::<ClientMessage>(&text) {
            Ok(ClientMessage::Start { reports_playout }) => Some(reports_playout),
            Ok(_) => {
                send_close(out, close::POLICY, "expected a start message first");
                None
            }
            Err(e) => {
                send_close(
                    out,
                    close::INVALID_PAYLOAD,
                    &format!("malformed message: {e}"),
                );
                None
            }
        };
    }
}

struct Reader {
    id: u64,
    shared: Arc<Shared>,
    input: mpsc::Sender<InputEvent>,
    playout: Arc<Playout>,
    out: Outbox,
    dropped: AtomicU64,
}

/// Why the connection ended; a violation also sent a close frame.
type Ended = &'static str;

impl Reader {
    async fn run(&mut self, stream: &mut SplitStream<WebSocket>) -> Ended {
        // Pings show a page that vanished without closing its TCP connection (network loss):
        // browsers answer them, so silence for three intervals ends the session.
        let keepalive = self.shared.config.keepalive;
        let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + keepalive, keepalive);
        let mut last_seen = tokio::time::Instant::now();
        loop {
            let msg = tokio::select! {
                _ = self.shared.shutdown.cancelled() => {
                    send_close(&self.out, close::GOING_AWAY, "server shutting down");
                    return "server shutdown";
                }
                _ = self.out.closed() => return "session ended",
                _ = ping.tick() => {
                    if last_seen.elapsed() >= keepalive * 3 {
                        tracing::warn!(id = self.id, "page stopped responding");
                        send_close(&self.out, close::GOING_AWAY, "page stopped responding");
                        return "page stopped responding";
                    }
                    let _ = self.out.send(Outgoing::Ping);
                    continue;
                }
                msg = stream.next() => msg,
            };
            last_seen = tokio::time::Instant::now();
            let result = match msg {
                None => return "page disconnected",
                Some(Err(e)) => {
                    tracing::warn!(id = self.id, error = %e, "WebSocket read failed");
                    let text = e.to_string();
                    let code = if text.contains("too long") {
                        close::TOO_BIG
                    } else {
                        close::POLICY
                    };
                    send_close(&self.out, code, &format!("read failed: {text}"));
                    return "read error";
                }
                Some(Ok(Message::Close(_))) => return "page closed",
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => Ok(()),
                Some(Ok(Message::Binary(b))) => self.on_audio(&b),
                Some(Ok(Message::Text(t))) => self.on_text(&t),
            };
            match result {
                Ok(()) => {}
                Err(Violation::Stop) => return "page stopped",
                Err(Violation::Close(code, reason)) => {
                    tracing::warn!(id = self.id, code, %reason, "closing: bad message from page");
                    send_close(&self.out, code, &reason);
                    return "protocol violation";
                }
            }
        }
    }

    fn max(&self) -> usize {
        self.shared.config.max_message_bytes
    }

    fn on_audio(&self, bytes: &[u8]) -> Result<(), Violation> {
        if bytes.len() > self.max() {
            return Err(Violation::Close(
                close::TOO_BIG,
                too_big(bytes.len(), self.max()),
            ));
        }
        let frame = AudioFrame::from_s16le(bytes, self.shared.config.sample_rate, 1)
            .ok()
            .filter(|f| !f.is_empty())
            .ok_or_else(|| {
                Violation::Close(
                    close::INVALID_PAYLOAD,
                    format!(
                        "audio message of {} bytes is not whole 16-bit samples",
                        bytes.len()
                    ),
                )
            })?;
        match self.input.try_send(InputEvent::Audio(frame)) {
            Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                let n = self.dropped.fetch_add(1, Ordering::Relaxed);
                if n.is_multiple_of(50) {
                    tracing::warn!(
                        id = self.id,
                        dropped = n + 1,
                        "session is behind; user audio dropped"
                    );
                }
            }
        }
        Ok(())
    }

    fn on_text(&self, text: &str) -> Result<(), Violation> {
        if text.len() > self.max() {
            return Err(Violation::Close(
                close::TOO_BIG,
                too_big(text.len(), self.max()),
            ));
        }
        let msg: ClientMessage = serde_json::from_str(text).map_err(|e| {
            Violation::Close(close::INVALID_PAYLOAD, format!("malformed message: {e}"))
        })?;
        msg.validate()
            .map_err(|e| Violation::Close(close::INVALID_PAYLOAD, e))?;
        let policy = |e: String| Violation::Close(close::POLICY, e);
        match msg {
            ClientMessage::Start { .. } => Err(policy("start sent twice".into())),
            ClientMessage::Dtmf { digit } => {
                if let Some(c) = digit.chars().next() {
                    if self.input.try_send(InputEvent::Dtmf(c)).is_err() {
                        tracing::warn!(id = self.id, digit = %c, "session is behind; digit dropped");
                    }
                }
                Ok(())
            }
            ClientMessage::Playout(report) => self.playout.on_report(report).map_err(policy),
            ClientMessage::Cleared { seq, head } => {
                self.playout.on_cleared(seq, head).map_err(policy)
            }
            ClientMessage::Stop {} => Err(Violation::Stop),
        }
    }
}

enum Violation {
    /// The page asked to stop: a normal end.
    Stop,
    /// Close with this code and reason.
    Close(u16, String),
}

fn too_big(len: usize, max: usize) -> String {
    format!("message of {len} bytes exceeds the limit of {max} bytes")
}

fn send_json(out: &Outbox, msg: &ServerMessage) {
    match serde_json::to_string(msg) {
        Ok(text) => {
            let _ = out.send(Outgoing::Text(text));
        }
        Err(e) => tracing::error!(error = %e, "server message not serialisable"),
    }
}

fn send_close(out: &Outbox, code: u16, reason: &str) {
    let _ = out.send(Outgoing::Close {
        code,
        reason: close_reason(reason),
    });
}

/// Sends queued messages in order until a close (sent last) or a failed/stalled send.
async fn write_loop(
    mut sink: SplitSink<WebSocket, Message>,
    mut rx: mpsc::UnboundedReceiver<Outgoing>,
    id: u64,
) {
    while let Some(out) = rx.recv().await {
        let (msg, last) = match out {
            Outgoing::Audio(bytes) => (Message::Binary(bytes.into()), false),
            Outgoing::Text(text) => (Message::Text(text.into()), false),
            Outgoing::Ping => (Message::Ping(Default::default()), false),
            Outgoing::Close { code, reason } => (
                Message::Close(Some(CloseFrame {
                    code,
                    reason: reason.into(),
                })),
                true,
            ),
        };
        match tokio::time::timeout(SEND_TIMEOUT, sink.send(msg)).await {
            Ok(Ok(())) if !last => {}
            Ok(Ok(())) => break,
            Ok(Err(e)) => {
                tracing::debug!(id, error = %e, "send to page failed");
                break;
            }
            Err(_) => {
                tracing::warn!(id, "page stopped reading for {SEND_TIMEOUT:?}; dropping it");
                break;
            }
        }
    }
    // Dropping `rx` here makes every sender see the connection as closed.
}
