//! Streaming 2× upsampling of mono 16-bit audio (8 → 16 kHz, the telephone-to-VAD/STT step)
//! with a half-band FIR interpolator.
//!
//! Every other output sample is an input sample; the ones between are a windowed-sinc
//! interpolation of the [`TAPS`] input samples on each side. That is a few multiply-adds per
//! sample with no block buffering, cheaper than a general resampler for the one ratio a phone
//! call needs. For 8 kHz input the telephone band (≤ 3.4 kHz) passes within 0.02 dB and its
//! images (≥ 4.6 kHz) are at least 55 dB down. Output is aligned with input (the filter's
//! delay, 2 ms at 8 kHz, is trimmed at the start and returned by [`Upsampler2x::flush`]), so a
//! stream of `n` samples plus the flush gives exactly `2n`.

/// Input samples used on each side of an interpolated sample.
pub const TAPS: usize = 16;

/// Fractional bits of the fixed-point coefficients. Q14 keeps the worst-case sum (the
/// coefficients' absolute sum, ≈ 1.18 a side, times two full-scale samples) inside an `i32`,
/// and integer sums let the compiler vectorise the filter.
const FRACTION_BITS: u32 = 14;

/// Upsamples a mono stream by two.
#[derive(Debug, Clone)]
pub struct Upsampler2x {
    /// Coefficients for the samples after the interpolated point, nearest first.
    after: [i32; TAPS],
    /// The same, reversed: for the samples before it, oldest first.
    before: [i32; TAPS],
    /// The last `2 * TAPS - 1` input samples (zeros before the stream).
    history: Vec<i32>,
    /// Output samples still to drop at the start (the filter's delay).
    to_trim: usize,
}

impl Default for Upsampler2x {
    fn default() -> Self {
        Self::new()
    }
}

impl Upsampler2x {
    /// A fresh stream.
    pub fn new() -> Self {
        let scale = f64::from(1u32 << FRACTION_BITS);
        let after = half_band().map(|c| (c * scale).round() as i32);
        let mut before = after;
        before.reverse();
        Upsampler2x {
            after,
            before,
            history: vec![0; 2 * TAPS - 1],
            to_trim: 2 * TAPS,
        }
    }

    /// Appends the upsampled form of `input` to `out`: `2 * input.len()` samples once the
    /// stream is past its first `TAPS` input samples (the filter's delay).
    pub fn process(&mut self, input: &[i16], out: &mut Vec<i16>) {
        let h = &mut self.history;
        h.extend(input.iter().map(|&s| i32::from(s)));
        let first = out.len();
        // Sample `i` and the point halfway to `i + 1` need `TAPS - 1` samples before `i`
        // and `TAPS` after it.
        let end = h.len() - TAPS;
        out.reserve(2 * (end - (TAPS - 1)));
        let round = 1 << (FRACTION_BITS - 1);
        for i in (TAPS - 1)..end {
            let before = &h[i + 1 - TAPS..=i];
            let after = &h[i + 1..=i + TAPS];
            let mut acc = round;
            for k in 0..TAPS {
                acc += self.before[k] * before[k] + self.after[k] * after[k];
            }
            out.push(h[i] as i16);
            out.push((acc >> FRACTION_BITS).clamp(-32768, 32767) as i16);
        }
        let trim = self.to_trim.min(out.len() - first);
        out.drain(first..first + trim);
        self.to_trim -= trim;
        h.drain(..h.len() - (2 * TAPS - 1));
    }

    /// Returns the samples the filter still holds and starts a new stream.
    pub fn flush(&mut self) -> Vec<i16> {
        let mut out = Vec::new();
        self.process(&[0; TAPS], &mut out);
        *self = Self::new();
        out
    }
}

