//! Streaming sample-rate conversion on top of `rubato`, plus a mono downmix.
//!
//! The default quality uses rubato's synchronous FFT resampler (`FftFixedIn`). Voice
//! rates (8, 16, 24, 44.1, 48 kHz) are fixed rational ratios, which is exactly what it
//! is built for: it gives a sinc-like anti-aliasing low-pass (needed when going down
//! from 44.1/48 kHz to the 16 kHz a VAD or STT wants) at a fraction of the CPU of an
//! asynchronous sinc interpolator. [`ResampleQuality::Fast`] uses the cubic polynomial
//! `FastFixedIn` instead: cheapest, but without an anti-alias filter, so only for
//! upsampling or when aliasing does not matter.
//!
//! The resampler keeps its state across frames, trims rubato's fixed output delay so
//! output is aligned with input, and [`Resampler::flush`] returns the tail so that the
//! total output length is `round(input_len * to / from)`.

use rubato::{FastFixedIn, FftFixedIn, PolynomialDegree, VecResampler};

use super::frame::{check_format, AudioFrame};
use crate::error::AudioError;

/// Resampling algorithm choice.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ResampleQuality {
    /// Synchronous FFT resampler: band-limited, good for downsampling. Default.
    #[default]
    Fft,
    /// Cubic polynomial interpolation: cheapest, no anti-alias filter.
    Fast,
}

/// A streaming resampler for interleaved 16-bit frames of one format.
pub struct Resampler {
    from_rate: u32,
    to_rate: u32,
    channels: u16,
    quality: ResampleQuality,
    inner: Option<Box<dyn VecResampler<f32>>>,
    pending: Vec<Vec<f32>>,
    out_buf: Vec<Vec<f32>>,
    to_trim: usize,
    total_in: u64,
    total_out: u64,
}

impl std::fmt::Debug for Resampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resampler")
            .field("from_rate", &self.from_rate)
            .field("to_rate", &self.to_rate)
            .field("channels", &self.channels)
            .finish_non_exhaustive()
    }
}

impl Resampler {
    /// Creates a resampler from `from_rate` to `to_rate` for `channels` interleaved
    /// channels, with the default quality ([`ResampleQuality::Fft`]).
    pub fn new(from_rate: u32, to_rate: u32, channels: u16) -> Result<Self, AudioError> {
        Self::with_quality(from_rate, to_rate, channels, ResampleQuality::default())
    }

    /// Creates a resampler with an explicit algorithm.
    pub fn with_quality(
        from_rate: u32,
        to_rate: u32,
        channels: u16,
        quality: ResampleQuality,
    ) -> Result<Self, AudioError> {
        check_format(from_rate, channels)?;
        check_format(to_rate, channels)?;
        let ch = channels as usize;
        let inner = build_inner(from_rate, to_rate, channels, quality)?;
        let (to_trim, out_buf) = match &inner {
            Some(r) => (
                delay_of(r.as_ref(), quality),
                r.output_buffer_allocate(true),
            ),
            None => (0, Vec::new()),
        };
        Ok(Self {
            from_rate,
            to_rate,
            channels,
            quality,
            inner,
            pending: vec![Vec::new(); ch],
            out_buf,
            to_trim,
            total_in: 0,
            total_out: 0,
        })
    }

    /// Input rate.
    pub fn from_rate(&self) -> u32 {
        self.from_rate
    }

    /// Output rate.
    pub fn to_rate(&self) -> u32 {
        self.to_rate
    }

    /// Resamples one frame. Output may be shorter or longer than `len * ratio` for a
    /// single call (the filter holds a few ms); over a stream plus [`flush`](Self::flush)
    /// it adds up. A frame with another rate or channel count is refused.
    pub fn process(&mut self, frame: &AudioFrame) -> Result<AudioFrame, AudioError> {
        if frame.sample_rate != self.from_rate || frame.channels != self.channels {
            return Err(AudioError::FormatMismatch {
                expected_rate: self.from_rate,
                expected_channels: self.channels,
                rate: frame.sample_rate,
                channels: frame.channels,
            });
        }
        if self.inner.is_none() {
            return Ok(frame.clone());
        }
        let ch = self.channels as usize;
        for (i, s) in frame.samples.iter().enumerate() {
            self.pending[i % ch].push(f32::from(*s) / 32768.0);
        }
        self.total_in += frame.samples_per_channel() as u64;
        let mut out: Vec<Vec<f32>> = vec![Vec::new(); ch];
        self.drain_full_chunks(&mut out)?;
        Ok(self.emit(out, None))
    }

