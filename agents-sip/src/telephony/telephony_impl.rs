//! `impl Telephony for SipTelephony`: each trait method as SIP signalling and media.

use agents_telephony::{CallLeg, DialError, DialRequest, Telephony, TelephonyError};
use futures::future::BoxFuture;

use super::dial::{dial_error, send_digits, target_uri};
use super::hold::{HoldAudio, HoldPlayer};
use super::voice::{speak, VoiceFailure};
use super::{SipTelephony, AGENT_IDENTITY, CALLER_IDENTITY};
use crate::audio::InputEvent;
use crate::error::SipError;
use crate::outbound::DialOptions;

fn failed(operation: &'static str, reason: impl ToString) -> TelephonyError {
    TelephonyError::Failed {
        operation,
        reason: reason.to_string(),
    }
}

impl SipTelephony {
    async fn do_hold(&self, leg: &CallLeg, audio: &str) -> Result<(), TelephonyError> {
        let control = self.with_leg(leg, |l| {
            if l.hold.is_none() && l.call.is_some() {
                l.hold = Some(HoldPlayer::start(
                    HoldAudio::from_name(audio),
                    l.output.clone(),
                ));
            }
            l.control.clone()
        })?;
        if self.hold_reinvite {
            match control.hold(true).await {
                Ok(()) => {
                    let _ = self.with_leg(leg, |l| l.held_by_reinvite = true);
                }
                Err(SipError::CallEnded) => {
                    return Err(TelephonyError::LegGone { leg: leg.clone() })
                }
                // The hold audio still plays; only the peer's own hold indication is missing.
                Err(e) => tracing::warn!(%leg, error = %e, "hold re-INVITE refused"),
            }
        }
        tracing::debug!(%leg, audio, "on hold");
        Ok(())
    }

    async fn do_unhold(&self, leg: &CallLeg) -> Result<(), TelephonyError> {
        let (player, mut output, control, reinvite) = self.with_leg(leg, |l| {
            let reinvite = std::mem::take(&mut l.held_by_reinvite);
            (l.hold.take(), l.output.clone(), l.control.clone(), reinvite)
        })?;
        if let Some(player) = player {
            player.stop(&mut output).await;
        }
        if reinvite {
            match control.hold(false).await {
                Ok(()) => {}
                Err(SipError::CallEnded) => {
                    return Err(TelephonyError::LegGone { leg: leg.clone() })
                }
                Err(e) => return Err(failed("unhold", e)),
            }
        }
        Ok(())
    }

    async fn do_dial(&self, request: DialRequest) -> Result<CallLeg, DialError> {
        let target = target_uri(&request.to, self.trunk_host.as_deref())
            .map_err(|reason| DialError::Failed { reason })?;
        if request.trunk_id.is_some() {
            tracing::debug!("a trunk id is not used by SIP dialing (the trunk host is)");
        }
        let opts = DialOptions {
            from_user: self.from_user.clone(),
            ring_timeout: request.ringing_timeout,
            inband_dtmf: true,
            headers: request.headers.into_iter().collect(),
        };
        tracing::info!(%target, timeout = ?request.ringing_timeout, "dialing");
        let call = self.server.dial(&target, opts).await.map_err(|e| {
            tracing::info!(%target, error = %e, "dial failed");
            dial_error(e)
        })?;
        let control = call.control();
        if let Some(digits) = request.dtmf.as_deref() {
            if let Err(e) = send_digits(&control, digits).await {
                control.hangup().await;
                return Err(DialError::Failed {
                    reason: format!("sending digits {digits:?}: {e}"),
                });
            }
        }
        let leg = CallLeg::new(&request.room, &request.identity);
        self.add_consult(leg.clone(), call)
            .await
            .map_err(|reason| DialError::Failed { reason })?;
        Ok(leg)
    }

