//! `voice` mode: hear an agent without a phone. A recorded caller (WAV) is played in real time
//! through the voice pipeline (VAD, STT, the session, TTS) and the agent's side is written to
//! a WAV file aligned with the caller's; the conversation is printed as it was heard, and
//! `--transcript` writes the call's JSON-lines transcript (see [`crate::call_transcript`]).

use crate::call_transcript::CallTranscript;
use crate::cli::VoiceArgs;
use crate::runner::{build_session, model_from_env, Calls, Demo, Line};
use crate::voice_stack::VoiceSource;
use agents_core::console;
use agents_core::prelude::*;
use agents_core::session::SessionEvent;
use agents_voice::file_mode::{run_file, transcript_text};
use agents_voice::pipeline::{TimedEvent, VoiceSession};
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Runs `voice`: one call of the example's agent on the caller's recording.
pub async fn run<A: Agent>(
    args: &VoiceArgs,
    transcript: Option<PathBuf>,
    demo: fn() -> Demo,
    calls: Calls<A>,
) -> ExitCode {
    let demo = demo();
    let spoken = demo.spoken_lines().to_vec();
    let (source, llm, what): (VoiceSource, Arc<dyn Llm>, String) = if args.providers.scripted {
        (
            VoiceSource::Scripted,
            Arc::new(demo.llm),
            "the demo's scripted model".into(),
        )
    } else if args.providers.scripted_model {
        match VoiceSource::from_env() {
            Ok(source) => (
                source,
                Arc::new(demo.llm),
                "the demo's scripted model".into(),
            ),
            Err(e) => return console::fail(e),
        }
    } else {
        let source = match VoiceSource::from_env() {
            Ok(source) => source,
            Err(e) => return console::fail(e),
        };
        match model_from_env(&args.providers.model) {
            Ok((llm, what)) => (source, llm, what),
            Err(e) => return console::fail(e),
        }
    };
    let mut transcript = match &transcript {
        Some(path) => match CallTranscript::create(path) {
            Ok(t) => t,
            Err(e) => return console::fail(e),
        },
        None => CallTranscript::none(),
    };
    let stack = source.stack(&spoken);
    let call = calls(&llm);
    let (session, agent) = build_session(llm, call, &mut Line::none());
    let _ = writeln!(
        std::io::stderr(),
        "voice: {what}; {}. Playing {} in real time...",
        source.describe(),
        args.caller.display()
    );
    transcript.call(
        "call_started",
        json!({ "caller": args.caller.display().to_string() }),
    );
    let session = Arc::new(session);
    let session_events = session.subscribe();
    let mut voice = VoiceSession::builder(session)
        .vad(stack.vad)
        .stt(stack.stt)
        .tts(stack.tts);
    let voice_events = voice.subscribe();
    let (stop, stopped) = oneshot::channel();
    let writer = tokio::spawn(pump(transcript, session_events, voice_events, stopped));

    let result = run_file(voice, agent, &args.caller, &args.out, None).await;

    let _ = stop.send(());
    let mut transcript = writer.await.unwrap_or_else(|_| CallTranscript::none());
    match result {
        Ok(report) => {
            transcript.call("call_ended", json!({ "reason": "recording_ended" }));
            transcript.flush();
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(transcript_text(&report.events).as_bytes());
            let _ = writeln!(
                out,
                "agent audio: {} ({:.2} s; the caller's recording is {:.2} s)",
                args.out.display(),
                report.agent_duration.as_secs_f64(),
                report.caller_duration.as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            transcript.call("call_error", json!({ "error": e.to_string() }));
            transcript.call("call_ended", json!({ "reason": "error" }));
            transcript.flush();
            console::fail(e)
        }
    }
}

/// Writes the session's and the pipeline's events as they come, until `stop`; then what is
/// still queued.
async fn pump(
    mut transcript: CallTranscript,
    mut session: mpsc::UnboundedReceiver<SessionEvent>,
    mut voice: mpsc::UnboundedReceiver<TimedEvent>,
    mut stop: oneshot::Receiver<()>,
) -> CallTranscript {
    loop {
        tokio::select! {
            biased;
            Some(ev) = session.recv() => transcript.session(&ev),
            Some(ev) = voice.recv() => transcript.voice(&ev),
            _ = &mut stop => break,
        }
    }
    while let Ok(ev) = session.try_recv() {
        transcript.session(&ev);
    }
    while let Ok(ev) = voice.try_recv() {
        transcript.voice(&ev);
    }
    transcript
}
