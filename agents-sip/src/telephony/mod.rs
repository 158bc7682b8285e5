//! [`SipTelephony`]: the warm transfer's [`Telephony`](agents_telephony::Telephony) over SIP,
//! for one caller's [`Call`].
//!
//! | method | over SIP |
//! |---|---|
//! | `hold` / `unhold` | re-INVITE `a=sendonly` / `a=sendrecv` (best effort: a peer that refuses still hears the hold audio) and hold audio generated here ([`HoldAudio`]), paced to the caller's output |
//! | `dial` | [`ServerHandle::dial`]: INVITE, CANCEL at the ringing timeout; 486/600/603 → busy, 408/480/487 and the timeout → no answer, other statuses → failed |
//! | `say` / `next_utterance` | TTS audio played on the dialed call; its audio through VAD and STT to final transcripts |
//! | `bridge` | [`crate::bridge::bridge`]: the two calls' media connected in this process |
//! | `hang_up` | BYE; for the agent: its voice pipeline gets `Hangup` (and an unbridged caller is hung up) |
//! | `cold_transfer` | REFER of the leg to the target (RFC 3515) |
//!
//! # Why an in-process bridge rather than REFER with Replaces
//!
//! Connecting the caller and the human by REFER/Replaces needs both peers to support REFER
//! and to reach each other; many SIP trunks and phones refuse REFER (the call simulator does,
//! like them). Bridging the media here works with any peer, keeps both calls' dialogs with
//! this server (so it can still hang up or record them), at the cost of relaying the audio
//! for the rest of the call. A blind transfer with REFER is still there as `cold_transfer`.
//!
//! # Voicemail
//!
//! The trait's `dial` only reports busy/no answer/failure; an answering machine answers the
//! call like a person. It is recognised from what it says: its greeting is transcribed and
//! the briefing agent calls `voicemail_detected`, so the transfer ends with
//! `TransferError::Voicemail`.

mod dial;
mod hold;
mod tap;
mod telephony_impl;
mod voice;

pub use hold::{HoldAudio, HOLD_TONE_HZ};

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use agents_telephony::{CallLeg, TelephonyError};
use agents_voice::io::AudioInput;
use agents_voice::stt::Stt;
use agents_voice::tts::Tts;
use agents_voice::vad::Vad;
use tokio::sync::mpsc;

use crate::audio::InputEvent;
use crate::call::{Call, CallControl};
use crate::playout::CallOutput;
use crate::server::{ServerHandle, INPUT_CAPACITY};
use hold::HoldPlayer;
use tap::InputTap;
use voice::{Heard, Listener, Voice};

/// Identity of the caller's leg.
pub const CALLER_IDENTITY: &str = "caller";
/// Identity of the agent's leg.
pub const AGENT_IDENTITY: &str = "agent";
/// Default longest wait for a dialed person to say something.
pub const DEFAULT_LISTEN_TIMEOUT: Duration = Duration::from_secs(30);

/// One call of the transfer: the caller's, or one placed by `dial`.
struct Leg {
    /// Where the leg is now (its room changes when bridged).
    leg: CallLeg,
    /// The call, until it is handed to a bridge.
    call: Option<Call>,
    control: CallControl,
    output: CallOutput,
    /// Relays the call's input to the agent (voice pipeline or listener) until bridged.
    tap: Option<InputTap>,
    /// Speech recognition of a dialed leg.
    listener: Option<Listener>,
    heard: Option<Arc<tokio::sync::Mutex<mpsc::Receiver<Heard>>>>,
    hold: Option<HoldPlayer>,
    /// A hold re-INVITE was accepted, so unhold must resume with another.
    held_by_reinvite: bool,
}

impl Leg {
    fn new(leg: CallLeg, mut call: Call, sink: mpsc::Sender<InputEvent>, lossy: bool) -> Self {
        let tap = call.take_input().map(|i| InputTap::spawn(i, sink, lossy));
        Leg {
            leg,
            control: call.control(),
            output: call.output(),
            call: Some(call),
            tap,
            listener: None,
            heard: None,
            hold: None,
            held_by_reinvite: false,
        }
    }
}

struct State {
    /// Legs by identity; the caller is [`CALLER_IDENTITY`].
    legs: HashMap<String, Leg>,
    /// The caller's input as relayed to the agent's voice pipeline (until taken).
    pipeline_rx: Option<mpsc::Receiver<InputEvent>>,
    /// The relay's end of that channel; dropped when the agent leaves.
    pipeline_tx: Option<mpsc::Sender<InputEvent>>,
}

/// The [`Telephony`](agents_telephony::Telephony) trait over SIP for one caller's call:
/// hold with generated hold audio, consult calls placed from `server`, speech on them with
/// the given TTS/STT/VAD, and an in-process media bridge (see the [module docs](self)).
///
/// It owns the caller's [`Call`]. The agent's voice pipeline reads the caller through
/// [`take_caller_input`](Self::take_caller_input) (relayed, so the input can be handed to
/// the bridge later) and speaks through [`caller_output`](Self::caller_output). Keep the
/// server's call handler running until [`caller_control`](Self::caller_control) reports the
/// call ended: when a handler returns, the server hangs its call up, bridged or not.
///
/// Dropping it hangs up the dialed legs that are not bridged (the caller's call ends with
/// the server's handler).
pub struct SipTelephony {
    server: ServerHandle,
    voice: Voice,
    caller: CallLeg,
    agent: CallLeg,
    caller_control: CallControl,
    caller_output: CallOutput,
    state: Mutex<State>,
    trunk_host: Option<String>,
    from_user: String,
    hold_reinvite: bool,
    listen_timeout: Duration,
}

