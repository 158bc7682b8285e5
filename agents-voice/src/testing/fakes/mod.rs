//! Fakes for voice tests on tokio's paused clock: a scripted [`Timeline`] of what the user
//! says and when, and a VAD, STT, audio input, TTS and LLM wrapper that follow it with the
//! reference's fake timings. With `#[tokio::test(start_paused = true)]` a minute-long call
//! runs in milliseconds and every timing is exact.

mod input;
mod llm;
mod stt;
mod timeline;
mod tts;
mod vad;

pub use input::timeline_input;
pub use llm::DelayedLlm;
pub use stt::FakeStt;
pub use timeline::{Timeline, Utterance};
pub use tts::FakeTts;
pub use vad::FakeVad;
