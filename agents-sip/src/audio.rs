//! The audio types a call exchanges with the voice pipeline: the voice crate's own
//! `AudioFrame`, `InputEvent` and `PlaybackFinished` (a call's input and output plug straight
//! into the pipeline), plus a constructor for the call's format.

pub use agents_voice::io::{AudioInput, AudioOutput, InputEvent, PlaybackFinished};
pub use agents_voice::AudioFrame;

/// Sample rate of call audio (G.711).
pub const CALL_RATE: u32 = 8000;

/// A frame of mono audio at the call's rate.
pub fn mono_8k(samples: Vec<i16>) -> AudioFrame {
    AudioFrame {
        samples,
        sample_rate: CALL_RATE,
        channels: 1,
    }
}
