//! What a warm transfer needs from the phone system, as the [`Telephony`] trait, with an
//! in-memory [`SimulatedTelephony`] for tests and console demos and, behind the `livekit` cargo
//! feature, `LiveKitTelephony` over LiveKit's SIP and room services.
//!
//! # Why boxed futures
//!
//! [`WarmTransferTask`](crate::WarmTransferTask) holds an `Arc<dyn Telephony>`, so the phone
//! system can be chosen at run time (simulated in tests and console mode, LiveKit in
//! production) without making every task generic. `async fn` in traits is not object safe, so
//! the methods return [`BoxFuture`]s ([`TelephonyFuture`] for the operations on a leg);
//! implementations write `Box::pin(async move { .. })`.
//!
//! # Mapping to LiveKit
//!
//! A `Telephony` value serves one call: the caller and the agent are participants of one room.
//!
//! | method | LiveKit |
//! |---|---|
//! | [`hold`](Telephony::hold) / [`unhold`](Telephony::unhold) | the agent's media side plays hold audio into the caller's room and stops listening (the server API has no audio; `LiveKitTelephony` delegates to a `CallMedia`) |
//! | [`dial`](Telephony::dial) | `CreateSIPParticipant` with `wait_until_answered = true` and `ringing_timeout`, into a separate consultation room; SIP 486/600 map to [`DialError::Busy`], 408/480/487 and a deadline to [`DialError::NoAnswer`] |
//! | [`say`](Telephony::say) / [`next_utterance`](Telephony::next_utterance) | TTS published into, and STT transcripts from, the consultation room (the media side) |
//! | [`bridge`](Telephony::bridge) | `MoveParticipant` of the human from the consultation room into the caller's room, then `DeleteRoom` of the consultation room |
//! | [`hang_up`](Telephony::hang_up) | `RemoveParticipant` (for a SIP participant this ends its call; for the agent it leaves the room) |
//! | [`cold_transfer`](Telephony::cold_transfer) | `TransferSIPParticipant` (SIP REFER of a leg to another number; not used by the warm transfer) |

mod simulated;

#[cfg(feature = "livekit")]
pub mod livekit;

pub use simulated::{DialOutcome, SimulatedTelephony, TelephonyCall};

use futures::future::BoxFuture;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// What the [`Telephony`] operations on a leg return: a boxed future of the operation's outcome
/// (boxed so that the trait stays object safe; see the module docs).
pub type TelephonyFuture<'a, T> = BoxFuture<'a, Result<T, TelephonyError>>;

/// One participant of a call: who (`identity`) in which room.
///
/// Legs are values, not handles, so they can be logged, compared in tests and sent to a server
/// API that addresses participants by room and identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct CallLeg {
    /// The room (conference) the participant is in.
    pub room: String,
    /// The participant's identity in that room.
    pub identity: String,
}

impl CallLeg {
    /// A leg of `identity` in `room`.
    pub fn new(room: impl Into<String>, identity: impl Into<String>) -> Self {
        CallLeg {
            room: room.into(),
            identity: identity.into(),
        }
    }
}

impl fmt::Display for CallLeg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.identity, self.room)
    }
}

/// An outbound call to place, with the options a SIP provider takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialRequest {
    /// Number or SIP URI to call (`+15105550100`, `sip:alice@example.com`).
    pub to: String,
    /// Room (conference) to place the new leg in.
    pub room: String,
    /// Identity to give the new participant.
    pub identity: String,
    /// How long to let it ring before giving up with [`DialError::NoAnswer`].
    pub ringing_timeout: Duration,
    /// Outbound trunk to use; `None` for the implementation's default.
    pub trunk_id: Option<String>,
    /// Extra SIP headers on the INVITE.
    pub headers: BTreeMap<String, String>,
    /// Digits to send once answered (an extension); `w` is a half-second pause.
    pub dtmf: Option<String>,
}

