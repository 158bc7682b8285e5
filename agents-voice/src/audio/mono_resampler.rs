//! [`MonoResampler`]: mono downmix plus conversion to one fixed rate, the step every
//! consumer of "audio in any format" (VAD, STT wire encoders, TTS output, playout) needs.
//!
//! The inner converter is built lazily, at the first frame whose rate differs from the
//! target, and rebuilt when the input rate changes; a frame already mono at the target
//! rate passes through without a copy (borrowed, or moved when owned). Doubling the rate
//! (8 → 16 kHz: a phone call into a VAD or STT) uses the cheap [`Upsampler2x`]; any other
//! ratio a [`Resampler`].

use std::borrow::Cow;

use super::frame::{check_format, AudioFrame};
use super::resample::{to_mono, Resampler};
use super::upsample2x::Upsampler2x;
use crate::error::AudioError;

/// Converts frames of any rate and channel count to mono at `target_rate`.
#[derive(Debug)]
pub struct MonoResampler {
    target_rate: u32,
    resampler: Option<Converter>,
}

/// The conversion from one input rate.
#[derive(Debug)]
enum Converter {
    /// Exactly twice the rate: a half-band interpolator, from `from` Hz.
    Double { from: u32, up: Upsampler2x },
    /// Any other ratio.
    General(Resampler),
}

impl Converter {
    fn new(from: u32, to: u32) -> Result<Self, AudioError> {
        if from.checked_mul(2) == Some(to) {
            Ok(Converter::Double {
                from,
                up: Upsampler2x::new(),
            })
        } else {
            Resampler::new(from, to, 1).map(Converter::General)
        }
    }

    fn input_rate(&self) -> u32 {
        match self {
            Converter::Double { from, .. } => *from,
            Converter::General(r) => r.from_rate(),
        }
    }

    fn process(&mut self, mono: &AudioFrame, to: u32) -> Result<AudioFrame, AudioError> {
        match self {
            Converter::Double { up, .. } => {
                let mut out = Vec::with_capacity(2 * mono.samples.len());
                up.process(&mono.samples, &mut out);
                AudioFrame::new(out, to, 1)
            }
            Converter::General(r) => r.process(mono),
        }
    }

    fn flush(&mut self, to: u32) -> AudioFrame {
        match self {
            Converter::Double { up, .. } => AudioFrame {
                samples: up.flush(),
                sample_rate: to,
                channels: 1,
            },
            Converter::General(r) => r.flush(),
        }
    }
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
        let to = self.target_rate;
        self.resampler.as_mut().map(|c| c.flush(to))
    }

    fn convert<'a>(
        &mut self,
        frame: Cow<'a, AudioFrame>,
    ) -> Result<Cow<'a, AudioFrame>, AudioError> {
        check_format(frame.sample_rate, frame.channels)?;
        let mono = if frame.channels == 1 {
            frame
        } else {
            Cow::Owned(to_mono(&frame))
        };
        if mono.sample_rate == self.target_rate {
            return Ok(mono);
        }
        let converter = match &mut self.resampler {
            Some(c) if c.input_rate() == mono.sample_rate => c,
            slot => slot.insert(Converter::new(mono.sample_rate, self.target_rate)?),
        };
        Ok(Cow::Owned(converter.process(&mono, self.target_rate)?))
    }
}