/// The interpolation filter: sinc at the half-sample offsets, Blackman-windowed, scaled so
/// a constant input stays constant.
fn half_band() -> [f64; TAPS] {
    let mut c = [0.0f64; TAPS];
    let span = TAPS as f64;
    for (k, slot) in c.iter_mut().enumerate() {
        let x = k as f64 + 0.5;
        let sinc = (std::f64::consts::PI * x).sin() / (std::f64::consts::PI * x);
        // Blackman window over [-span, span].
        let t = std::f64::consts::PI * (x / span + 1.0);
        let window = 0.42 - 0.5 * t.cos() + 0.08 * (2.0 * t).cos();
        *slot = sinc * window;
    }
    let sum: f64 = c.iter().sum::<f64>() * 2.0;
    for slot in &mut c {
        *slot /= sum;
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upsample_in_frames(input: &[i16], frame: usize) -> Vec<i16> {
        let mut up = Upsampler2x::new();
        let mut out = Vec::new();
        for chunk in input.chunks(frame) {
            up.process(chunk, &mut out);
        }
        out.extend(up.flush());
        out
    }

    #[test]
    fn length_is_exactly_double_and_framing_does_not_matter() {
        let input: Vec<i16> = (0..1000).map(|i| ((i * 37) % 2000 - 1000) as i16).collect();
        let whole = upsample_in_frames(&input, 1000);
        assert_eq!(whole.len(), 2000);
        for frame in [1, 7, 160, 333] {
            assert_eq!(
                upsample_in_frames(&input, frame),
                whole,
                "frames of {frame}"
            );
        }
        // Short streams too, down to nothing.
        for n in [0, 1, 3, TAPS, 2 * TAPS] {
            assert_eq!(upsample_in_frames(&input[..n], 160).len(), 2 * n);
        }
    }

    #[test]
    fn input_samples_are_kept_and_aligned() {
        let input: Vec<i16> = (0..400)
            .map(|i| (8000.0 * (i as f64 * 0.05).sin()) as i16)
            .collect();
        let out = upsample_in_frames(&input, 160);
        for (i, s) in input.iter().enumerate() {
            assert_eq!(out[2 * i], *s, "even output {i} is input {i}");
        }
    }

    #[test]
    fn a_tone_is_interpolated_closely_and_dc_is_kept() {
        // 440 Hz at 8 kHz: the odd outputs should sit on the 16 kHz sine.
        let input: Vec<i16> = (0..800)
            .map(|i| {
                (10_000.0 * (2.0 * std::f64::consts::PI * 440.0 * i as f64 / 8000.0).sin()) as i16
            })
            .collect();
        let out = upsample_in_frames(&input, 160);
        let worst = (40..1560)
            .map(|j| {
                let ideal =
                    10_000.0 * (2.0 * std::f64::consts::PI * 440.0 * j as f64 / 16000.0).sin();
                (f64::from(out[j]) - ideal).abs()
            })
            .fold(0.0, f64::max);
        assert!(worst < 60.0, "largest error {worst} (of 10000)");
        let dc = upsample_in_frames(&[1234; 300], 160);
        assert!(dc[40..560].iter().all(|&s| (s - 1234).abs() <= 1), "{dc:?}");
    }

    #[test]
    fn the_worst_case_input_does_not_overflow_and_saturates() {
        // Full-scale samples with the signs of the coefficients they meet: the largest sum
        // the filter can form (overflow would panic in this debug build).
        let up = Upsampler2x::new();
        let sign = |c: i32| if c < 0 { i16::MIN } else { i16::MAX };
        let mut worst: Vec<i16> = up.before.iter().map(|&c| sign(c)).collect();
        worst.extend(up.after.iter().map(|&c| sign(c)));
        for negate in [false, true] {
            let input: Vec<i16> = worst
                .iter()
                .map(|&s| if negate { s.saturating_neg() } else { s })
                .collect();
            let out = upsample_in_frames(&input, 7);
            assert_eq!(out.len(), 2 * input.len());
            assert!(out.contains(&if negate { i16::MIN } else { i16::MAX }));
        }
    }

    /// Amplitude of the `freq` Hz component of `x` (sampled at `rate`).
    fn amplitude(x: &[i16], freq: f64, rate: f64) -> f64 {
        let (mut re, mut im) = (0.0, 0.0);
        for (n, s) in x.iter().enumerate() {
            let w = 2.0 * std::f64::consts::PI * freq * n as f64 / rate;
            re += f64::from(*s) * w.cos();
            im += f64::from(*s) * w.sin();
        }
        2.0 * (re * re + im * im).sqrt() / x.len() as f64
    }

    #[test]
    fn a_tone_at_the_top_of_the_phone_band_keeps_its_level_and_leaves_no_image() {
        // 3.4 kHz at 8 kHz: upsampling must not mirror it to 4.6 kHz.
        let input: Vec<i16> = (0..8000)
            .map(|i| {
                (10_000.0 * (2.0 * std::f64::consts::PI * 3400.0 * i as f64 / 8000.0).sin()) as i16
            })
            .collect();
        let out = upsample_in_frames(&input, 160);
        let body = &out[400..15600];
        let tone = amplitude(body, 3400.0, 16000.0);
        let image = amplitude(body, 4600.0, 16000.0);
        assert!((tone - 10_000.0).abs() < 100.0, "tone level {tone}");
        let db = 20.0 * (image / tone).log10();
        assert!(db < -50.0, "image at {db:.1} dB");
    }
}
