//! Voice for agents: audio frames and resampling, WAV, voice activity detection,
//! speech-to-text and text-to-speech providers, and the voice pipeline that connects
//! them to an `agents_core` session.
//!
//! Providers are reached through narrow traits ([`stt::Stt`], [`tts::Tts`], [`vad::Vad`])
//! so transports (SIP, web, files) and tests can swap them freely.

pub mod audio;
pub mod config;
pub mod error;
pub mod file_mode;
pub mod io;
pub mod metrics;
pub mod pipeline;
pub mod retry;
pub mod stt;
pub mod testing;
pub mod text;
pub mod tts;
pub mod vad;
mod ws;

pub use audio::AudioFrame;
pub use error::{AudioError, VoiceError, VoiceResult};
