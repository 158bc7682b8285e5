//! What a session sends to its page, in order, through the connection's writer task.

use tokio::sync::mpsc;

/// One message for the page.
#[derive(Debug)]
pub(crate) enum Outgoing {
    /// Agent audio (s16le mono).
    Audio(Vec<u8>),
    /// A JSON text message.
    Text(String),
    /// A keepalive ping (the browser answers with a pong).
    Ping,
    /// Close the connection with this code and reason; nothing is sent after it.
    Close { code: u16, reason: String },
}

/// Sender side of a connection's outgoing queue. Unbounded: agent audio is bounded by the
/// output's playout lead, events are small and few.
pub(crate) type Outbox = mpsc::UnboundedSender<Outgoing>;
