//! [`Telephony`] over LiveKit's server API (cargo feature `livekit`): SIP dialing and transfers
//! through the SIP service, moving and removing participants through the room service.
//!
//! The server API carries no audio, so hold music, speech to a leg and transcripts from it come
//! from the application's media side (the LiveKit room connection with its TTS and STT), passed
//! in as a [`CallMedia`].

use super::{CallLeg, DialError, DialRequest, Telephony, TelephonyError, TelephonyFuture};
use futures::future::BoxFuture;
use livekit_api::services::room::RoomClient;
use livekit_api::services::sip::{
    CreateSIPParticipantOptions, SIPClient, TransferSIPParticipantOptions,
};
use livekit_api::services::{ServerError, ServerErrorCode, ServiceError, SipCallError};
use std::sync::Arc;

/// The audio side of a call, which LiveKit's server API does not reach: implemented over the
/// agent's room connection (publishing audio, running TTS and STT).
pub trait CallMedia: Send + Sync + 'static {
    /// Starts playing `audio` to `leg` and stops passing its speech to the agent.
    fn start_hold_audio<'a>(&'a self, leg: &'a CallLeg, audio: &'a str) -> TelephonyFuture<'a, ()>;

    /// Stops the hold audio and resumes listening to `leg`.
    fn stop_hold_audio<'a>(&'a self, leg: &'a CallLeg) -> TelephonyFuture<'a, ()>;

    /// Speaks `text` to `leg` (TTS published in the leg's room).
    fn say<'a>(&'a self, leg: &'a CallLeg, text: &'a str) -> TelephonyFuture<'a, ()>;

    /// The next final transcript of what `leg` said; `Ok(None)` once it has left.
    fn next_utterance<'a>(&'a self, leg: &'a CallLeg) -> TelephonyFuture<'a, Option<String>>;
}

/// Where and how to reach the LiveKit server.
#[derive(Clone)]
pub struct LiveKitConfig {
    /// Server URL (`wss://` or `https://`).
    pub url: String,
    /// API key.
    pub api_key: String,
    /// API secret.
    pub api_secret: String,
    /// Outbound SIP trunk used when a [`DialRequest`] names none.
    pub sip_trunk_id: String,
}

impl std::fmt::Debug for LiveKitConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        f.debug_struct("LiveKitConfig")
            .field("url", &self.url)
            .field("api_key", &self.api_key)
            .field("sip_trunk_id", &self.sip_trunk_id)
            .finish_non_exhaustive()
    }
}

/// [`Telephony`] for one LiveKit call: `caller` and `agent` are participants of one room.
///
/// | method | LiveKit call |
/// |---|---|
/// | `dial` | `CreateSIPParticipant` (`wait_until_answered`, `ringing_timeout`, headers, DTMF) |
/// | `bridge` | `MoveParticipant` into the caller's room, then `DeleteRoom` of the consultation room |
/// | `hang_up` | `RemoveParticipant` |
/// | `cold_transfer` | `TransferSIPParticipant` |
/// | `hold`, `unhold`, `say`, `next_utterance` | the [`CallMedia`] |
pub struct LiveKitTelephony {
    rooms: RoomClient,
    sip: SIPClient,
    trunk_id: String,
    caller: CallLeg,
    agent: CallLeg,
    media: Arc<dyn CallMedia>,
}

impl LiveKitTelephony {
    /// A telephony handle for the call between `caller` and `agent`, on the server of `config`.
    pub fn new(
        config: &LiveKitConfig,
        caller: CallLeg,
        agent: CallLeg,
        media: Arc<dyn CallMedia>,
    ) -> Self {
        LiveKitTelephony {
            rooms: RoomClient::with_api_key(&config.url, &config.api_key, &config.api_secret),
            sip: SIPClient::with_api_key(&config.url, &config.api_key, &config.api_secret),
            trunk_id: config.sip_trunk_id.clone(),
            caller,
            agent,
            media,
        }
    }
}

/// Maps a failed `CreateSIPParticipant` to a [`DialError`] by its SIP status.
fn dial_error(error: &ServiceError) -> DialError {
    if let Some(sip) = SipCallError::from_error(error) {
        return match sip.sip_status_code() {
            Some(486 | 600) => DialError::Busy,
            Some(408 | 480 | 487) => DialError::NoAnswer,
            _ => DialError::Failed {
                reason: sip.to_string(),
            },
        };
    }
    match error {
        ServiceError::Twirp(ServerError::Twirp(code))
            if code.code == ServerErrorCode::DEADLINE_EXCEEDED =>
        {
            DialError::NoAnswer
        }
        other => DialError::Failed {
            reason: other.to_string(),
        },
    }
}

/// Maps a failed room or SIP request: an unknown participant is a leg that is gone.
fn leg_error(operation: &'static str, leg: &CallLeg, error: ServiceError) -> TelephonyError {
    match &error {
        ServiceError::Twirp(ServerError::Twirp(code))
            if code.code == ServerErrorCode::NOT_FOUND =>
        {
            TelephonyError::LegGone { leg: leg.clone() }
        }
        _ => TelephonyError::Failed {
            operation,
            reason: error.to_string(),
        },
    }
}

