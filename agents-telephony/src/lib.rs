//! Telephony tasks for `agents-core`: keypad (DTMF) input and warm transfer to a human.
//!
//! - [`dtmf`]: [`DtmfKey`] and [`GetDtmfTask`], which collects a fixed number of keypad digits
//!   (or spoken digits) and optionally has the LLM read them back for confirmation.
//! - [`detector`]: [`DtmfDetector`], which finds DTMF tones in 8/16 kHz PCM for transports that
//!   carry keypad presses in-band; feed what it finds to `AgentSession::send_dtmf`.
//! - [`telephony`]: the [`Telephony`] trait (hold, dial, talk to a leg, bridge, hang up) with an
//!   in-memory [`SimulatedTelephony`] and, behind the `livekit` feature, `LiveKitTelephony`.
//! - [`warm_transfer`]: [`WarmTransferTask`], which briefs a human on a second session and
//!   either connects them to the caller or fails with a typed [`TransferError`].

#![warn(missing_docs)]

pub mod detector;
pub mod dtmf;
pub mod telephony;
pub mod warm_transfer;

pub use detector::{DetectorError, DtmfDetector};
pub use dtmf::{DtmfKey, DtmfResult, GetDtmfTask, ParseDtmfError};
#[cfg(feature = "livekit")]
pub use telephony::livekit::{CallMedia, LiveKitConfig, LiveKitTelephony};
pub use telephony::{
    CallLeg, DialError, DialOutcome, DialRequest, SimulatedTelephony, Telephony, TelephonyCall,
    TelephonyError, TelephonyFuture,
};
pub use warm_transfer::{HumanBriefingAgent, TransferError, WarmTransferResult, WarmTransferTask};