impl DialRequest {
    /// A request to call `to`, placing the leg `identity` in `room`, ringing for at most
    /// `ringing_timeout`.
    pub fn new(
        to: impl Into<String>,
        room: impl Into<String>,
        identity: impl Into<String>,
        ringing_timeout: Duration,
    ) -> Self {
        DialRequest {
            to: to.into(),
            room: room.into(),
            identity: identity.into(),
            ringing_timeout,
            trunk_id: None,
            headers: BTreeMap::new(),
            dtmf: None,
        }
    }
}

/// Why an outbound call did not connect. Typed so the transfer can tell the caller what
/// happened (the reference returns untyped tool errors; its users asked for this).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DialError {
    /// The callee was busy (SIP 486/600).
    #[error("the line is busy")]
    Busy,
    /// Nobody answered within the ringing timeout (SIP 408/480/487).
    #[error("nobody answered")]
    NoAnswer,
    /// The call failed for another reason (bad number, trunk error, declined, ...).
    #[error("the call failed: {reason}")]
    Failed {
        /// What the phone system said.
        reason: String,
    },
}

/// A telephony operation other than dialing failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TelephonyError {
    /// The leg is no longer part of the call (hung up, removed).
    #[error("leg {leg} is gone")]
    LegGone {
        /// The leg.
        leg: CallLeg,
    },
    /// The implementation does not offer this operation.
    #[error("`{operation}` is not supported by this telephony implementation")]
    Unsupported {
        /// The operation asked for.
        operation: &'static str,
    },
    /// The phone system or media side failed.
    #[error("{operation} failed: {reason}")]
    Failed {
        /// The operation that failed.
        operation: &'static str,
        /// What went wrong.
        reason: String,
    },
}

/// The phone system, as far as a warm transfer needs it. One value serves one call.
///
/// See the [module docs](self) for why the futures are boxed and how each method maps to
/// LiveKit's server API. Methods take legs by reference and must not panic on unknown legs:
/// return [`TelephonyError::LegGone`].
pub trait Telephony: Send + Sync + 'static {
    /// The caller's leg: the person the agent is talking to.
    fn caller(&self) -> CallLeg;

    /// The agent's own leg in the caller's room.
    fn agent(&self) -> CallLeg;

    /// Puts `leg` on hold, playing `hold_audio` (a name or URL the implementation resolves) to it.
    fn hold<'a>(&'a self, leg: &'a CallLeg, hold_audio: &'a str) -> TelephonyFuture<'a, ()>;

    /// Takes `leg` off hold.
    fn unhold<'a>(&'a self, leg: &'a CallLeg) -> TelephonyFuture<'a, ()>;

    /// Places an outbound call and waits until it is answered (or fails, or rings past
    /// `request.ringing_timeout`). Returns the new, answered leg.
    fn dial(&self, request: DialRequest) -> BoxFuture<'_, Result<CallLeg, DialError>>;

    /// Says `text` to `leg` (speech synthesis on a real line).
    fn say<'a>(&'a self, leg: &'a CallLeg, text: &'a str) -> TelephonyFuture<'a, ()>;

    /// Waits for the next thing said on `leg` (a final speech transcript on a real line);
    /// `Ok(None)` when the leg has hung up.
    fn next_utterance<'a>(&'a self, leg: &'a CallLeg) -> TelephonyFuture<'a, Option<String>>;

    /// Moves `leg` into the room of `to` so the two talk directly. Returns the leg as it is now.
    fn bridge<'a>(&'a self, leg: &'a CallLeg, to: &'a CallLeg) -> TelephonyFuture<'a, CallLeg>;

    /// Ends `leg`: hangs up a phone participant, or takes the agent out of the call.
    fn hang_up<'a>(&'a self, leg: &'a CallLeg) -> TelephonyFuture<'a, ()>;

    /// Hands `leg` to another number at the phone-system level (SIP REFER). Unsupported unless
    /// the implementation overrides it.
    fn cold_transfer<'a>(&'a self, leg: &'a CallLeg, to: &'a str) -> TelephonyFuture<'a, ()> {
        let _ = (leg, to);
        Box::pin(async {
            Err(TelephonyError::Unsupported {
                operation: "cold_transfer",
            })
        })
    }
}
