//! A browser voice playground for agents: one process serves a page (embedded in the binary:
//! no npm, no bundler) and a WebSocket that carries 20 ms frames of 16-bit mono PCM both
//! ways plus JSON events for a live transcript. Each connection is one voice session.
//!
//! Entry point (what an example's `web --listen ADDR` mode runs):
//!
//! ```no_run
//! use agents_web::{WebCall, WebConfig, WebServer};
//! # async fn run() -> Result<(), agents_web::WebError> {
//! let server = WebServer::bind(WebConfig::new("127.0.0.1:8080".parse().unwrap())).await?;
//! println!("open {}", server.url());
//! server
//!     .serve(|call: WebCall| async move {
//!         // Hand `call.input` / `call.output` to the voice pipeline
//!         // (`VoiceSession::builder(..).start(agent, call.input, call.output)`), forward
//!         // its events with `call.events.forward(handle.subscribe())` (and the agent
//!         // session's `subscribe()`), then wait for it to end.
//!         let _ = call;
//!     })
//!     .await
//! # }
//! ```
//!
//! - Playback is paced by the page's audio clock: the page reports its playhead and answers
//!   `clear` (barge-in) with where playback stopped, so [`WebAudioOutput`] reports honestly how
//!   much of an interrupted reply the user heard ([`output`] explains the fallback for
//!   clients that do not report).
//! - Malformed or oversized messages close that one connection with a reason
//!   ([`protocol::close`]); a page that vanishes ends its session with `InputEvent::Hangup`.
//! - The page: start/stop, a level meter, the live transcript (user and agent lines, tool
//!   calls, task completions), a DTMF keypad; `/?autostart=1` starts without a click.
//!   The microphone is captured with echo cancellation, noise suppression and gain control
//!   off (use headphones); both directions run through AudioWorklets at the server's rate.

#![warn(missing_docs)]

mod call;
mod config;
mod connection;
mod error;
mod outbox;
pub mod output;
mod page;
pub mod protocol;
mod server;

pub use call::{EventSender, WebCall};
pub use config::WebConfig;
pub use error::WebError;
pub use output::WebAudioOutput;
pub use protocol::PlayoutReport;
pub use server::WebServer;