impl SipTelephony {
    /// Serves the transfer of `caller` (a call the server answered): consult calls are
    /// placed from `server`, spoken to with `tts` and heard with `vad` + `stt`. The caller's
    /// leg is `caller@<Call-ID>`, the agent's `agent@<Call-ID>`.
    pub fn new(
        caller: Call,
        server: ServerHandle,
        tts: Arc<dyn Tts>,
        stt: Arc<dyn Stt>,
        vad: Arc<dyn Vad>,
    ) -> Self {
        let room = caller.info().call_id.clone();
        let caller_leg = CallLeg::new(&room, CALLER_IDENTITY);
        let (pipeline_tx, pipeline_rx) = mpsc::channel(INPUT_CAPACITY);
        let caller_control = caller.control();
        let caller_output = caller.output();
        let leg = Leg::new(caller_leg.clone(), caller, pipeline_tx.clone(), true);
        SipTelephony {
            server,
            voice: Voice { tts, stt, vad },
            agent: CallLeg::new(&room, AGENT_IDENTITY),
            caller: caller_leg,
            caller_control,
            caller_output,
            state: Mutex::new(State {
                legs: HashMap::from([(CALLER_IDENTITY.to_string(), leg)]),
                pipeline_rx: Some(pipeline_rx),
                pipeline_tx: Some(pipeline_tx),
            }),
            trunk_host: None,
            from_user: "agent".into(),
            hold_reinvite: true,
            listen_timeout: DEFAULT_LISTEN_TIMEOUT,
        }
    }

    /// Host (`trunk.example.com:5060`) that numbers are dialed at (`sip:<number>@<host>`);
    /// without it only SIP URIs can be dialed.
    pub fn with_trunk_host(mut self, host: impl Into<String>) -> Self {
        self.trunk_host = Some(host.into());
        self
    }

    /// User part of the From URI of consult calls (default `agent`).
    pub fn with_from_user(mut self, user: impl Into<String>) -> Self {
        self.from_user = user.into();
        self
    }

    /// Whether hold and unhold also send a re-INVITE (on by default). Off, hold is only the
    /// hold audio, for peers that mishandle re-INVITEs.
    pub fn with_hold_reinvite(mut self, on: bool) -> Self {
        self.hold_reinvite = on;
        self
    }

    /// Longest wait in `next_utterance` before it fails (default 30 s), so a silent line
    /// cannot keep the caller on hold for ever.
    pub fn with_listen_timeout(mut self, timeout: Duration) -> Self {
        self.listen_timeout = timeout;
        self
    }

    /// The caller's input for the agent's voice pipeline; once. It ends (`Hangup`) when the
    /// caller hangs up or the agent leaves; frames are dropped while the pipeline is 2 s
    /// behind, and nothing is relayed while the caller is bridged.
    pub fn take_caller_input(&self) -> Option<AudioInput> {
        self.lock().pipeline_rx.take()
    }

    /// The caller's output, for the agent's voice.
    pub fn caller_output(&self) -> CallOutput {
        self.caller_output.clone()
    }

    /// Control of the caller's call (hang up, wait for its end).
    pub fn caller_control(&self) -> CallControl {
        self.caller_control.clone()
    }

    /// Whether the leg is on hold now (hold audio playing).
    pub fn is_on_hold(&self, leg: &CallLeg) -> bool {
        self.lock()
            .legs
            .get(&leg.identity)
            .is_some_and(|l| l.hold.is_some())
    }

    /// Whether the caller's call was handed to a bridge (an accepted warm transfer): it then
    /// goes on without the agent, so the server's call handler should wait for its end.
    pub fn caller_bridged(&self) -> bool {
        self.lock()
            .legs
            .get(CALLER_IDENTITY)
            .is_some_and(|l| l.call.is_none())
    }

    /// Whether the leg is a call that is still up.
    pub fn is_up(&self, leg: &CallLeg) -> bool {
        self.lock()
            .legs
            .get(&leg.identity)
            .is_some_and(|l| l.leg == *leg && !l.control.is_ended())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on the leg if it is part of the transfer and up.
    fn with_leg<T>(
        &self,
        leg: &CallLeg,
        f: impl FnOnce(&mut Leg) -> T,
    ) -> Result<T, TelephonyError> {
        let mut state = self.lock();
        match state.legs.get_mut(&leg.identity) {
            Some(l) if l.leg == *leg && !l.control.is_ended() => Ok(f(l)),
            _ => Err(TelephonyError::LegGone { leg: leg.clone() }),
        }
    }

    /// Adds an answered consult call as leg `leg`, listening to it. A leg with the same
    /// identity that is still up is hung up first.
    async fn add_consult(&self, leg: CallLeg, call: Call) -> Result<(), String> {
        let (tx, rx) = mpsc::channel(INPUT_CAPACITY);
        let mut new = Leg::new(leg.clone(), call, tx, true);
        let (listener, heard) = match Listener::start(&self.voice, rx) {
            Ok(v) => v,
            Err(e) => {
                new.control.hangup().await;
                return Err(format!("cannot start speech recognition: {e}"));
            }
        };
        new.listener = Some(listener);
        new.heard = Some(Arc::new(tokio::sync::Mutex::new(heard)));
        let old = self.lock().legs.insert(leg.identity.clone(), new);
        if let Some(old) = old {
            old.control.hangup().await;
        }
        Ok(())
    }
}

impl Drop for SipTelephony {
    fn drop(&mut self) {
        // Dropping the calls and their controls ends the dialogs (BYE) of unbridged legs.
        let mut state = self.lock();
        state.legs.clear();
        state.pipeline_tx = None;
    }
}
