//! One voice conversation on a live transport (a SIP call, a browser page): a fresh agent,
//! session and voice pipeline per conversation, every event recorded, the conversation closed
//! once the agent ended the session and its last words played, and a failure turned into an
//! ending with the error (the transport then apologises and hangs up).

use crate::call_transcript::{transcript_file_name, CallTranscript};
use crate::cli::ProviderArgs;
use crate::runner::{build_session, model_from_env, Calls, Demo, Line};
use crate::voice_stack::{VoiceSource, VoiceStack};
use agents_core::prelude::*;
use agents_voice::audio::{to_mono, Resampler};
use agents_voice::io::{AudioInput, AudioOutput};
use agents_voice::pipeline::{AgentState, PipelineError, TimedEvent, VoiceEvent, VoiceSession};
use agents_voice::tts::{Tts, TtsInput};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::Instant;

/// What the caller hears when the conversation cannot go on.
pub(crate) const APOLOGY: &str =
    "Sorry, something went wrong on our side. Please call again later. Goodbye.";
/// Longest wait for the apology to be synthesized and played.
const APOLOGY_TIMEOUT: Duration = Duration::from_secs(15);
/// After the agent ended the session, its last words get this long to play at most.
const GOODBYE_TIMEOUT: Duration = Duration::from_secs(30);
/// ... and the pipeline this long to pick them up before a quiet agent counts as done.
const GOODBYE_GRACE: Duration = Duration::from_millis(400);

/// The model of each conversation.
enum Model {
    /// One client for every conversation.
    Shared(Arc<dyn Llm>),
    /// A fresh copy of the demo's script per conversation.
    Scripted,
}

/// What every conversation is made from: the example's agent maker, its demo, the model,
/// the voice providers and where transcripts go.
pub(crate) struct Conversations<A> {
    calls: Calls<A>,
    demo: fn() -> Demo,
    model: Model,
    voice: VoiceSource,
    what: String,
    transcript_dir: Option<PathBuf>,
}

/// One conversation ready to start.
pub(crate) struct Prepared<A> {
    /// The session and its agent, or why they could not be made.
    pub setup: (AgentSession, A),
    /// The conversation's VAD, STT and TTS.
    pub stack: VoiceStack,
}

impl<A: Agent> Conversations<A> {
    /// Scripted (the demo's model, scripted STT, a tone as voice), the demo's model with
    /// STT and TTS from the environment, or all from the environment (the model as `console`
    /// configures it, STT and TTS from `VoiceConfig::from_env`). Creates `transcript_dir`, so
    /// a bad one fails before any call.
    pub fn new(
        calls: Calls<A>,
        demo: fn() -> Demo,
        providers: &ProviderArgs,
        transcript_dir: Option<&Path>,
    ) -> Result<Self, String> {
        if let Some(dir) = transcript_dir {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create --transcript-dir {}: {e}", dir.display()))?;
        }
        let (scripted, scripted_model, model) = (
            providers.scripted,
            providers.scripted_model,
            &providers.model,
        );
        let (model, voice, what) = if scripted {
            (
                Model::Scripted,
                VoiceSource::Scripted,
                "the demo's scripted model".to_string(),
            )
        } else if scripted_model {
            (
                Model::Scripted,
                VoiceSource::from_env()?,
                "the demo's scripted model".to_string(),
            )
        } else {
            let voice = VoiceSource::from_env()?;
            let (llm, what) = model_from_env(model).map_err(|e| e.to_string())?;
            (Model::Shared(llm), voice, what)
        };
        Ok(Conversations {
            calls,
            demo,
            model,
            voice,
            what,
            transcript_dir: transcript_dir.map(Path::to_path_buf),
        })
    }

    /// The transcript of conversation `id` (a Call-ID, a connection id) in the transcript
    /// directory; none without one, or when the file cannot be created (the conversation
    /// goes on without it).
    pub fn transcript(&self, id: &str) -> CallTranscript {
        let Some(dir) = &self.transcript_dir else {
            return CallTranscript::none();
        };
        CallTranscript::create(&dir.join(transcript_file_name(id))).unwrap_or_else(|e| {
            tracing::warn!(%id, error = %e, "conversation without a transcript");
            CallTranscript::none()
        })
    }

    /// Where the conversations' voice stacks come from.
    pub fn voice(&self) -> &VoiceSource {
        &self.voice
    }

    /// Which model and voice, for the start-up line.
    pub fn describe(&self) -> String {
        format!("{}; {}", self.what, self.voice.describe())
    }

    /// A fresh agent (made on `line` if it asks to be), session and voice stack.
    pub fn prepare(&self, line: &mut Line<'_>) -> Prepared<A> {
        let (llm, lines): (Arc<dyn Llm>, Vec<&'static str>) = match &self.model {
            Model::Shared(llm) => (llm.clone(), Vec::new()),
            Model::Scripted => {
                let demo = (self.demo)();
                let lines = demo.spoken_lines().to_vec();
                (Arc::new(demo.llm), lines)
            }
        };
        Prepared {
            setup: build_session(llm.clone(), (self.calls)(&llm), line),
            stack: self.voice.stack(&lines),
        }
    }
}

/// How a conversation ended.
pub(crate) enum Ending {
    /// The agent ended the session.
    Agent,
    /// The other side left (or the pipeline closed without an error).
    Caller,
    /// The agent handed the caller to a person and left; the call goes on without it.
    Transferred,
    /// Something failed.
    Error(String),
}

impl Ending {
    /// The `reason` of the transcript's `call_ended` line.
    pub fn reason(&self) -> &'static str {
        match self {
            Ending::Agent => "agent_ended",
            Ending::Caller => "caller_hung_up",
            Ending::Transferred => "transferred",
            Ending::Error(_) => "error",
        }
    }
}

