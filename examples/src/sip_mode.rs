//! `sip` mode: the example answers phone calls. Each call gets a fresh agent, session and
//! voice pipeline on the call's audio (see [`crate::conversation`]); keypad digits (RFC 4733,
//! or in-band tones) reach the session as DTMF; when the agent ends the session, the call is
//! hung up once its last words have played. SIGTERM (or Ctrl-C) stops taking calls (503) and
//! waits for the calls in progress, then `run` returns success.
//!
//! A call whose STT, TTS or model fails hears a short apology, spoken by the TTS if it still
//! works, and is hung up; the error is in its transcript.

use crate::call_transcript::{transcript_file_name, CallTranscript};
use crate::cli::SipArgs;
use crate::conversation::{apologize, converse, Conversations, Ending, Observer};
use crate::runner::{Calls, Demo};
use agents_core::console;
use agents_core::prelude::*;
use agents_sip::{Call, SipConfig, SipServer};
use agents_voice::io::AudioOutput;
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;
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
    let server = match SipServer::bind(config).await {
        Ok(s) => s,
        Err(e) => return console::fail(format!("cannot listen on {}: {e}", args.listen)),
    };
    server.handle().shutdown_on_signal();
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
        transcript_dir: args.transcript_dir.clone(),
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
    transcript_dir: Option<PathBuf>,
}

impl<A: Agent> Worker<A> {
    /// Serves one call from answer to hangup.
    async fn answer(&self, mut call: Call) {
        let call_id = call.info().call_id.clone();
        let mut transcript = match &self.transcript_dir {
            Some(dir) => CallTranscript::create(&dir.join(transcript_file_name(&call_id)))
                .unwrap_or_else(|e| {
                    tracing::warn!(%call_id, error = %e, "call without a transcript");
                    CallTranscript::none()
                }),
            None => CallTranscript::none(),
        };
        transcript.call(
            "call_started",
            json!({
                "call_id": call_id,
                "from": call.info().from,
                "to": call.info().to,
            }),
        );
        let prepared = self.conversations.prepare();
        let tts = prepared.stack.tts.clone();
        let control = call.control();
        let ending = match call.take_input() {
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
                converse(prepared, input, call.output(), &gone, &mut observer).await
            }
        };
        if let Ending::Error(error) = &ending {
            tracing::warn!(%call_id, %error, "call failed");
            transcript.call("call_error", json!({ "error": error }));
            if !control.is_ended() {
                let mut output = call.output();
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
        if !control.is_ended() {
            call.hangup().await;
        }
    }
}
