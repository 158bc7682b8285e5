//! Audio primitives: frames, resampling, mono downmix and WAV I/O.

pub mod frame;
pub mod mono_resampler;
pub mod resample;
pub mod upsample2x;
pub mod wav;

pub use frame::AudioFrame;
pub use mono_resampler::MonoResampler;
pub use resample::{to_mono, ResampleQuality, Resampler};
pub use upsample2x::Upsampler2x;
pub use wav::{read_wav, read_wav_from, wav_from_bytes, wav_to_bytes, write_wav, write_wav_to};
