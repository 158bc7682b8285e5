//! The voice pipeline: puts an [`AgentSession`] on audio.
//!
//! ```text
//! AudioInput ─▶ resample ─▶ VAD ─┬─▶ endpointing ─▶ session.run_as(text, Audio)
//!                                └─▶ STT ─┘                     │
//! AudioOutput ◀─ resample ◀─ TTS ◀─ markdown/emoji filter ◀─ TextDelta / Message events
//! ```
//!
//! A transport supplies an [`AudioInput`] (a channel of [`InputEvent`](crate::io::InputEvent)s)
//! and an [`AudioOutput`]; the pipeline does the rest and reports [`VoiceEvent`]s:
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use agents_voice::pipeline::VoiceSession;
//! # async fn demo(session: agents_core::session::AgentSession, agent: impl agents_core::agent::Agent,
//! #   vad: Arc<dyn agents_voice::vad::Vad>, stt: Arc<dyn agents_voice::stt::Stt>,
//! #   tts: Arc<dyn agents_voice::tts::Tts>, input: agents_voice::io::AudioInput,
//! #   output: agents_voice::io::TestAudioOutput) -> Result<(), agents_voice::pipeline::PipelineError> {
//! let mut builder = VoiceSession::builder(Arc::new(session)).vad(vad).stt(stt).tts(tts);
//! let mut events = builder.subscribe();
//! let voice = builder.start(agent, input, output).await?;
//! while let Some(ev) = events.recv().await {
//!     println!("{}", serde_json::to_string(&ev).unwrap());
//! }
//! voice.join().await
//! # }
//! ```

mod driver;
pub mod events;
mod heard;
mod input_path;
pub mod options;
mod playout;
mod speeches;
mod turn_limit;
mod turns;

use std::sync::{Arc, Mutex};

use agents_core::agent::Agent;
use agents_core::session::AgentSession;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub use events::{AgentState, InterruptionCause, TimedEvent, UserState, VoiceEvent};
pub use heard::{heard_text, SegmentAudio};
pub use input_path::InputPath;
pub use options::{
    EndpointingOptions, InterruptionOptions, SayOptions, SpeechPriority, UserTurnLimit,
    VoiceOptions,
};

use crate::io::{AudioInput, AudioOutput};
use crate::stt::Stt;
use crate::tts::Tts;
use crate::vad::Vad;
use driver::{DriverCmd, Subscribers};

