//! `sip` mode: the example answers phone calls. Each call gets a fresh agent, session and
//! voice pipeline on the call's audio; keypad digits (RFC 4733, or in-band tones) reach the
//! session as DTMF; when the agent ends the session, the call is hung up once its last words
//! have played. SIGTERM (or Ctrl-C) stops taking calls (503) and waits for calls in progress.
//!
//! A call whose STT, TTS or model fails (the pipeline's error budget is spent, or a model
//! request failed after the client's own retries) hears a short apology, spoken by the TTS if
//! it still works, and is hung up; the error is in its transcript.

use crate::call_transcript::{transcript_file_name, CallTranscript};
use crate::cli::SipArgs;
use crate::runner::{build_session, model_from_env, Calls, Demo};
use crate::voice_stack::VoiceSource;
use agents_core::console;
use agents_core::prelude::*;
use agents_sip::playout::CallOutput;
use agents_sip::{Call, CallControl, SipConfig, SipServer};
use agents_voice::audio::{to_mono, Resampler};
use agents_voice::io::AudioOutput;
use agents_voice::pipeline::{AgentState, VoiceEvent, VoiceHandle, VoiceSession};
use agents_voice::tts::{Tts, TtsInput};
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// What a caller hears when the call cannot go on.
const APOLOGY: &str = "Sorry, something went wrong on our side. Please call again later. Goodbye.";
/// Longest wait for the apology to be synthesized and played.
const APOLOGY_TIMEOUT: Duration = Duration::from_secs(15);
/// After the agent ended the session, its last words get this long to play at most.
const GOODBYE_TIMEOUT: Duration = Duration::from_secs(30);
/// ... and the pipeline this long to pick them up before a quiet agent counts as done.
const GOODBYE_GRACE: Duration = Duration::from_millis(400);

/// The model of each call.
enum Model {
    /// One client for every call.
    Shared(Arc<dyn Llm>),
    /// A fresh copy of the demo's script per call.
    Scripted,
}

/// What every call is made from.
struct Worker<A> {
    calls: Calls<A>,
    demo: fn() -> Demo,
    model: Model,
    voice: VoiceSource,
    transcript_dir: Option<PathBuf>,
}

