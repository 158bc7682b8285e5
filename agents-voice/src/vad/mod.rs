//! Voice activity detection: the [`Vad`] / [`VadStream`] traits, their events, and the
//! embedded default [`EarshotVad`].
//!
//! Streams are synchronous and deterministic: time is the amount of audio pushed, so a
//! VAD behaves the same on a virtual clock as in real time.

mod earshot_vad;
mod hysteresis;

use std::time::Duration;

use crate::audio::AudioFrame;

pub use earshot_vad::EarshotVad;
pub use hysteresis::{SpeechTracker, TrackerOutput};

/// Kind of a [`VadEvent`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VadEventKind {
    /// Accumulated speech reached `min_speech`.
    StartOfSpeech,
    /// One inference window was processed.
    InferenceDone,
    /// Accumulated silence reached `min_silence` after speech.
    EndOfSpeech,
}

/// An event of a [`VadStream`].
#[derive(Clone, Debug)]
pub struct VadEvent {
    /// What happened.
    pub kind: VadEventKind,
    /// Stream time (audio pushed so far) when the event fired.
    pub timestamp: Duration,
    /// Accumulated speech.
    pub speech_duration: Duration,
    /// Accumulated silence (at EOS = min_silence: consumers back-date end of speech).
    pub silence_duration: Duration,
    /// Speech probability of the last window.
    pub probability: f32,
    /// Whether the stream is inside speech.
    pub speaking: bool,
    /// SOS: buffered speech incl. prefix padding; EOS: the whole utterance; else empty.
    pub frames: Vec<AudioFrame>,
}

/// A voice activity detector: a factory of independent per-audio-stream states.
pub trait Vad: Send + Sync {
    /// Starts a new stream with fresh state.
    fn stream(&self) -> Box<dyn VadStream>;
    /// Rate the detector's frames (in events) are at.
    fn sample_rate(&self) -> u32;
}

/// One audio stream's detection state.
pub trait VadStream: Send {
    /// Pushes audio (any rate/channels; resampled internally) and returns the events it caused.
    fn push_frame(&mut self, frame: &AudioFrame) -> Vec<VadEvent>;
    /// Hard segment boundary: resets speech/silence state (no EOS is emitted).
    fn flush(&mut self);
    /// `duration` of silence went by without being pushed (a caller that creates the stream
    /// only at the first sound skips the silence before it): stream time moves on, so event
    /// timestamps stay in stream time. The default ignores it (timestamps then count from
    /// the first pushed frame).
    fn skip_silence(&mut self, duration: std::time::Duration) {
        let _ = duration;
    }
}

/// VAD tuning, defaults as the reference's `inference.VAD`.
#[derive(Clone, Debug, PartialEq)]
pub struct VadOptions {
    /// Speech needed before StartOfSpeech (0.05 s).
    pub min_speech: Duration,
    /// Silence needed before EndOfSpeech (0.25 s; a pipeline in VAD mode may use 0.5).
    pub min_silence: Duration,
    /// Audio kept before the detected start of speech (0.5 s).
    pub prefix_padding: Duration,
    /// Probability at which a window counts as speech (0.5).
    pub activation_threshold: f32,
    /// While speaking, probability above which a window still counts as speech (0.35).
    pub deactivation_threshold: f32,
    /// Cap on buffered speech per utterance (60 s).
    pub max_buffered_speech: Duration,
}

impl Default for VadOptions {
    fn default() -> Self {
        Self {
            min_speech: Duration::from_millis(50),
            min_silence: Duration::from_millis(250),
            prefix_padding: Duration::from_millis(500),
            activation_threshold: 0.5,
            deactivation_threshold: 0.35,
            max_buffered_speech: Duration::from_secs(60),
        }
    }
}
