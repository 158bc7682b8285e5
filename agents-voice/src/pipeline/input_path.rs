//! The audio input path: mono downmix, resampling to the VAD's rate, and VAD inference.
//! Public so benchmarks can measure its cost without a session.

use crate::audio::{to_mono, AudioFrame, Resampler};
use crate::error::VoiceResult;
use crate::vad::{Vad, VadEvent, VadStream};

/// Turns user frames (any rate/channels) into VAD events and STT-ready frames.
pub struct InputPath {
    vad: Box<dyn VadStream>,
    rate: u32,
    resampler: Option<Resampler>,
}

impl InputPath {
    /// A path feeding a new stream of `vad`.
    pub fn new(vad: &dyn Vad) -> Self {
        InputPath {
            vad: vad.stream(),
            rate: vad.sample_rate(),
            resampler: None,
        }
    }

    /// The rate of the frames [`push`](Self::push) returns (the VAD's).
    pub fn sample_rate(&self) -> u32 {
        self.rate
    }

    /// Processes one frame: the frame as mono at the VAD's rate (for the STT) and the VAD
    /// events it caused. A frame with an unusable format is refused with an error.
    pub fn push(&mut self, frame: &AudioFrame) -> VoiceResult<(AudioFrame, Vec<VadEvent>)> {
        let mono;
        let frame = if frame.channels == 1 {
            frame
        } else {
            mono = to_mono(frame);
            &mono
        };
        let converted;
        let frame = if frame.sample_rate == self.rate {
            frame
        } else {
            if self
                .resampler
                .as_ref()
                .is_none_or(|r| r.from_rate() != frame.sample_rate)
            {
                self.resampler = Some(Resampler::new(frame.sample_rate, self.rate, 1)?);
            }
            converted = self.resampler.as_mut().expect("set above").process(frame)?;
            &converted
        };
        let events = self.vad.push_frame(frame);
        Ok((frame.clone(), events))
    }
}
