//! The WebSocket protocol between the page and the server, as typed messages.
//!
//! Binary messages carry audio both ways: little-endian signed 16-bit mono PCM at the rate the
//! server announces in [`ServerMessage::Hello`], 20 ms per message (the last message of an agent
//! reply may be shorter). Text messages are JSON objects tagged by `type`.
//!
//! A session runs: server `hello` → client `start` → audio both ways, `dtmf`, `playout` reports,
//! `clear`/`cleared` on barge-in, `pause`/`resume` while a barge-in is uncertain, `event`s for the transcript → either side closes. Protocol
//! violations close the connection with one of the [`close`] codes and a reason saying what was
//! wrong.

use serde::{Deserialize, Serialize};

/// Protocol version announced in `hello`.
pub const PROTOCOL_VERSION: u32 = 1;

/// Length of one audio message.
pub const FRAME_MS: u32 = 20;

/// Digits the keypad may send (as RFC 4733 knows them).
pub const DTMF_DIGITS: &str = "0123456789*#ABCD";

/// WebSocket close codes the server uses (RFC 6455 §7.4.1).
pub mod close {
    /// The session ended normally.
    pub const NORMAL: u16 = 1000;
    /// The server is shutting down.
    pub const GOING_AWAY: u16 = 1001;
    /// A message was not valid (bad JSON, odd audio byte count, unknown digit).
    pub const INVALID_PAYLOAD: u16 = 1007;
    /// The client broke the protocol (message out of order, playout report beyond what was
    /// sent, no `start` in time).
    pub const POLICY: u16 = 1008;
    /// A message exceeded the size limit.
    pub const TOO_BIG: u16 = 1009;
    /// The server could not go on (internal error).
    pub const INTERNAL: u16 = 1011;
    /// Too many sessions at once; try again later.
    pub const TRY_AGAIN_LATER: u16 = 1013;
}

/// A JSON message from the server to the page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// First message of every connection: the audio format and limits.
    Hello {
        /// [`PROTOCOL_VERSION`].
        protocol: u32,
        /// Connection (session) id, unique per server.
        session: u64,
        /// Samples per second of the audio both ways.
        sample_rate: u32,
        /// Always 1 (mono).
        channels: u16,
        /// [`FRAME_MS`].
        frame_ms: u32,
        /// Largest message the server accepts, in bytes.
        max_message_bytes: usize,
    },
    /// Barge-in: drop all queued agent audio at once and answer with `cleared`.
    Clear {
        /// Increasing per connection; echoed in `cleared`.
        seq: u64,
    },
    /// Hold playback (keep the queue): the user may be interrupting.
    Pause,
    /// Continue a held playback.
    Resume,
    /// A session event for the transcript (the handler's JSON, as it sent it).
    Event {
        /// The event.
        event: serde_json::Value,
    },
}

/// A JSON message from the page to the server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMessage {
    /// Starts the session (must be the first message).
    Start {
        /// The client sends `playout` and `cleared` reports from its playback clock; without
        /// them the server estimates playback on its own clock.
        #[serde(default)]
        reports_playout: bool,
    },
    /// A keypad digit (one of [`DTMF_DIGITS`]).
    Dtmf {
        /// The digit.
        digit: String,
    },
    /// Where the page's playback is, in samples of the agent's audio stream since the
    /// connection opened.
    Playout(PlayoutReport),
    /// Answer to `clear`: where playback was when the queue was dropped.
    Cleared {
        /// The `seq` of the `clear`.
        seq: u64,
        /// Stream position (samples played or dropped) just before the drop.
        head: u64,
    },
    /// The user stopped the session.
    Stop {},
}

/// The page's playback state, as it reports it (all counts in samples).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlayoutReport {
    /// Stream position: samples played plus samples dropped by `clear`.
    pub head: u64,
    /// Samples actually played.
    pub played: u64,
    /// Samples received and waiting to play.
    pub queued: u64,
}

impl ClientMessage {
    /// Checks values serde cannot: a DTMF digit must be one character of [`DTMF_DIGITS`].
    pub fn validate(&self) -> Result<(), String> {
        match self {
            ClientMessage::Dtmf { digit } => {
                let mut chars = digit.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) if DTMF_DIGITS.contains(c) => Ok(()),
                    _ => Err(format!(
                        "dtmf digit must be one of {DTMF_DIGITS:?}, got {digit:?}"
                    )),
                }
            }
            ClientMessage::Playout(PlayoutReport {
                head,
                played,
                queued: _,
            }) if played > head => Err(format!("playout report has played {played} > head {head}")),
            _ => Ok(()),
        }
    }
}

/// Cuts `reason` to what fits a close frame (123 bytes), on a character boundary.
pub fn close_reason(reason: &str) -> String {
    const MAX: usize = 123;
    if reason.len() <= MAX {
        return reason.to_string();
    }
    let mut end = MAX;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    reason[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_client_messages_and_rejects_unknown_ones() {
        let m: ClientMessage =
            serde_json::from_str(r#"{"type":"start","reports_playout":true}"#).unwrap();
        assert_eq!(
            m,
            ClientMessage::Start {
                reports_playout: true
            }
        );
        let m: ClientMessage =
            serde_json::from_str(r#"{"type":"playout","head":5,"played":4,"queued":1}"#).unwrap();
        assert!(m.validate().is_ok());
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"nope"}"#).is_err());
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"stop","x":1}"#).is_err());
    }

    #[test]
    fn validates_digits_and_reports() {
        let ok = ClientMessage::Dtmf { digit: "#".into() };
        assert!(ok.validate().is_ok());
        for bad in ["", "55", "x"] {
            let m = ClientMessage::Dtmf { digit: bad.into() };
            assert!(m.validate().is_err(), "{bad:?}");
        }
        let m = ClientMessage::Playout(PlayoutReport {
            head: 1,
            played: 2,
            queued: 0,
        });
        assert!(m.validate().is_err());
    }

    #[test]
    fn close_reasons_fit_a_frame() {
        let long = "é".repeat(100);
        let r = close_reason(&long);
        assert!(r.len() <= 123);
        assert!(long.starts_with(&r));
    }
}