/// An event of the conversation, for a transport that shows them live (the web page).
pub(crate) enum Observed<'e> {
    /// From the agent session.
    Session(&'e SessionEvent),
    /// From the voice pipeline.
    Voice(&'e TimedEvent),
}

/// Where a conversation's events go.
pub(crate) struct Observer<'a> {
    /// The transcript file.
    pub transcript: &'a mut CallTranscript,
    /// Also called for every event, streamed text included.
    pub mirror: Option<&'a (dyn Fn(Observed<'_>) + Send + Sync)>,
}

impl Observer<'_> {
    fn session(&mut self, ev: &SessionEvent) {
        self.transcript.session(ev);
        if let Some(mirror) = self.mirror {
            mirror(Observed::Session(ev));
        }
    }

    fn voice(&mut self, ev: &TimedEvent) {
        self.transcript.voice(ev);
        if let Some(mirror) = self.mirror {
            mirror(Observed::Voice(ev));
        }
    }

    fn drain(
        &mut self,
        session_events: &mut UnboundedReceiver<SessionEvent>,
        voice_events: &mut UnboundedReceiver<TimedEvent>,
    ) {
        while let Ok(ev) = session_events.try_recv() {
            self.session(&ev);
        }
        while let Ok(ev) = voice_events.try_recv() {
            self.voice(&ev);
        }
    }
}

/// Runs the conversation on `input`/`output` until the other side leaves (`far_end_gone`
/// says whether it has), the agent ends the session (closed once its last words played), or
/// something fails: the pipeline's error budget, or a model request that failed after the
/// client's own retries.
pub(crate) async fn converse<A: Agent>(
    prepared: Prepared<A>,
    input: AudioInput,
    output: impl AudioOutput,
    far_end_gone: &(dyn Fn() -> bool + Send + Sync),
    observer: &mut Observer<'_>,
) -> Ending {
    let (session, agent) = prepared.setup;
    let stack = prepared.stack;
    let session = Arc::new(session);
    let mut session_events = session.subscribe();
    let mut builder = VoiceSession::builder(session)
        .vad(stack.vad)
        .stt(stack.stt)
        .tts(stack.tts);
    let mut voice_events = builder.subscribe();
    let voice = match builder.start(agent, input, output).await {
        Ok(voice) => Arc::new(voice),
        Err(e) => {
            observer.drain(&mut session_events, &mut voice_events);
            return Ending::Error(e.to_string());
        }
    };
    let mut joined = tokio::spawn({
        let voice = voice.clone();
        async move { voice.join().await }
    });
    let mut state = AgentState::Initializing;
    let mut agent_ended: Option<Instant> = None;
    // Set when the pipeline is closed here because the agent ended the session; a pipeline
    // that ends on its own ended because the other side left.
    let mut closed_for_agent = false;
    let mut failure: Option<String> = None;
    // Only ticks once the agent ended the session (a server may hold a thousand calls).
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let result = loop {
        tokio::select! {
            biased;
            Some(ev) = session_events.recv() => {
                observer.session(&ev);
                // The session also closes after the other side left: only a close while
                // the line is up is the agent's doing.
                if matches!(ev, SessionEvent::Closed) && !far_end_gone() {
                    agent_ended.get_or_insert_with(Instant::now);
                }
            }
            Some(ev) = voice_events.recv() => {
                observer.voice(&ev);
                match &ev.event {
                    VoiceEvent::AgentState { new, .. } => state = *new,
                    VoiceEvent::Error { component, message, .. }
                        if component == "llm" && failure.is_none() =>
                    {
                        // The client retried already: the conversation cannot go on.
                        failure = Some(format!("llm: {message}"));
                        let _ = voice.close().await;
                    }
                    _ => {}
                }
            }
            joined = &mut joined => {
                break joined.unwrap_or(Err(PipelineError::Stopped("pipeline")));
            }
            _ = tick.tick(), if agent_ended.is_some() => {
                if let Some(since) = agent_ended {
                    let quiet = state == AgentState::Listening && since.elapsed() >= GOODBYE_GRACE;
                    if !closed_for_agent && (quiet || since.elapsed() >= GOODBYE_TIMEOUT) {
                        closed_for_agent = true;
                        let _ = voice.close().await;
                    }
                }
            }
        }
    };
    observer.drain(&mut session_events, &mut voice_events);
    match (result, failure) {
        (Err(e), _) => Ending::Error(e.to_string()),
        (Ok(()), Some(failure)) => Ending::Error(failure),
        (Ok(()), None) if closed_for_agent => Ending::Agent,
        (Ok(()), None) => Ending::Caller,
    }
}

/// Speaks [`APOLOGY`] through `tts` on `output` and waits until it played.
pub(crate) async fn apologize(tts: &dyn Tts, output: &mut impl AudioOutput) -> Result<(), String> {
    let stream = tts.stream().map_err(|e| e.to_string())?;
    let (input, mut audio) = (stream.input, stream.output);
    for item in [
        TtsInput::Text(APOLOGY.into()),
        TtsInput::Flush,
        TtsInput::EndInput,
    ] {
        input
            .send(item)
            .await
            .map_err(|_| "the TTS stream closed".to_string())?;
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
                output
                    .capture_frame(frame)
                    .await
                    .map_err(|e| e.to_string())?;
            }
        }
        if let Some(mut r) = resampler {
            let tail = r.flush();
            if !tail.samples.is_empty() {
                output
                    .capture_frame(tail)
                    .await
                    .map_err(|e| e.to_string())?;
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
