//! Speech-to-text: streaming events, the [`Stt`] (streaming) and [`BatchStt`]
//! (one request per utterance) traits, and providers.

use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::mpsc;

use crate::audio::AudioFrame;
use crate::error::VoiceResult;

/// Kind of a [`SpeechEvent`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpeechEventKind {
    /// The user started speaking.
    StartOfSpeech,
    /// A partial transcript that may still change.
    InterimTranscript,
    /// A final transcript of a stretch of speech.
    FinalTranscript,
    /// The user stopped speaking.
    EndOfSpeech,
}

/// One recognition hypothesis.
#[derive(Clone, Debug, Default)]
pub struct SpeechData {
    /// Recognised text.
    pub text: String,
    /// Language code, when the provider reports one.
    pub language: Option<String>,
    /// Confidence in `[0, 1]` (0 when unknown).
    pub confidence: f32,
    /// Start of the recognised audio, stream time.
    pub start_time: Duration,
    /// End of the recognised audio, stream time.
    pub end_time: Duration,
}

/// An event of an [`SttStream`].
#[derive(Clone, Debug)]
pub struct SpeechEvent {
    /// What happened.
    pub kind: SpeechEventKind,
    /// Hypotheses, best first (empty for start/end of speech).
    pub alternatives: Vec<SpeechData>,
    /// For end of speech: when speech really ended (stream time, back-dated by the VAD's silence).
    pub speech_end_time: Option<Duration>,
}

impl SpeechEvent {
    /// Text of the first alternative, or `""`.
    pub fn text(&self) -> &str {
        self.alternatives
            .first()
            .map(|a| a.text.as_str())
            .unwrap_or("")
    }

    /// An event without alternatives.
    pub fn bare(kind: SpeechEventKind) -> Self {
        Self {
            kind,
            alternatives: Vec::new(),
            speech_end_time: None,
        }
    }
}

/// What an STT can do.
#[derive(Clone, Copy, Debug, Default)]
pub struct SttCapabilities {
    /// Native streaming (no VAD needed).
    pub streaming: bool,
    /// Emits interim transcripts.
    pub interim_results: bool,
}

/// Input to an [`SttStream`].
#[derive(Clone, Debug)]
pub enum SttInput {
    /// Audio, in real time order (one format per stream).
    Audio(AudioFrame),
    /// Finalise what was heard so far (segment boundary).
    Flush,
    /// No more input: finish and close the event channel.
    EndInput,
}

/// A running recognition: send audio in, read events out. Dropping `input` ends it.
pub struct SttStream {
    /// Audio and control input.
    pub input: mpsc::Sender<SttInput>,
    /// Events, or an error after which the stream ends.
    pub events: mpsc::Receiver<VoiceResult<SpeechEvent>>,
}

/// A streaming speech recogniser.
pub trait Stt: Send + Sync + 'static {
    /// What it supports.
    fn capabilities(&self) -> SttCapabilities;
    /// Starts a stream (spawns its own tokio task; call inside a runtime).
    fn stream(&self) -> VoiceResult<SttStream>;
    /// Short name for metrics and errors.
    fn label(&self) -> &str;
}

/// A recogniser that takes one whole utterance per request.
pub trait BatchStt: Send + Sync + 'static {
    /// Recognises one utterance.
    fn recognize(&self, audio: AudioFrame) -> BoxFuture<'static, VoiceResult<SpeechData>>;
    /// Short name for metrics and errors.
    fn label(&self) -> &str;
}

/// Channel capacity used by STT streams.
pub(crate) const STREAM_CAPACITY: usize = 256;

mod adapter;
pub mod deepgram;
pub mod openai;

pub use adapter::SttStreamAdapter;
pub use deepgram::{DeepgramEncoding, DeepgramOptions, DeepgramStt};
pub use openai::{OpenAiStt, OpenAiSttOptions};
