//! [`WebConfig`]: where the playground listens and the limits it enforces.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

/// Settings of a [`WebServer`](crate::WebServer). `Default` listens on `127.0.0.1:8080`.
#[derive(Clone, Debug)]
pub struct WebConfig {
    /// Address to listen on. Loopback by default: the page drives an agent (and its API
    /// budget), so other machines get in only when asked for (a warning is logged).
    pub listen: SocketAddr,
    /// Rate of the PCM audio both ways (announced in `hello`; the page's audio graph runs at it).
    /// 24 kHz matches common TTS output; the voice pipeline resamples for STT.
    pub sample_rate: u32,
    /// Largest WebSocket message accepted, in bytes; larger ones close the connection (1009).
    /// The default (16 KiB) holds 20 ms of audio at up to 384 kHz and any protocol message.
    pub max_message_bytes: usize,
    /// How far agent audio may run ahead of the page's playback before `capture_frame` waits.
    /// Barge-in drops it at once on the page, so this bounds memory, not interruption latency.
    pub playout_lead: Duration,
    /// Time a new connection has to send `start` before it is closed (1008).
    pub start_timeout: Duration,
    /// Interval of keepalive pings; a page silent for three intervals (no message, no pong)
    /// is taken as gone and its session ends.
    pub keepalive: Duration,
    /// Sessions at once; connections beyond it are closed with 1013 ("try again later").
    pub max_sessions: usize,
    /// Capacity of each session's input channel, in messages (20 ms each); when the handler
    /// falls this far behind, user audio is dropped (and logged) rather than stalling the
    /// connection.
    pub input_capacity: usize,
    /// How long shutdown waits for running handlers after closing their connections.
    pub drain_timeout: Duration,
    /// Page title (the example's name, say).
    pub title: String,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 8080)),
            sample_rate: 24_000,
            max_message_bytes: 16 * 1024,
            playout_lead: Duration::from_millis(500),
            start_timeout: Duration::from_secs(10),
            keepalive: Duration::from_secs(5),
            max_sessions: 32,
            input_capacity: 500,
            drain_timeout: Duration::from_secs(10),
            title: "Agent playground".to_string(),
        }
    }
}

impl WebConfig {
    /// The default settings listening on `listen`.
    pub fn new(listen: SocketAddr) -> Self {
        WebConfig {
            listen,
            ..WebConfig::default()
        }
    }

    /// Whether the listen address is loopback-only (the safe default).
    pub fn is_loopback(&self) -> bool {
        self.listen.ip().is_loopback()
    }

    /// Samples in one 20 ms audio message.
    pub fn frame_samples(&self) -> usize {
        (self.sample_rate as usize * crate::protocol::FRAME_MS as usize) / 1000
    }

    pub(crate) fn check(&self) -> Result<(), crate::WebError> {
        let bad = |what: &str| Err(crate::WebError::Config(what.to_string()));
        if !(8_000..=96_000).contains(&self.sample_rate) || !self.sample_rate.is_multiple_of(50) {
            return bad(
                "sample_rate must be 8000..=96000 Hz and a multiple of 50 (whole 20 ms frames)",
            );
        }
        if self.max_message_bytes < 2 * self.frame_samples() || self.max_message_bytes < 1024 {
            return bad("max_message_bytes must hold a 20 ms frame and at least 1024 bytes");
        }
        if self.keepalive.is_zero() {
            return bad("keepalive must be more than zero");
        }
        if self.max_sessions == 0 || self.input_capacity == 0 {
            return bad("max_sessions and input_capacity must be at least 1");
        }
        Ok(())
    }
}
