//! Turn-taking and interruption settings, defaults as the reference's VAD mode.

use std::time::Duration;

/// When a user turn ends (VAD mode).
#[derive(Clone, Debug, PartialEq)]
pub struct EndpointingOptions {
    /// Wait after the (back-dated) end of speech before committing a turn (0.5 s). In VAD mode
    /// the effective wait is about `max(vad min_silence, min_delay)`.
    pub min_delay: Duration,
    /// Longest wait, used when an end-of-turn model finds the turn unlikely to be over
    /// (3.0 s). VAD mode has no such model, so it is kept for parity and validation only.
    pub max_delay: Duration,
}

impl Default for EndpointingOptions {
    fn default() -> Self {
        EndpointingOptions {
            min_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(3),
        }
    }
}

/// When user speech interrupts the agent.
#[derive(Clone, Debug, PartialEq)]
pub struct InterruptionOptions {
    /// Whether the user can interrupt at all (default for every speech; `say` may override).
    pub enabled: bool,
    /// Speech needed to interrupt (0.5 s).
    pub min_duration: Duration,
    /// Words needed to interrupt (0 = no minimum); counted over final + interim transcripts.
    pub min_words: usize,
    /// Pause instead of stopping when the output can pause, and resume if no transcript
    /// follows (a false interruption: a cough, a door).
    pub resume_false_interruption: bool,
    /// Silence after which a pause counts as false (2.0 s); `None` disables resuming.
    pub false_interruption_timeout: Option<Duration>,
}

impl Default for InterruptionOptions {
    fn default() -> Self {
        InterruptionOptions {
            enabled: true,
            min_duration: Duration::from_millis(500),
            min_words: 0,
            resume_false_interruption: true,
            false_interruption_timeout: Some(Duration::from_secs(2)),
        }
    }
}

/// A limit on how much the user says before the agent speaks (off by default). When either
/// bound is passed, the pipeline reports [`VoiceEvent::UserTurnExceeded`](super::VoiceEvent)
/// once; counts accumulate across turns and reset when the agent starts speaking.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UserTurnLimit {
    /// Most words (final and interim transcripts); `None` = no word limit.
    pub max_words: Option<usize>,
    /// Most speech time (as the VAD measures it); `None` = no time limit.
    pub max_duration: Option<Duration>,
}

/// All settings of a voice pipeline.
#[derive(Clone, Debug, PartialEq)]
pub struct VoiceOptions {
    /// End of turn.
    pub endpointing: EndpointingOptions,
    /// Barge-in.
    pub interruption: InterruptionOptions,
    /// Consecutive unrecoverable errors of one component (STT, LLM or TTS) tolerated; the
    /// next one closes the session (3).
    pub max_unrecoverable_errors: u32,
    /// Strip markdown and emoji from the text sent to the TTS (the history keeps it).
    pub filter_tts_text: bool,
    /// Wait before recreating a failed STT stream (0.5 s).
    pub stt_reconnect_interval: Duration,
    /// How much the user may say before the agent speaks (off).
    pub user_turn_limit: UserTurnLimit,
}

impl Default for VoiceOptions {
    fn default() -> Self {
        VoiceOptions {
            endpointing: EndpointingOptions::default(),
            interruption: InterruptionOptions::default(),
            max_unrecoverable_errors: 3,
            filter_tts_text: true,
            stt_reconnect_interval: Duration::from_millis(500),
            user_turn_limit: UserTurnLimit::default(),
        }
    }
}

/// Priority of a speech in the queue: higher plays first, FIFO within a priority.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum SpeechPriority {
    /// Background speech (0).
    Low,
    /// Everything the session says (5).
    #[default]
    Normal,
    /// Urgent speech that jumps the queue (10).
    High,
}

/// Options of one [`VoiceHandle::say`](super::VoiceHandle::say).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SayOptions {
    /// Whether the user can interrupt this speech.
    pub allow_interruptions: bool,
    /// Queue priority.
    pub priority: SpeechPriority,
}

impl Default for SayOptions {
    fn default() -> Self {
        SayOptions {
            allow_interruptions: true,
            priority: SpeechPriority::Normal,
        }
    }
}
