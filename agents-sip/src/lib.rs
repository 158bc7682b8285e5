//! SIP phone calls for agents: answer and place calls over SIP/UDP (rsipstack), negotiate
//! G.711 audio with SDP, carry it over RTP, take and send keypad digits (RFC 4733, or
//! in-band tones), transfer with REFER, and simulate callers in tests.
//!
//! ```no_run
//! use agents_sip::audio::{AudioOutput, InputEvent};
//! use agents_sip::server::{SipConfig, SipServer};
//!
//! # async fn run() -> Result<(), agents_sip::error::SipError> {
//! let server = SipServer::bind(SipConfig::new("127.0.0.1:5080".parse().unwrap())).await?;
//! server.handle().shutdown_on_signal(); // SIGTERM: 503 to new calls, drain, return
//! server
//!     .serve(|mut call| async move {
//!         let mut input = call.take_input().unwrap(); // 8 kHz audio frames, digits, hangup
//!         let mut output = call.output(); // the voice pipeline's AudioOutput
//!         while let Some(ev) = input.recv().await {
//!             match ev {
//!                 InputEvent::Audio(frame) => { let _ = output.capture_frame(frame).await; }
//!                 InputEvent::Dtmf(d) => { let _ = call.send_dtmf(&d.to_string()); }
//!                 InputEvent::Hangup => break,
//!             }
//!         }
//!     })
//!     .await
//! # }
//! ```
//!
//! The path of a caller's audio: [`media`] receives RTP (only from the negotiated peer),
//! puts it back in order ([`jitter`]), decodes G.711 ([`codec`]) and hands 20 ms frames to
//! the call's input; the agent's audio goes through [`playout`] and leaves as paced RTP.
#![warn(missing_docs)]

pub mod audio;
pub mod bridge;
pub mod call;
pub mod codec;
pub mod error;
pub mod jitter;
pub mod media;
pub mod outbound;
mod pacer;
pub mod playout;
pub mod ports;
pub mod rfc4733;
pub mod sdp;
pub mod server;
mod sip_socket;
pub mod telephony;
pub mod testing;
mod ua;

pub use call::{Call, CallControl, CallInfo};
pub use error::SipError;
pub use server::{ServerHandle, SipConfig, SipServer};
pub use telephony::SipTelephony;
pub use ua::UaStats;