    async fn do_say(&self, leg: &CallLeg, text: &str) -> Result<(), TelephonyError> {
        let (mut output, control) =
            self.with_leg(leg, |l| (l.output.clone(), l.control.clone()))?;
        match speak(self.voice.tts.as_ref(), text, &mut output, &control).await {
            Ok(()) => Ok(()),
            Err(VoiceFailure::Gone) => Err(TelephonyError::LegGone { leg: leg.clone() }),
            Err(VoiceFailure::Provider(e)) => Err(failed("say", e)),
        }
    }

    async fn do_next_utterance(&self, leg: &CallLeg) -> Result<Option<String>, TelephonyError> {
        let heard = {
            let state = self.lock();
            match state.legs.get(&leg.identity) {
                Some(l) if l.leg == *leg => l.heard.clone(),
                _ => return Err(TelephonyError::LegGone { leg: leg.clone() }),
            }
        };
        let Some(heard) = heard else {
            return Err(TelephonyError::Unsupported {
                operation: "next_utterance on a leg the agent does not listen to",
            });
        };
        let mut heard = heard.lock().await;
        match tokio::time::timeout(self.listen_timeout, heard.recv()).await {
            Ok(Some(Ok(text))) => {
                tracing::debug!(%leg, %text, "heard");
                Ok(Some(text))
            }
            Ok(Some(Err(e))) => Err(failed("next_utterance", e)),
            Ok(None) => Ok(None),
            Err(_) => Err(failed(
                "next_utterance",
                format!("nothing heard for {:?}", self.listen_timeout),
            )),
        }
    }

    async fn do_bridge(&self, leg: &CallLeg, to: &CallLeg) -> Result<CallLeg, TelephonyError> {
        if leg.identity == to.identity {
            return Err(failed("bridge", "a leg cannot be bridged to itself"));
        }
        let gone = |l: &CallLeg| TelephonyError::LegGone { leg: l.clone() };
        // Take both calls out, checking both first so a refusal leaves everything in place.
        let (a, b) = {
            let mut state = self.lock();
            for l in [leg, to] {
                match state.legs.get(&l.identity) {
                    Some(x) if x.leg == *l && !x.control.is_ended() && x.call.is_some() => {}
                    _ => return Err(gone(l)),
                }
            }
            let mut take = |l: &CallLeg| {
                let x = state.legs.get_mut(&l.identity)?;
                x.listener = None;
                Some(BridgeSide {
                    call: x.call.take()?,
                    tap: x.tap.take(),
                    hold: x.hold.take(),
                    output: x.output.clone(),
                })
            };
            (take(leg), take(to))
        };
        let (Some(a), Some(b)) = (a, b) else {
            return Err(failed("bridge", "a leg changed while bridging"));
        };
        let (a, b) = (a.ready().await, b.ready().await);
        let (mut a, mut b) = match (a, b) {
            (Some(a), Some(b)) => (a, b),
            (None, _) => return Err(gone(leg)),
            (_, None) => return Err(gone(to)),
        };
        let names = format!("{leg} <-> {to}");
        tokio::spawn(async move {
            if let Err(e) = crate::bridge::bridge(&mut a, &mut b).await {
                tracing::warn!(error = %e, "bridge failed");
            }
            tracing::info!(legs = %names, "bridge ended");
        });
        let moved = CallLeg::new(&to.room, &leg.identity);
        if let Some(x) = self.lock().legs.get_mut(&leg.identity) {
            x.leg = moved.clone();
        }
        tracing::info!(%leg, %to, "bridged");
        Ok(moved)
    }

    async fn do_hang_up(&self, leg: &CallLeg) -> Result<(), TelephonyError> {
        if *leg == self.agent {
            let (tx, caller_bridged) = {
                let mut state = self.lock();
                let bridged = state
                    .legs
                    .get(CALLER_IDENTITY)
                    .is_some_and(|l| l.call.is_none());
                (state.pipeline_tx.take(), bridged)
            };
            if let Some(tx) = tx {
                // The agent's voice pipeline ends, as when the caller hangs up.
                let _ = tokio::time::timeout(
                    std::time::Duration::from_secs(1),
                    tx.send(InputEvent::Hangup),
                )
                .await;
            }
            if !caller_bridged {
                // Without a bridge the agent leaving ends the caller's call.
                self.caller_control.hangup().await;
            }
            tracing::debug!(agent = AGENT_IDENTITY, "agent left the call");
            return Ok(());
        }
        let control = {
            let mut state = self.lock();
            match state.legs.get_mut(&leg.identity) {
                Some(l) if l.leg == *leg => {
                    l.hold = None;
                    l.control.clone()
                }
                _ => return Err(TelephonyError::LegGone { leg: leg.clone() }),
            }
        };
        // A no-op when the leg already hung up.
        control.hangup().await;
        Ok(())
    }

