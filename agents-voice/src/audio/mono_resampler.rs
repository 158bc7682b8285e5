//! [`MonoResampler`]: mono downmix plus conversion to one fixed rate, the step every
//! consumer of "audio in any format" (VAD, STT wire encoders, TTS output, playout) needs.
//!
//! The inner [`Resampler`] is built lazily, at the first frame whose rate differs from
//! the target, and rebuilt when the input rate changes; a frame already mono at the
//! target rate passes through without a copy (borrowed, or moved when owned).

use std::borrow::Cow;

use super::frame::AudioFrame;
use super::resample::{to_mono, Resampler};
use crate::error::AudioError;

/// Converts frames of any rate and channel count to mono at `target_rate`.
#[derive(Debug)]
pub struct MonoResampler {
    target_rate: u32,
    resampler: Option<Resampler>,
}

impl MonoResampler {
    /// A converter to mono at `target_rate`; no resampler exists until one is needed.
    pub fn new(target_rate: u32) -> Self {
        Self {
            target_rate,
            resampler: None,
        }
    }

    /// The rate of the frames this converter returns.
    pub fn target_rate(&self) -> u32 {
        self.target_rate
    }

    /// Converts a borrowed frame: borrowed back when it is already mono at the target
    /// rate, so the common case copies nothing. A frame the resampler cannot take (zero
    /// rate or channels) is refused with an error.
    pub fn process<'a>(
        &mut self,
        frame: &'a AudioFrame,
    ) -> Result<Cow<'a, AudioFrame>, AudioError> {
        self.convert(Cow::Borrowed(frame))
    }

    /// Converts an owned frame: moved through when it is already mono at the target rate.
    pub fn process_owned(&mut self, frame: AudioFrame) -> Result<AudioFrame, AudioError> {
        self.convert(Cow::Owned(frame)).map(Cow::into_owned)
    }

    /// The audio still held in the resampler's filter (see [`Resampler::flush`]), or
    /// `None` when no resampler exists (nothing was resampled, nothing is held).
    pub fn flush(&mut self) -> Option<AudioFrame> {
        self.resampler.as_mut().map(Resampler::flush)
    }

    fn convert<'a>(
        &mut self,
        frame: Cow<'a, AudioFrame>,
    ) -> Result<Cow<'a, AudioFrame>, AudioError> {
        let mono = if frame.channels == 1 {
            frame
        } else {
            Cow::Owned(to_mono(&frame))
        };
        if mono.sample_rate == self.target_rate {
            return Ok(mono);
        }
        let resampler = match &mut self.resampler {
            Some(r) if r.from_rate() == mono.sample_rate => r,
            slot => slot.insert(Resampler::new(mono.sample_rate, self.target_rate, 1)?),
        };
        Ok(Cow::Owned(resampler.process(&mono)?))
    }
}
