//! Text-to-speech: the streaming [`Tts`] and whole-text [`BatchTts`] traits, and providers.

use futures::stream::BoxStream;
use tokio::sync::mpsc;

use crate::audio::AudioFrame;
use crate::error::VoiceResult;

/// A piece of synthesized audio.
#[derive(Clone, Debug)]
pub struct SynthesizedAudio {
    /// The audio.
    pub frame: AudioFrame,
    /// Segment it belongs to (incremented at every [`TtsInput::Flush`]).
    pub segment_id: u64,
    /// Last audio of its segment.
    pub is_final: bool,
    /// Text newly covered by this audio, when known.
    pub delta_text: String,
}

/// Input to a [`TtsStream`].
#[derive(Clone, Debug)]
pub enum TtsInput {
    /// More text (any chunking, e.g. LLM tokens).
    Text(String),
    /// Segment boundary: speak what was sent so far.
    Flush,
    /// No more text: finish and close the output channel.
    EndInput,
}

/// A running synthesis: send text in, read audio out. Dropping `output` cancels it.
pub struct TtsStream {
    /// Text and control input.
    pub input: mpsc::Sender<TtsInput>,
    /// Audio, or an error after which the stream ends.
    pub output: mpsc::Receiver<VoiceResult<SynthesizedAudio>>,
}

/// A streaming speech synthesiser.
pub trait Tts: Send + Sync + 'static {
    /// Output rate.
    fn sample_rate(&self) -> u32;
    /// Output channels.
    fn channels(&self) -> u16 {
        1
    }
    /// Starts a stream (spawns its own tokio task; call inside a runtime).
    fn stream(&self) -> VoiceResult<TtsStream>;
    /// Short name for metrics and errors.
    fn label(&self) -> &str;
}

/// A synthesiser that takes a whole text per request and streams its audio.
pub trait BatchTts: Send + Sync + 'static {
    /// Output rate.
    fn sample_rate(&self) -> u32;
    /// Synthesizes `text`; audio is streamed as it arrives.
    fn synthesize(&self, text: String) -> BoxStream<'static, VoiceResult<AudioFrame>>;
    /// Short name for metrics and errors.
    fn label(&self) -> &str;
}

/// Channel capacity used by TTS streams.
pub(crate) const STREAM_CAPACITY: usize = 256;

mod adapter;
pub mod cartesia;
pub(crate) mod emitter;
pub mod openai;
pub mod wav_stream;

pub use adapter::SentenceTtsAdapter;
pub use cartesia::{CartesiaOptions, CartesiaTts};
pub use openai::{OpenAiTts, OpenAiTtsFormat, OpenAiTtsOptions};