/// Why a voice session ended abnormally.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// A VAD, STT or TTS was not given to the builder.
    #[error("the voice pipeline needs a {0}: call .{0}(...) on the builder")]
    Missing(&'static str),
    /// The agent session failed to start.
    #[error("the agent session failed: {0}")]
    Session(#[from] agents_core::Error),
    /// A component failed too many times in a row; the session was closed.
    #[error("closing the session: {count} consecutive {component} errors (last: {last})")]
    TooManyErrors {
        /// `stt`, `llm` or `tts`.
        component: &'static str,
        /// Errors in a row.
        count: u32,
        /// The last error.
        last: String,
    },
    /// An internal task stopped unexpectedly.
    #[error("the voice pipeline's {0} stopped unexpectedly")]
    Stopped(&'static str),
    /// Bad audio or a provider failure outside the error budget.
    #[error(transparent)]
    Voice(#[from] crate::error::VoiceError),
}

/// Entry point: `VoiceSession::builder(session)`.
pub struct VoiceSession;

impl VoiceSession {
    /// A builder for a pipeline driving `session` (not started yet; `start` starts it).
    pub fn builder(session: Arc<AgentSession>) -> VoiceSessionBuilder {
        VoiceSessionBuilder {
            session,
            vad: None,
            stt: None,
            tts: None,
            options: VoiceOptions::default(),
            subscribers: Arc::default(),
        }
    }
}

/// Configures and starts a voice pipeline.
pub struct VoiceSessionBuilder {
    session: Arc<AgentSession>,
    vad: Option<Arc<dyn Vad>>,
    stt: Option<Arc<dyn Stt>>,
    tts: Option<Arc<dyn Tts>>,
    options: VoiceOptions,
    subscribers: Subscribers,
}

impl VoiceSessionBuilder {
    /// The voice activity detector (drives turn-taking and interruptions).
    pub fn vad(mut self, vad: Arc<dyn Vad>) -> Self {
        self.vad = Some(vad);
        self
    }

    /// The speech recogniser (wrap a batch one in `SttStreamAdapter`).
    pub fn stt(mut self, stt: Arc<dyn Stt>) -> Self {
        self.stt = Some(stt);
        self
    }

    /// The speech synthesiser (wrap a batch one in `SentenceTtsAdapter`).
    pub fn tts(mut self, tts: Arc<dyn Tts>) -> Self {
        self.tts = Some(tts);
        self
    }

    /// Turn-taking, interruption and error settings.
    pub fn options(mut self, options: VoiceOptions) -> Self {
        self.options = options;
        self
    }

    /// Receives every [`VoiceEvent`] from the start (including `initializing → listening`).
    pub fn subscribe(&mut self) -> mpsc::UnboundedReceiver<TimedEvent> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.subscribers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(tx);
        rx
    }

    /// Starts the session with `agent` and the pipeline between `input` and `output`.
    /// Speech the agent produces in `on_enter` (a greeting) is played.
    pub async fn start<A: Agent>(
        self,
        agent: A,
        input: AudioInput,
        output: impl AudioOutput,
    ) -> Result<VoiceHandle, PipelineError> {
        let vad = self.vad.ok_or(PipelineError::Missing("vad"))?;
        let stt = self.stt.ok_or(PipelineError::Missing("stt"))?;
        let tts = self.tts.ok_or(PipelineError::Missing("tts"))?;
        let session_events = self.session.subscribe();
        self.session.start(agent).await?;

        let (playout_tx, playout_rx) = mpsc::unbounded_channel();
        let (report_tx, report_rx) = mpsc::unbounded_channel();
        let can_pause = output.can_pause();
        let playout_task = tokio::spawn(playout::run_playout(
            tts,
            Box::new(output),
            self.options.filter_tts_text,
            playout_rx,
            report_tx,
        ));
        let (ops_tx, ops_rx) = mpsc::unbounded_channel();
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        let turns_task = tokio::spawn(turns::run_turns(self.session.clone(), ops_rx, done_tx));
        let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
        let driver = driver::Driver::new(
            self.options,
            self.session.clone(),
            self.subscribers.clone(),
            InputPath::deferred(vad),
            stt,
            playout_tx,
            ops_tx,
            can_pause,
        );
        let inputs = driver::Inputs {
            audio: input,
            session_events,
            cmds: cmd_rx,
            playout: report_rx,
            turns: done_rx,
        };
        let join = tokio::spawn(async move {
            let result = driver.run(inputs).await;
            playout_task.abort();
            turns_task.abort();
            result
        });
        Ok(VoiceHandle {
            cmds: cmd_tx,
            subscribers: self.subscribers,
            session: self.session,
            join: Mutex::new(Some(join)),
        })
    }
}

/// A running voice pipeline.
pub struct VoiceHandle {
    cmds: mpsc::UnboundedSender<DriverCmd>,
    subscribers: Subscribers,
    session: Arc<AgentSession>,
    join: Mutex<Option<JoinHandle<Result<(), PipelineError>>>>,
}

impl VoiceHandle {
    /// The agent session behind the pipeline.
    pub fn session(&self) -> &Arc<AgentSession> {
        &self.session
    }

    /// Receives [`VoiceEvent`]s from now on.
    pub fn subscribe(&self) -> mpsc::UnboundedReceiver<TimedEvent> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.subscribers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(tx);
        rx
    }

    /// Stops the agent's current reply (LLM and audio) and drops queued speech; the history
    /// keeps what was heard. With nothing playing or pending it does nothing; while an
    /// uninterruptible speech ([`SayOptions::allow_interruptions`] false) plays, it does
    /// nothing either (that speech and the queue behind it play on).
    pub fn interrupt(&self) {
        let _ = self.cmds.send(DriverCmd::Interrupt);
    }

    /// Speaks `text` as the agent (through the TTS; added to the history).
    pub fn say(&self, text: impl Into<String>, options: SayOptions) {
        let _ = self.cmds.send(DriverCmd::Say(text.into(), options));
    }

    /// A typed user turn (text modality), interrupting the agent like speech would.
    pub fn push_text(&self, text: impl Into<String>) {
        let _ = self.cmds.send(DriverCmd::UserText(text.into()));
    }

    /// Ends the pipeline and closes the session.
    pub async fn close(&self) -> Result<(), PipelineError> {
        let _ = self.cmds.send(DriverCmd::Close);
        self.join().await
    }

    /// Waits for the pipeline to end (hangup, close, or a fatal error) and returns why.
    pub async fn join(&self) -> Result<(), PipelineError> {
        let handle = self.join.lock().unwrap_or_else(|p| p.into_inner()).take();
        match handle {
            Some(h) => h.await.map_err(|_| PipelineError::Stopped("pipeline"))?,
            None => Ok(()),
        }
    }
}
