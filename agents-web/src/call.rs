//! [`WebCall`]: one browser session as the handler sees it, and [`EventSender`] for the
//! page's transcript.

use std::net::SocketAddr;

use agents_voice::io::AudioInput;
use serde::Serialize;
use tokio::sync::watch;

use crate::outbox::{Outbox, Outgoing};
use crate::output::WebAudioOutput;
use crate::protocol::{PlayoutReport, ServerMessage};
use crate::WebError;

/// One connection from the page: the user's audio and keypad in, the agent's audio and
/// transcript events out. Handed to the handler given to
/// [`WebServer::serve`](crate::WebServer::serve); the session ends when the handler returns
/// (the connection is then closed normally) or when the page goes away (`input` yields
/// `InputEvent::Hangup`).
#[non_exhaustive]
pub struct WebCall {
    /// Connection id, unique per server (also sent to the page in `hello`); name per-session
    /// files (transcripts) after it.
    pub id: u64,
    /// Address of the browser.
    pub peer: SocketAddr,
    /// The user's audio (mono, [`WebCall::sample_rate`]), keypad digits, then `Hangup`.
    pub input: AudioInput,
    /// The agent's audio to the page.
    pub output: WebAudioOutput,
    /// JSON events for the page's transcript.
    pub events: EventSender,
    /// Rate of the audio both ways.
    pub sample_rate: u32,
}

impl std::fmt::Debug for WebCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebCall")
            .field("id", &self.id)
            .field("peer", &self.peer)
            .field("sample_rate", &self.sample_rate)
            .finish_non_exhaustive()
    }
}

impl WebCall {
    /// The page's latest playback report (samples played and queued): for diagnostics and
    /// tests.
    pub fn playout_reports(&self) -> watch::Receiver<PlayoutReport> {
        self.output.playout_reports()
    }
}

/// Sends JSON events to the page, where they appear in the live transcript. Cheap to clone.
///
/// Any `Serialize` value works; the page renders agents-voice `VoiceEvent`/`TimedEvent`
/// (`user_transcript`, `agent_state`, `interrupted`, ...) and agents-core `SessionEvent`
/// (`message`, `text_delta`, `function_call`, `task_completed`, ...) JSON, and shows other
/// objects with a `type` as plain lines.
#[derive(Clone, Debug)]
pub struct EventSender {
    outbox: Outbox,
}

impl EventSender {
    pub(crate) fn new(outbox: Outbox) -> Self {
        EventSender { outbox }
    }

    /// Sends one event; fails once the connection is closed.
    pub fn send<T: Serialize + ?Sized>(&self, event: &T) -> Result<(), WebError> {
        let event = serde_json::to_value(event)?;
        let text = serde_json::to_string(&ServerMessage::Event { event })?;
        self.outbox
            .send(Outgoing::Text(text))
            .map_err(|_| WebError::Closed)
    }

    /// Forwards every item of `events` (a `VoiceHandle::subscribe()` or
    /// `AgentSession::subscribe()` receiver, say) to the page until either side ends.
    pub fn forward<T: Serialize + Send + 'static>(
        &self,
        mut events: tokio::sync::mpsc::UnboundedReceiver<T>,
    ) -> tokio::task::JoinHandle<()> {
        let sender = self.clone();
        tokio::spawn(async move {
            while let Some(ev) = events.recv().await {
                match sender.send(&ev) {
                    Ok(()) => {}
                    Err(WebError::Closed) => break,
                    Err(e) => tracing::warn!(error = %e, "event not forwarded"),
                }
            }
        })
    }

    /// Whether the connection is closed.
    pub fn is_closed(&self) -> bool {
        self.outbox.is_closed()
    }
}