/// Runs `sip`: serves calls until SIGTERM, then drains and exits 0.
pub async fn run<A: Agent>(args: &SipArgs, demo: fn() -> Demo, calls: Calls<A>) -> ExitCode {
    let (model, voice, what) = if args.scripted {
        (
            Model::Scripted,
            VoiceSource::Scripted,
            "the demo's scripted model".to_string(),
        )
    } else {
        let voice = match VoiceSource::from_env() {
            Ok(v) => v,
            Err(e) => return console::fail(e),
        };
        match model_from_env(&args.model) {
            Ok((llm, what)) => (Model::Shared(llm), voice, what),
            Err(e) => return console::fail(e),
        }
    };
    if let Some(dir) = &args.transcript_dir {
        if let Err(e) = std::fs::create_dir_all(dir) {
            return console::fail(format!(
                "cannot create --transcript-dir {}: {e}",
                dir.display()
            ));
        }
    }
    let mut config = SipConfig::new(args.listen);
    config.rtp_ports = args.rtp_ports.clone();
    config.public_ip = args.public_ip;
    config.max_calls = args.max_calls as usize;
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
            "sip: listening on {} (UDP; RTP ports {}-{}; up to {} calls); {what}; {}. SIGTERM or Ctrl-C drains and exits.",
            server.local_addr(),
            args.rtp_ports.start(),
            args.rtp_ports.end(),
            args.max_calls,
            voice.describe(),
        );
        let _ = out.flush();
    }
    let worker = Arc::new(Worker {
        calls,
        demo,
        model,
        voice,
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

/// How a call went.
enum Ending {
    /// The agent ended the session.
    Agent,
    /// The caller hung up (or the pipeline closed without an error).
    Caller,
    /// Something failed.
    Error(String),
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
        let (llm, lines): (Arc<dyn Llm>, Vec<&'static str>) = match &self.model {
            Model::Shared(llm) => (llm.clone(), Vec::new()),
            Model::Scripted => {
                let demo = (self.demo)();
                (Arc::new(demo.llm), demo.lines)
            }
        };
        let stack = self.voice.stack(&lines);
        let tts = stack.tts.clone();
        let ending = match (call.take_input(), build_session(llm.clone(), (self.calls)(&llm))) {
            (None, _) => Ending::Error("the call's audio input was already taken".into()),
            (_, Err(e)) => Ending::Error(e.to_string()),
            (Some(input), Ok((session, agent))) => {
                let session = Arc::new(session);
                let session_events = session.subscribe();
                let mut builder = VoiceSession::builder(session)
                    .vad(stack.vad)
                    .stt(stack.stt)
                    .tts(stack.tts);
                let voice_events = builder.subscribe();
                match builder.start(agent, input, call.output()).await {
                    Ok(voice) => {
                        let control = call.control();
                        follow(voice, &control, session_events, voice_events, &mut transcript)
                            .await
                    }
                    Err(e) => {
                        let mut events = (session_events, voice_events);
                        drain(&mut events.0, &mut events.1, &mut transcript);
                        Ending::Error(e.to_string())
                    }
                }
            }
        };
        let control = call.control();
        let reason = match &ending {
            Ending::Agent => "agent_ended",
            Ending::Caller => "caller_hung_up",
            Ending::Error(error) => {
                tracing::warn!(%call_id, %error, "call failed");
                transcript.call("call_error", json!({ "error": error }));
                if !control.is_ended() {
                    let mut output = call.output();
                    output.clear_buffer();
                    if let Err(e) = apologize(tts.as_ref(), &mut output).await {
                        transcript.call("call_error", json!({ "error": format!("apology not played: {e}") }));
                    }
                }
                "error"
            }
        };
        transcript.call("call_ended", json!({ "reason": reason }));
        transcript.flush();
        if !control.is_ended() {
            call.hangup().await;
        }
    }
}

/// Follows a running call: records its events, and ends the pipeline once the agent ended the
/// session and its last words played, or when a model request failed.
async fn follow(
    voice: VoiceHandle,
    control: &CallControl,
    mut session_events: tokio::sync::mpsc::UnboundedReceiver<SessionEvent>,
    mut voice_events: tokio::sync::mpsc::UnboundedReceiver<agents_voice::pipeline::TimedEvent>,
    transcript: &mut CallTranscript,
) -> Ending {
    let voice = Arc::new(voice);
    let mut joined = tokio::spawn({
        let voice = voice.clone();
        async move { voice.join().await }
    });
    let mut state = AgentState::Initializing;
    let mut agent_ended: Option<Instant> = None;
    let mut failure: Option<String> = None;
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let result = loop {
        tokio::select! {
            biased;
            Some(ev) = session_events.recv() => {
                transcript.session(&ev);
                // The session also closes after the caller hung up: only a close while the
                // call is up is the agent's doing.
                if matches!(ev, SessionEvent::Closed) && !control.is_ended() {
                    agent_ended.get_or_insert_with(Instant::now);
                }
            }
            Some(ev) = voice_events.recv() => {
                transcript.voice(&ev);
                match &ev.event {
                    VoiceEvent::AgentState { new, .. } => state = *new,
                    VoiceEvent::Error { component, message, .. } if component == "llm" && failure.is_none() => {
                        // The client retried already: the call cannot go on.
                        failure = Some(format!("llm: {message}"));
                        let _ = voice.close().await;
                    }
                    _ => {}
                }
            }
            joined = &mut joined => break joined.unwrap_or_else(|_| {
                Err(agents_voice::pipeline::PipelineError::Stopped("pipeline"))
            }),
            _ = tick.tick() => {
                if let Some(since) = agent_ended {
                    let quiet = state == AgentState::Listening && since.elapsed() >= GOODBYE_GRACE;
                    if quiet || since.elapsed() >= GOODBYE_TIMEOUT {
                        let _ = voice.close().await;
                    }
                }
            }
        }
    };
    drain(&mut session_events, &mut voice_events, transcript);
    match (result, failure) {
        (Err(e), _) => Ending::Error(e.to_string()),
        (Ok(()), Some(failure)) => Ending::Error(failure),
        (Ok(()), None) if agent_ended.is_some() => Ending::Agent,
        (Ok(()), None) => Ending::Caller,
    }
}

/// Records the events still queued.
fn drain(
    session_events: &mut tokio::sync::mpsc::UnboundedReceiver<SessionEvent>,
    voice_events: &mut tokio::sync::mpsc::UnboundedReceiver<agents_voice::pipeline::TimedEvent>,
    transcript: &mut CallTranscript,
) {
    while let Ok(ev) = session_events.try_recv() {
        transcript.session(&ev);
    }
    while let Ok(ev) = voice_events.try_recv() {
        transcript.voice(&ev);
    }
}

/// Speaks [`APOLOGY`] on the call through `tts` and waits until it played.
async fn apologize(tts: &dyn Tts, output: &mut CallOutput) -> Result<(), String> {
    let stream = tts.stream().map_err(|e| e.to_string())?;
    let (input, mut audio) = (stream.input, stream.output);
    for item in [
        TtsInput::Text(APOLOGY.into()),
        TtsInput::Flush,
        TtsInput::EndInput,
    ] {
        input.send(item).await.map_err(|_| "the TTS stream closed".to_string())?;
    }
    let rate = output.sample_rate();
    let play = async {
        let mut resampler: Option<Resampler> = None;
        while let Some(chunk) = audio.recv().await {
            let frame = to_mono(&chunk.map_err(|e| e.to_string())?.frame);
            let frame = if frame.sample_rate == rate {
                frame
            } else {
                let r = match resampler.as_mut() {
                    Some(r) => r,
                    None => resampler.insert(
                        Resampler::new(frame.sample_rate, rate, 1).map_err(|e| e.to_string())?,
                    ),
                };
                r.process(&frame).map_err(|e| e.to_string())?
            };
            if !frame.samples.is_empty() {
                output.capture_frame(frame).await.map_err(|e| e.to_string())?;
            }
        }
        if let Some(mut r) = resampler {
            let tail = r.flush();
            if !tail.samples.is_empty() {
                output.capture_frame(tail).await.map_err(|e| e.to_string())?;
            }
        }
        output.flush();
        output.wait_for_playout().await;
        Ok::<(), String>(())
    };
    tokio::time::timeout(APOLOGY_TIMEOUT, play)
        .await
        .map_err(|_| "the apology took too long".to_string())?
}