    async fn do_cold_transfer(&self, leg: &CallLeg, to: &str) -> Result<(), TelephonyError> {
        let target =
            target_uri(to, self.trunk_host.as_deref()).map_err(|e| failed("cold_transfer", e))?;
        let control = self.with_leg(leg, |l| l.control.clone())?;
        match control.refer(&target).await {
            Ok(()) => Ok(()),
            Err(SipError::CallEnded) => Err(TelephonyError::LegGone { leg: leg.clone() }),
            Err(e) => Err(failed("cold_transfer", e)),
        }
    }
}

/// One call on its way into a bridge.
struct BridgeSide {
    call: crate::call::Call,
    tap: Option<super::tap::InputTap>,
    hold: Option<HoldPlayer>,
    output: crate::playout::CallOutput,
}

impl BridgeSide {
    /// Stops hold audio and the input relay, and puts the input back in the call for the
    /// bridge to take. `None` when the call ended meanwhile.
    async fn ready(mut self) -> Option<crate::call::Call> {
        if let Some(hold) = self.hold.take() {
            hold.stop(&mut self.output).await;
        }
        let input = match self.tap.take() {
            Some(tap) => tap.stop().await?,
            None => self.call.take_input()?,
        };
        self.call.restore_input(input).ok()?;
        Some(self.call)
    }
}

impl Telephony for SipTelephony {
    fn caller(&self) -> CallLeg {
        self.caller.clone()
    }

    fn agent(&self) -> CallLeg {
        self.agent.clone()
    }

    fn hold<'a>(
        &'a self,
        leg: &'a CallLeg,
        hold_audio: &'a str,
    ) -> BoxFuture<'a, Result<(), TelephonyError>> {
        Box::pin(self.do_hold(leg, hold_audio))
    }

    fn unhold<'a>(&'a self, leg: &'a CallLeg) -> BoxFuture<'a, Result<(), TelephonyError>> {
        Box::pin(self.do_unhold(leg))
    }

    fn dial(&self, request: DialRequest) -> BoxFuture<'_, Result<CallLeg, DialError>> {
        Box::pin(self.do_dial(request))
    }

    fn say<'a>(
        &'a self,
        leg: &'a CallLeg,
        text: &'a str,
    ) -> BoxFuture<'a, Result<(), TelephonyError>> {
        Box::pin(self.do_say(leg, text))
    }

    fn next_utterance<'a>(
        &'a self,
        leg: &'a CallLeg,
    ) -> BoxFuture<'a, Result<Option<String>, TelephonyError>> {
        Box::pin(self.do_next_utterance(leg))
    }

    fn bridge<'a>(
        &'a self,
        leg: &'a CallLeg,
        to: &'a CallLeg,
    ) -> BoxFuture<'a, Result<CallLeg, TelephonyError>> {
        Box::pin(self.do_bridge(leg, to))
    }

    fn hang_up<'a>(&'a self, leg: &'a CallLeg) -> BoxFuture<'a, Result<(), TelephonyError>> {
        Box::pin(self.do_hang_up(leg))
    }

    /// Blind transfer: REFER of `leg` to `to` (a SIP URI, or a number at the trunk host).
    /// Resolves when the peer reports the outcome; the leg is then hung up. Peers that
    /// refuse REFER make it fail with the status they answered.
    fn cold_transfer<'a>(
        &'a self,
        leg: &'a CallLeg,
        to: &'a str,
    ) -> BoxFuture<'a, Result<(), TelephonyError>> {
        Box::pin(self.do_cold_transfer(leg, to))
    }
}