    /// Returns the remaining buffered audio (zero-padded through the filter) and resets
    /// the stream position, so the resampler can be reused for a new stream.
    pub fn flush(&mut self) -> AudioFrame {
        let ch = self.channels as usize;
        let mut out: Vec<Vec<f32>> = vec![Vec::new(); ch];
        let expected = (self.total_in as f64 * f64::from(self.to_rate) / f64::from(self.from_rate))
            .round() as u64;
        if let Some(inner) = self.inner.as_mut() {
            // Feed silence until the filter has produced all output owed for the input.
            let mut guard = 0;
            while self.total_out + (out[0].len() as u64) < expected + self.to_trim as u64
                && guard < 64
            {
                guard += 1;
                let need = inner.input_frames_next();
                for p in self.pending.iter_mut() {
                    p.resize(need.max(p.len()), 0.0);
                }
                let input: Vec<Vec<f32>> = self
                    .pending
                    .iter_mut()
                    .map(|p| p.drain(..need).collect())
                    .collect();
                match inner.process_into_buffer(&input, &mut self.out_buf, None) {
                    Ok((_, produced)) => {
                        for (o, b) in out.iter_mut().zip(self.out_buf.iter()) {
                            o.extend_from_slice(&b[..produced]);
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "resampler flush failed");
                        break;
                    }
                }
            }
        }
        let frame = self.emit(out, Some(expected));
        // Rebuild rather than reset: the object-safe rubato trait has no `reset`.
        // Construction cannot fail here: the same parameters succeeded in `with_quality`.
        if let Ok(inner) = build_inner(self.from_rate, self.to_rate, self.channels, self.quality) {
            self.to_trim = inner
                .as_ref()
                .map_or(0, |r| delay_of(r.as_ref(), self.quality));
            self.inner = inner;
        }
        for p in self.pending.iter_mut() {
            p.clear();
        }
        self.total_in = 0;
        self.total_out = 0;
        frame
    }

    fn drain_full_chunks(&mut self, out: &mut [Vec<f32>]) -> Result<(), AudioError> {
        let Some(inner) = self.inner.as_mut() else {
            return Ok(());
        };
        loop {
            let need = inner.input_frames_next();
            if self.pending[0].len() < need {
                return Ok(());
            }
            let input: Vec<Vec<f32>> = self
                .pending
                .iter_mut()
                .map(|p| p.drain(..need).collect())
                .collect();
            let (_, produced) = inner
                .process_into_buffer(&input, &mut self.out_buf, None)
                .map_err(|e| AudioError::Resample(e.to_string()))?;
            for (o, b) in out.iter_mut().zip(self.out_buf.iter()) {
                o.extend_from_slice(&b[..produced]);
            }
        }
    }

    /// Trims the filter delay, caps at `limit` total frames, interleaves, converts to i16.
    fn emit(&mut self, mut out: Vec<Vec<f32>>, limit: Option<u64>) -> AudioFrame {
        let trim = self.to_trim.min(out[0].len());
        if trim > 0 {
            for o in out.iter_mut() {
                o.drain(..trim);
            }
            self.to_trim -= trim;
        }
        let mut n = out[0].len();
        if let Some(limit) = limit {
            n = n.min(limit.saturating_sub(self.total_out) as usize);
        }
        self.total_out += n as u64;
        let ch = self.channels as usize;
        let mut samples = Vec::with_capacity(n * ch);
        for i in 0..n {
            for o in &out {
                samples.push((o[i] * 32768.0).round().clamp(-32768.0, 32767.0) as i16);
            }
        }
        AudioFrame {
            samples,
            sample_rate: self.to_rate,
            channels: self.channels,
        }
    }
}

/// Output frames to drop so output lines up with input. rubato's cubic `FastFixedIn`
/// reports one frame more than its measured delay (checked against a sine in the tests).
fn delay_of(r: &dyn VecResampler<f32>, quality: ResampleQuality) -> usize {
    match quality {
        ResampleQuality::Fft => r.output_delay(),
        ResampleQuality::Fast => r.output_delay().saturating_sub(1),
    }
}

fn build_inner(
    from_rate: u32,
    to_rate: u32,
    channels: u16,
    quality: ResampleQuality,
) -> Result<Option<Box<dyn VecResampler<f32>>>, AudioError> {
    if from_rate == to_rate {
        return Ok(None);
    }
    let ch = channels as usize;
    // 10 ms of input per chunk keeps latency low and chunks reasonably sized.
    let chunk = (from_rate as usize / 100).max(1);
    let inner: Box<dyn VecResampler<f32>> = match quality {
        ResampleQuality::Fft => Box::new(
            FftFixedIn::<f32>::new(from_rate as usize, to_rate as usize, chunk, 1, ch)
                .map_err(|e| AudioError::Resample(e.to_string()))?,
        ),
        ResampleQuality::Fast => Box::new(
            FastFixedIn::<f32>::new(
                f64::from(to_rate) / f64::from(from_rate),
                1.0,
                PolynomialDegree::Cubic,
                chunk,
                ch,
            )
            .map_err(|e| AudioError::Resample(e.to_string()))?,
        ),
    };
    Ok(Some(inner))
}

/// Mixes all channels down to one by averaging; a mono frame is returned as is.
pub fn to_mono(frame: &AudioFrame) -> AudioFrame {
    let ch = frame.channels.max(1) as usize;
    if ch == 1 {
        return frame.clone();
    }
    let samples = frame
        .samples
        .chunks_exact(ch)
        .map(|c| (c.iter().map(|&s| i32::from(s)).sum::<i32>() / ch as i32) as i16)
        .collect();
    AudioFrame {
        samples,
        sample_rate: frame.sample_rate,
        channels: 1,
    }
}
