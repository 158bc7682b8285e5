//! `sip` mode: the example answers phone calls. Each call gets a fresh agent, session and
//! voice pipeline on the call's audio (see [`crate::conversation`]); keypad digits (RFC 4733,
//! or in-band tones) reach the session as DTMF; when the agent ends the session, the call is
//! hung up once its last words have played. SIGTERM (or Ctrl-C) stops taking calls (503) and
//! waits for the calls in progress, then `run` returns success.
//!
//! An agent that asks its [`Line`] for telephony gets a [`SipTelephony`] on the call: its
//! warm transfer holds the caller, dials the human over SIP from this server, briefs them and
//! bridges the two calls here; a bridged call is served until either side hangs up.
//!
//! A call whose STT, TTS or model fails hears a short apology, spoken by the TTS if it still
//! works, and is hung up; the error is in its transcript.

use crate::cli::SipArgs;
use crate::conversation::{apologize, converse, Conversations, Ending, Observer};
use crate::runner::{Calls, Demo, Line, PhoneLine};
use crate::voice_stack::VoiceSource;
use agents_core::console;
use agents_core::prelude::*;
use agents_sip::{Call, ServerHandle, SipConfig, SipServer, SipTelephony};
use agents_telephony::Telephony;
use agents_voice::io::AudioOutput;
use serde_json::json;
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

/// Runs `sip`: serves calls until SIGTERM, then drains and exits 0.
pub async fn run<A: Agent>(args: &SipArgs, demo: fn() -> Demo, calls: Calls<A>) -> ExitCode {
    let conversations =
        match Conversations::new(calls, demo, &args.providers, args.transcript_dir.as_deref()) {
            Ok(c) => c,
            Err(e) => return console::fail(e),
        };
    let mut config = SipConfig::new(args.listen);
    config.rtp_ports = args.rtp_ports.clone();
    config.public_ip = args.public_ip;
    config.max_calls = args.max_calls as usize;
    config.realtime_pacing = args.realtime_pacing;
    let server = match SipServer::bind(config).await {
        Ok(s) => s,
        Err(e) => return console::fail(format!("cannot listen on {}: {e}", args.listen)),
    };
    let handle = server.handle();
    handle.shutdown_on_signal();
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "sip: listening on {} (UDP; RTP ports {}-{}; up to {} calls); {}. SIGTERM or Ctrl-C drains and exits.",
            server.local_addr(),
            args.rtp_ports.start(),
            args.rtp_ports.end(),
            args.max_calls,
            conversations.describe(),
        );
        let _ = out.flush();
    }
    let worker = Arc::new(Worker {
        conversations,
        server: handle,
    });
    let served = server
        .serve(move |call| {
            let worker = worker.clone();
            async move { worker.answer(call).await }
        })
        .await;
    match served {
        Ok(()) => {
            let _ = writeln!(std::io::stdout(), "sip: calls drained, exiting");
            ExitCode::SUCCESS
        }
        Err(e) => console::fail(e),
    }
}

/// What every call is made from.
struct Worker<A> {
    conversations: Conversations<A>,
    /// Places the calls a transfer dials.
    server: ServerHandle,
}

impl<A: Agent> Worker<A> {
    /// Serves one call from answer to hangup.
    async fn answer(&self, call: Call) {
        let call_id = call.info().call_id.clone();
        let mut transcript = self.conversations.transcript(&call_id);
        transcript.call(
            "call_started",
            json!({
                "call_id": call_id,
                "from": call.info().from,
                "to": call.info().to,
            }),
        );
        let mut phone = SipPhone {
            line: Some(SipLine::Plain(call)),
            server: &self.server,
            voice: self.conversations.voice(),
        };
        let prepared = self.conversations.prepare(&mut Line::phone(&mut phone));
        let tts = prepared.stack.tts.clone();
        let Some(mut line) = phone.line else {
            tracing::error!(%call_id, "the call was lost while its agent was made");
            return;
        };
        // The call's audio: its own, or relayed by the telephony that owns the call now.
        // `line` keeps the call up until this handler returns.
        let (input, output, control) = match &mut line {
            SipLine::Plain(call) => (call.take_input(), call.output(), call.control()),
            SipLine::Telephony(t) => (t.take_caller_input(), t.caller_output(), t.caller_control()),
        };
        let mut ending = match input {
            None => Ending::Error("the call's audio input was already taken".into()),
            Some(input) => {
                let gone = {
                    let control = control.clone();
                    move || control.is_ended()
                };
                let mut observer = Observer {
                    transcript: &mut transcript,
                    mirror: None,
                };
                converse(prepared, input, output.clone(), &gone, &mut observer).await
            }
        };
        let bridged = matches!(&line, SipLine::Telephony(t) if t.caller_bridged());
        if bridged && !matches!(ending, Ending::Error(_)) {
            ending = Ending::Transferred;
        }
        if let Ending::Error(error) = &ending {
            tracing::warn!(%call_id, %error, "call failed");
            transcript.call("call_error", json!({ "error": error }));
            if !control.is_ended() && !bridged {
                let mut output = output;
                output.clear_buffer();
                if let Err(e) = apologize(tts.as_ref(), &mut output).await {
                    transcript.call(
                        "call_error",
                        json!({ "error": format!("apology not played: {e}") }),
                    );
                }
            }
        }
        transcript.call("call_ended", json!({ "reason": ending.reason() }));
        transcript.flush();
        if bridged {
            // The caller talks with the human now; the bridge hangs up both calls when
            // either side does.
            control.ended().await;
        } else if !control.is_ended() {
            control.hangup().await;
        }
    }
}

/// A call, and the telephony that owns it once its agent asked for one.
enum SipLine {
    Plain(Call),
    Telephony(Arc<SipTelephony>),
}

/// The [`Line`] of a SIP call: telephony on the call, placing calls from this server, with
/// voice stacks from where the conversations get theirs.
struct SipPhone<'a> {
    /// Always set outside of [`PhoneLine::telephony`].
    line: Option<SipLine>,
    server: &'a ServerHandle,
    voice: &'a VoiceSource,
}

impl PhoneLine for SipPhone<'_> {
    fn telephony(&mut self, human_lines: &[&str]) -> Option<Arc<dyn Telephony>> {
        let telephony = match self.line.take()? {
            SipLine::Telephony(t) => t,
            SipLine::Plain(call) => {
                let stack = self.voice.stack(human_lines);
                Arc::new(SipTelephony::new(
                    call,
                    self.server.clone(),
                    stack.tts,
                    stack.stt,
                    stack.vad,
                ))
            }
        };
        self.line = Some(SipLine::Telephony(telephony.clone()));
        Some(telephony)
    }
}