impl Telephony for LiveKitTelephony {
    fn caller(&self) -> CallLeg {
        self.caller.clone()
    }

    fn agent(&self) -> CallLeg {
        self.agent.clone()
    }

    fn hold<'a>(&'a self, leg: &'a CallLeg, hold_audio: &'a str) -> TelephonyFuture<'a, ()> {
        self.media.start_hold_audio(leg, hold_audio)
    }

    fn unhold<'a>(&'a self, leg: &'a CallLeg) -> TelephonyFuture<'a, ()> {
        self.media.stop_hold_audio(leg)
    }

    fn dial(&self, request: DialRequest) -> BoxFuture<'_, Result<CallLeg, DialError>> {
        Box::pin(async move {
            let options = CreateSIPParticipantOptions {
                participant_identity: request.identity.clone(),
                dtmf: request.dtmf.clone(),
                wait_until_answered: Some(true),
                ringing_timeout: Some(request.ringing_timeout),
                headers: (!request.headers.is_empty())
                    .then(|| request.headers.clone().into_iter().collect()),
                ..Default::default()
            };
            let trunk = request
                .trunk_id
                .clone()
                .unwrap_or_else(|| self.trunk_id.clone());
            tracing::info!(to = %request.to, room = %request.room, "dialing over LiveKit SIP");
            match self
                .sip
                .create_sip_participant(
                    trunk,
                    request.to.clone(),
                    request.room.clone(),
                    options,
                    None,
                )
                .await
            {
                Ok(info) => {
                    let room = if info.room_name.is_empty() {
                        request.room
                    } else {
                        info.room_name
                    };
                    let identity = if info.participant_identity.is_empty() {
                        request.identity
                    } else {
                        info.participant_identity
                    };
                    Ok(CallLeg::new(room, identity))
                }
                Err(e) => Err(dial_error(&e)),
            }
        })
    }

    fn say<'a>(&'a self, leg: &'a CallLeg, text: &'a str) -> TelephonyFuture<'a, ()> {
        self.media.say(leg, text)
    }

    fn next_utterance<'a>(&'a self, leg: &'a CallLeg) -> TelephonyFuture<'a, Option<String>> {
        self.media.next_utterance(leg)
    }

    fn bridge<'a>(&'a self, leg: &'a CallLeg, to: &'a CallLeg) -> TelephonyFuture<'a, CallLeg> {
        Box::pin(async move {
            self.rooms
                .move_participant(&leg.room, &leg.identity, &to.room)
                .await
                .map_err(|e| leg_error("MoveParticipant", leg, e))?;
            if leg.room != to.room {
                // The consultation room has served its purpose; failing to delete it only
                // leaves an empty room behind.
                if let Err(e) = self.rooms.delete_room(&leg.room).await {
                    tracing::warn!(room = %leg.room, error = %e, "could not delete the consultation room");
                }
            }
            Ok(CallLeg::new(&to.room, &leg.identity))
        })
    }

    fn hang_up<'a>(&'a self, leg: &'a CallLeg) -> TelephonyFuture<'a, ()> {
        Box::pin(async move {
            self.rooms
                .remove_participant(&leg.room, &leg.identity)
                .await
                .map_err(|e| leg_error("RemoveParticipant", leg, e))
        })
    }

    fn cold_transfer<'a>(&'a self, leg: &'a CallLeg, to: &'a str) -> TelephonyFuture<'a, ()> {
        Box::pin(async move {
            self.sip
                .transfer_sip_participant(
                    leg.room.clone(),
                    leg.identity.clone(),
                    to.to_string(),
                    TransferSIPParticipantOptions::default(),
                )
                .await
                .map_err(|e| leg_error("TransferSIPParticipant", leg, e))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn server_error(code: &str, meta: &[(&str, &str)]) -> ServiceError {
        ServiceError::Twirp(ServerError::Twirp(ServerErrorCode {
            code: code.to_string(),
            msg: "test".to_string(),
            meta: meta
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<HashMap<_, _>>(),
        }))
    }

    #[test]
    fn sip_statuses_map_to_dial_errors() {
        let busy = server_error("failed_precondition", &[("sip_status_code", "486")]);
        assert_eq!(dial_error(&busy), DialError::Busy);
        let timeout = server_error("deadline_exceeded", &[("sip_status_code", "408")]);
        assert_eq!(dial_error(&timeout), DialError::NoAnswer);
        let deadline = server_error("deadline_exceeded", &[]);
        assert_eq!(dial_error(&deadline), DialError::NoAnswer);
        let declined = server_error("permission_denied", &[("sip_status_code", "603")]);
        assert!(matches!(dial_error(&declined), DialError::Failed { .. }));
        let other = server_error("internal", &[]);
        assert!(matches!(dial_error(&other), DialError::Failed { .. }));
    }

    #[test]
    fn an_unknown_participant_is_a_gone_leg() {
        let leg = CallLeg::new("room", "who");
        let e = leg_error("RemoveParticipant", &leg, server_error("not_found", &[]));
        assert_eq!(e, TelephonyError::LegGone { leg: leg.clone() });
        let e = leg_error("RemoveParticipant", &leg, server_error("internal", &[]));
        assert!(matches!(e, TelephonyError::Failed { .. }));
    }
}
