//! [`AudioFrame`]: interleaved signed 16-bit PCM with its rate and channel count.

use std::time::Duration;

use crate::error::AudioError;

/// A block of interleaved signed 16-bit PCM audio.
///
/// Fields are public for cheap access; use [`AudioFrame::new`] to build one from
/// untrusted input so the invariants (rate > 0, channels > 0, whole sample frames)
/// are checked.
#[derive(Clone, Debug, PartialEq)]
pub struct AudioFrame {
    /// Interleaved samples (`samples_per_channel * channels` values).
    pub samples: Vec<i16>,
    /// Samples per second per channel.
    pub sample_rate: u32,
    /// Number of interleaved channels.
    pub channels: u16,
}

impl AudioFrame {
    /// Builds a frame, checking rate > 0, channels > 0 and `len % channels == 0`.
    pub fn new(samples: Vec<i16>, sample_rate: u32, channels: u16) -> Result<Self, AudioError> {
        check_format(sample_rate, channels)?;
        if !samples.len().is_multiple_of(channels as usize) {
            return Err(AudioError::UnevenChannels {
                len: samples.len(),
                channels,
            });
        }
        Ok(Self {
            samples,
            sample_rate,
            channels,
        })
    }

    /// A frame of digital silence lasting `duration` (rounded down to whole samples).
    /// A zero rate or channel count is treated as 1 so this never panics.
    pub fn silence(sample_rate: u32, channels: u16, duration: Duration) -> Self {
        let sample_rate = sample_rate.max(1);
        let channels = channels.max(1);
        let per_channel = (duration.as_secs_f64() * f64::from(sample_rate)).floor() as usize;
        Self {
            samples: vec![0; per_channel * channels as usize],
            sample_rate,
            channels,
        }
    }

    /// Decodes little-endian 16-bit PCM bytes. An odd byte count is an error.
    pub fn from_s16le(bytes: &[u8], sample_rate: u32, channels: u16) -> Result<Self, AudioError> {
        if !bytes.len().is_multiple_of(2) {
            return Err(AudioError::OddByteCount(bytes.len()));
        }
        let samples = bytes
            .chunks_exact(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]))
            .collect();
        Self::new(samples, sample_rate, channels)
    }

    /// Encodes the samples as little-endian 16-bit PCM bytes.
    pub fn to_s16le(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.samples.len() * 2);
        for s in &self.samples {
            out.extend_from_slice(&s.to_le_bytes());
        }
        out
    }

    /// Number of sample frames (samples per channel).
    pub fn samples_per_channel(&self) -> usize {
        self.samples.len() / self.channels.max(1) as usize
    }

    /// Play time of the frame.
    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(
            self.samples_per_channel() as f64 / f64::from(self.sample_rate.max(1)),
        )
    }

    /// Whether the frame holds no samples.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Concatenates frames of one format into a single frame. Mixed formats are refused;
    /// an empty slice gives an empty frame at `sample_rate`/`channels`.
    pub fn concat(
        frames: &[AudioFrame],
        sample_rate: u32,
        channels: u16,
    ) -> Result<Self, AudioError> {
        check_format(sample_rate, channels)?;
        let mut samples = Vec::with_capacity(frames.iter().map(|f| f.samples.len()).sum());
        for f in frames {
            if f.sample_rate != sample_rate || f.channels != channels {
                return Err(AudioError::FormatMismatch {
                    expected_rate: sample_rate,
                    expected_channels: channels,
                    rate: f.sample_rate,
                    channels: f.channels,
                });
            }
            samples.extend_from_slice(&f.samples);
        }
        Self::new(samples, sample_rate, channels)
    }
}

/// Checks that a rate and channel count are usable.
pub(crate) fn check_format(sample_rate: u32, channels: u16) -> Result<(), AudioError> {
    if sample_rate == 0 {
        return Err(AudioError::InvalidSampleRate(sample_rate));
    }
    if channels == 0 {
        return Err(AudioError::InvalidChannels(channels));
    }
    Ok(())
}
