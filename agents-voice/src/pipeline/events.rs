//! What the voice pipeline reports: state changes, user transcripts, metrics, interruptions
//! and playback, as serialisable events a transport (SIP, web) can forward as they are.

use std::time::Duration;

use crate::metrics::Metric;

/// What the agent is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentState {
    /// The pipeline is starting.
    Initializing,
    /// Waiting for the user.
    Listening,
    /// A reply is being prepared (LLM, tools, TTS before the first frame played).
    Thinking,
    /// Agent audio is playing.
    Speaking,
}

/// What the user is doing, as the VAD hears it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UserState {
    /// Speech detected.
    Speaking,
    /// No speech.
    Listening,
}

/// Why agent speech stopped early.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InterruptionCause {
    /// User speech lasted `min_interruption_duration` (and `min_words`, if set).
    UserSpeech,
    /// A final transcript arrived while the agent spoke.
    Transcript,
    /// A new user turn was committed.
    UserTurn,
    /// `VoiceHandle::interrupt` was called.
    Programmatic,
    /// The TTS failed.
    TtsError,
}

/// One event of a voice session.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum VoiceEvent {
    /// The agent's state changed.
    AgentState {
        /// Previous state.
        old: AgentState,
        /// New state.
        new: AgentState,
    },
    /// The user's state changed.
    UserState {
        /// Previous state.
        old: UserState,
        /// New state.
        new: UserState,
    },
    /// A transcript of the user's speech.
    UserTranscript {
        /// The text.
        text: String,
        /// Final (else interim, may still change).
        is_final: bool,
        /// Detected language, when the STT reports it.
        #[serde(skip_serializing_if = "Option::is_none")]
        language: Option<String>,
    },
    /// A user turn was committed and sent to the session.
    UserTurnCommitted {
        /// The turn's text (all final transcripts since the last turn).
        text: String,
    },
    /// A latency measurement.
    Metrics(Metric),
    /// Agent speech was paused because the user may be interrupting (resumes if it was
    /// a false alarm).
    SpeechPaused,
    /// A pause ended without a transcript: a false interruption.
    FalseInterruption {
        /// Whether the paused speech resumed.
        resumed: bool,
    },
    /// Agent speech was interrupted.
    Interrupted {
        /// Why.
        cause: InterruptionCause,
    },
    /// A speech's first frame played.
    PlaybackStarted {
        /// Speech id (increasing per session).
        speech_id: u64,
    },
    /// A speech's playout ended (only for speech that started playing).
    PlaybackFinished {
        /// Speech id.
        speech_id: u64,
        /// Seconds played.
        playback_position: f64,
        /// Cut short.
        interrupted: bool,
    },
    /// What the conversation keeps of a speech once it ended: all of it, the part that was
    /// heard (interrupted), or nothing (interrupted before it played).
    SpeechCommitted {
        /// Speech id.
        speech_id: u64,
        /// The text kept in the history ("" = removed).
        text: String,
        /// Whether it was cut short.
        interrupted: bool,
    },
    /// The user said more than [`UserTurnLimit`](super::UserTurnLimit) allows since the
    /// agent last spoke (reported once until the agent speaks again). The application
    /// decides what to do, e.g. `say` something to regain the floor.
    UserTurnExceeded {
        /// What the user said since the agent last spoke.
        transcript: String,
        /// Words counted.
        words: usize,
        /// Seconds of speech counted.
        duration: f64,
    },
    /// A provider or turn failed; `fatal` when the error budget is spent.
    Error {
        /// `stt`, `llm`, `tts` or `session`.
        component: String,
        /// What went wrong.
        message: String,
        /// The session closes because of it.
        fatal: bool,
    },
    /// The pipeline ended.
    Closed {
        /// Why, when it ended on an error.
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
}

/// A [`VoiceEvent`] with the time it happened (since the pipeline started).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct TimedEvent {
    /// Seconds since the pipeline started.
    #[serde(serialize_with = "as_secs")]
    pub at: Duration,
    /// The event.
    #[serde(flatten)]
    pub event: VoiceEvent,
}

fn as_secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

impl VoiceEvent {
    /// A console-style transcript line for the event, or `None` for events a transcript
    /// leaves out (interim transcripts, playback bookkeeping).
    pub fn transcript_line(&self) -> Option<String> {
        Some(match self {
            VoiceEvent::AgentState { new, .. } => format!("agent_state {new:?}").to_lowercase(),
            VoiceEvent::UserState { new, .. } => format!("user_state {new:?}").to_lowercase(),
            VoiceEvent::UserTranscript {
                text,
                is_final: true,
                ..
            } => format!("user_transcript {text:?}"),
            VoiceEvent::UserTranscript { .. } => return None,
            VoiceEvent::UserTurnCommitted { .. } => return None,
            VoiceEvent::Metrics(m) => m.transcript_line(),
            VoiceEvent::SpeechPaused => "speech_paused".to_string(),
            VoiceEvent::FalseInterruption { resumed } => {
                format!("false_interruption resumed={resumed}")
            }
            VoiceEvent::Interrupted { cause } => format!("interrupted by {cause:?}").to_lowercase(),
            VoiceEvent::PlaybackStarted { .. } => return None,
            VoiceEvent::PlaybackFinished {
                playback_position,
                interrupted,
                ..
            } => format!(
                "playback_finished position={playback_position:.3}s interrupted={interrupted}"
            ),
            VoiceEvent::SpeechCommitted { .. } => return None,
            VoiceEvent::UserTurnExceeded {
                words, duration, ..
            } => format!("user_turn_exceeded words={words} duration={duration:.3}s"),
            VoiceEvent::Error {
                component,
                message,
                fatal,
            } => format!(
                "error {component}{}: {message}",
                if *fatal { " (fatal)" } else { "" }
            ),
            VoiceEvent::Closed { error } => match error {
                Some(e) => format!("closed: {e}"),
                None => "closed".to_string(),
            },
        })
    }
}
