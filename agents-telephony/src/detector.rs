//! An in-band DTMF detector: finds keypad tones in 8 kHz or 16 kHz 16-bit PCM, for transports
//! that carry key presses as audio rather than as RFC 4733 events or SIP INFO.
//!
//! # How it decides
//!
//! The audio is cut into windows of 12.75 ms (102 samples at 8 kHz, 204 at 16 kHz) every half
//! window. In each window Goertzel filters measure the power at the eight DTMF frequencies (and
//! 1 % either side of each, so tones off by the 1.5 % Q.24 allows keep their full power) and at
//! their second harmonics. A window holds a key when all of these hold (thresholds after ITU-T
//! Q.24 and the common open-source detectors):
//! - the strongest row and column tones are each at least -45 dBFS;
//! - each is at least 8 dB above every other tone of its group;
//! - twist: the row tone is at most 8 dB above the column tone, and the column tone at most 4 dB
//!   above the row tone;
//! - the two tones carry at least 85 % of the window's power (speech and music spread theirs
//!   over many frequencies; a window only partly covered by a tone fails too);
//! - the column tone's second harmonic is at least 15 dB below it, and so is the row tone's
//!   unless that harmonic lies within 170 Hz of the column tone (697/1336, 697/1477, 770/1477,
//!   770/1633 and 852/1633 Hz), where a 12.75 ms window cannot tell them apart (voices and
//!   instruments have strong harmonics, keypads do not).
//!
//! Rows are compared without a window (they are only 73-89 Hz, one bin, apart); columns,
//! harmonics and the tone levels are measured through a Hann window, so one tone's side lobes do
//! not bias the other's level.
//!
//! A key is reported once it has held for 4 consecutive windows, and a new key, or the same key
//! again, needs the previous one to have been absent for 5 consecutive windows. Measured over
//! every alignment with the windows: tones of 31 ms and more are always accepted and tones under
//! 24 ms never (Q.24: accept 40 ms); pauses of 26 ms and more always separate two presses and
//! gaps under 18.5 ms never do (Q.24: recognise 40 ms pauses, bridge 10 ms dropouts).
//!
//! # Limits
//!
//! A steady voice whose harmonics fall within 1 % of a row and a column frequency, with narrow
//! formants centred on exactly those two harmonics, is acoustically a key press (over 85 % of its
//! power in the two tones, harmonics 40 dB down) and can be reported as one; the tests measure
//! this on such voices. Ordinary vowels, glides and chords do not trigger it.

use crate::dtmf::{DtmfKey, COLUMN_FREQUENCIES, ROW_FREQUENCIES};

/// Why a detector could not be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DetectorError {
    /// Only 8000 and 16000 Hz are supported (the telephony rates).
    #[error("unsupported sample rate {0} Hz: the DTMF detector takes 8000 or 16000 Hz audio")]
    UnsupportedSampleRate(u32),
}

/// Window length at 8 kHz; scaled with the sample rate so it always lasts 12.75 ms.
const WINDOW_AT_8K: usize = 102;
/// Consecutive windows a key must hold before it is reported.
const MIN_ON_WINDOWS: usize = 4;
/// Consecutive windows without the key before another key can be reported.
const MIN_OFF_WINDOWS: usize = 5;
/// Least power of each tone, in dB relative to a full-scale sine.
const MIN_TONE_DBFS: f64 = -45.0;
/// Power ratio by which the strongest tone of a group must beat the others (8 dB).
const RELATIVE_PEAK: f64 = 6.309_573_444_801_933;
/// Most the row tone may exceed the column tone by (8 dB).
const MAX_ROW_OVER_COLUMN: f64 = 6.309_573_444_801_933;
/// Most the column tone may exceed the row tone by (4 dB).
const MAX_COLUMN_OVER_ROW: f64 = 2.511_886_431_509_58;
/// Least share of the window's power in the two tones.
const MIN_TONE_SHARE: f64 = 0.85;
/// Most a tone's second harmonic may have, relative to the tone (-15 dB).
const MAX_SECOND_HARMONIC: f64 = 0.031_622_776_601_683_79;
/// Relative offsets of the extra probes around each tone, so a tone off by up to 1.5 % (the
/// Q.24 tolerance) still shows its full power.
const PROBE_OFFSETS: [f64; 2] = [-0.01, 0.01];
/// A row's second harmonic (1394-1882 Hz) closer than this to the column tone falls in the main
/// lobe of the column tone in a 12.75 ms Hann window, so it is not checked.
const MIN_HARMONIC_GAP_HZ: f64 = 170.0;

/// Streaming DTMF detector over 16-bit PCM; see the [module docs](self) for the criteria.
///
/// ```
/// use agents_telephony::{DtmfDetector, DtmfKey};
///
/// let mut detector = DtmfDetector::new(8000).unwrap();
/// let (low, high) = DtmfKey::Five.frequencies();
/// let tone: Vec<i16> = (0..400) // 50 ms
///     .map(|n| {
///         let t = n as f64 / 8000.0;
///         let x = (2.0 * std::f64::consts::PI * low * t).sin()
///             + (2.0 * std::f64::consts::PI * high * t).sin();
///         (x * 8000.0) as i16
///     })
///     .collect();
/// let mut keys = detector.push(&tone);
/// keys.extend(detector.push(&[0; 400]));
/// assert_eq!(keys, vec![DtmfKey::Five]);
/// ```
#[derive(Debug, Clone)]
pub struct DtmfDetector {
    sample_rate: u32,
    window: usize,
    hop: usize,
    /// Goertzel coefficients `2 cos(w)` of the eight tones (rows, then columns).
    tones: [f64; 8],
    /// Coefficients of the probes just below and above each tone.
    probes: [[f64; 2]; 8],
    /// Coefficients of each tone's second harmonic and the probes beside it.
    harmonics: [[f64; 3]; 8],
    /// Hann window, scaled so a sine's power reads the same as without it; harmonics are
    /// measured through it to keep the tones' own leakage out.
    hann: Vec<f64>,
    /// Least tone power (mean square of a sine at `MIN_TONE_DBFS`).
    min_tone_power: f64,
    /// Samples not yet consumed by a window.
    pending: Vec<f64>,
    /// The key currently sounding (reported), if any.
    active: Option<DtmfKey>,
    /// Consecutive windows without the active key.
    off_run: usize,
    /// The key seen in the latest windows, and for how many in a row.
    candidate: Option<DtmfKey>,
    candidate_run: usize,
}

impl DtmfDetector {
    /// A detector for audio at `sample_rate` Hz (8000 or 16000).
    pub fn new(sample_rate: u32) -> Result<Self, DetectorError> {
        if sample_rate != 8000 && sample_rate != 16000 {
            return Err(DetectorError::UnsupportedSampleRate(sample_rate));
        }
        let window = WINDOW_AT_8K * (sample_rate as usize / 8000);
        let mut tones = [0.0; 8];
        let mut probes = [[0.0; 2]; 8];
        let freqs = ROW_FREQUENCIES.iter().chain(COLUMN_FREQUENCIES.iter());
        for (i, f) in freqs.enumerate() {
            tones[i] = goertzel_coeff(*f, sample_rate);
            for (p, offset) in probes[i].iter_mut().zip(PROBE_OFFSETS) {
                *p = goertzel_coeff(f * (1.0 + offset), sample_rate);
            }
        }
        let mut harmonics = [[0.0; 3]; 8];
        let freqs = ROW_FREQUENCIES.iter().chain(COLUMN_FREQUENCIES.iter());
        for (h, f) in harmonics.iter_mut().zip(freqs) {
            h[0] = goertzel_coeff(2.0 * f, sample_rate);
            for (p, offset) in h[1..].iter_mut().zip(PROBE_OFFSETS) {
                *p = goertzel_coeff(2.0 * f * (1.0 + offset), sample_rate);
            }
        }
        // Coherent gain of a Hann window is 1/2: scale by 2 so powers stay comparable.
        let hann = (0..window)
            .map(|i| {
                let phase = 2.0 * std::f64::consts::PI * i as f64 / window as f64;
                1.0 - phase.cos()
            })
            .collect();
        let full_scale = 32768.0 * 10f64.powf(MIN_TONE_DBFS / 20.0);
        Ok(DtmfDetector {
            sample_rate,
            window,
            hop: window / 2,
            tones,
            probes,
            harmonics,
            hann,
            min_tone_power: full_scale * full_scale / 2.0,
            pending: Vec::with_capacity(window * 2),
            active: None,
            off_run: 0,
            candidate: None,
            candidate_run: 0,
        })
    }

    /// The sample rate the detector was built for.
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// Feeds `samples` (mono, any chunk size) and returns the keys that started in them, in
    /// order. Chunk boundaries do not change the result.
    pub fn push(&mut self, samples: &[i16]) -> Vec<DtmfKey> {
        let mut keys = Vec::new();
        self.pending.extend(samples.iter().map(|&s| f64::from(s)));
        let mut start = 0;
        while self.pending.len() - start >= self.window {
            let verdict = self.classify(&self.pending[start..start + self.window]);
            if let Some(key) = self.step(verdict) {
                keys.push(key);
            }
            start += self.hop;
        }
        self.pending.drain(..start);
        keys
    }

    /// Forgets all audio seen so far (e.g. between calls).
    pub fn reset(&mut self) {
        self.pending.clear();
        self.active = None;
        self.off_run = 0;
        self.candidate = None;
        self.candidate_run = 0;
    }

    /// Advances the on/off state machine by one window; returns a key when one starts.
    fn step(&mut self, verdict: Option<DtmfKey>) -> Option<DtmfKey> {
        if verdict.is_some() && verdict == self.candidate {
            self.candidate_run += 1;
        } else {
            self.candidate = verdict;
            self.candidate_run = usize::from(verdict.is_some());
        }
        if let Some(active) = self.active {
            if verdict == Some(active) {
                self.off_run = 0;
            } else {
                self.off_run += 1;
                if self.off_run >= MIN_OFF_WINDOWS {
                    self.active = None;
                }
            }
        }
        if self.active.is_none() && self.candidate_run >= MIN_ON_WINDOWS {
            self.active = self.candidate;
            self.off_run = 0;
            return self.candidate;
        }
        None
    }

    /// The key one window holds, if it passes every test.
    fn classify(&self, window: &[f64]) -> Option<DtmfKey> {
        let n = window.len() as f64;
        let mean = window.iter().sum::<f64>() / n;
        let total = window.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
        if total <= 0.0 {
            return None;
        }
        // Mean removed and Hann-windowed: far less leakage between tones more than two bins
        // apart (columns, harmonics), at the cost of a main lobe too wide to split the rows.
        let windowed: Vec<f64> = window
            .iter()
            .zip(&self.hann)
            .map(|(x, w)| (x - mean) * w)
            .collect();
        // Which tone of each group: the strongest at the nominal frequencies. Rows are 73-89 Hz
        // apart, about one bin, so they are compared without a window; columns are 127-156 Hz
        // apart, and a strong row tone's side lobes could otherwise mask the column contrast.
        let mut rows = [0.0; 4];
        let mut cols = [0.0; 4];
        for i in 0..4 {
            rows[i] = goertzel_power(window, self.tones[i]);
            cols[i] = goertzel_power(&windowed, self.tones[4 + i]);
        }
        let (r, row_centre) = strongest(&rows);
        let (c, col_peak) = strongest(&cols);
        let dominant = |group: &[f64], best: usize, p: f64| {
            group
                .iter()
                .enumerate()
                .all(|(i, &q)| i == best || q * RELATIVE_PEAK <= p)
        };
        if !dominant(&rows, r, row_centre) || !dominant(&cols, c, col_peak) {
            return None;
        }
        // How strong: the best of the nominal frequency and the probes beside it, through the
        // window so the other tone's side lobes do not bias the twist.
        let level = |i: usize| {
            self.probes[i]
                .iter()
                .map(|&p| goertzel_power(&windowed, p))
                .fold(goertzel_power(&windowed, self.tones[i]), f64::max)
        };
        let row = level(r);
        let col = level(4 + c);
        if row < self.min_tone_power || col < self.min_tone_power {
            return None;
        }
        if row > col * MAX_ROW_OVER_COLUMN || col > row * MAX_COLUMN_OVER_ROW {
            return None;
        }
        if row + col < MIN_TONE_SHARE * total {
            return None;
        }
        let harmonic = |i: usize| {
            self.harmonics[i]
                .iter()
                .map(|&h| goertzel_power(&windowed, h))
                .fold(0.0, f64::max)
        };
        if harmonic(4 + c) > col * MAX_SECOND_HARMONIC {
            return None;
        }
        let row_harmonic_gap = (2.0 * ROW_FREQUENCIES[r] - COLUMN_FREQUENCIES[c]).abs();
        if row_harmonic_gap >= MIN_HARMONIC_GAP_HZ && harmonic(r) > row * MAX_SECOND_HARMONIC {
            return None;
        }
        DtmfKey::at(r, c)
    }
}

fn goertzel_coeff(freq: f64, sample_rate: u32) -> f64 {
    2.0 * (2.0 * std::f64::consts::PI * freq / f64::from(sample_rate)).cos()
}

/// Mean-square power of the sinusoid at the filter's frequency: `2 |X(f)|^2 / N^2`, so a sine of
/// amplitude `A` filling the window gives about `A^2 / 2`, comparable with the window's power.
fn goertzel_power(window: &[f64], coeff: f64) -> f64 {
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in window {
        let s0 = x + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let mag2 = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    let n = window.len() as f64;
    2.0 * mag2.max(0.0) / (n * n)
}

fn strongest(group: &[f64]) -> (usize, f64) {
    group.iter().copied().enumerate().fold(
        (0, f64::MIN),
        |best, (i, p)| if p > best.1 { (i, p) } else { best },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_rates_are_refused() {
        assert_eq!(
            DtmfDetector::new(44100).unwrap_err(),
            DetectorError::UnsupportedSampleRate(44100)
        );
        assert_eq!(DtmfDetector::new(16000).unwrap().window, 204);
    }

    #[test]
    fn goertzel_power_matches_sine_power() {
        let sr = 8000;
        let amp = 1000.0;
        let w: Vec<f64> = (0..102)
            .map(|n| amp * (2.0 * std::f64::consts::PI * 941.0 * n as f64 / 8000.0).sin())
            .collect();
        let p = goertzel_power(&w, goertzel_coeff(941.0, sr));
        let expected = amp * amp / 2.0;
        assert!((p / expected - 1.0).abs() < 0.06, "{p} vs {expected}");
    }

    #[test]
    fn silence_and_empty_input_find_nothing() {
        let mut d = DtmfDetector::new(8000).unwrap();
        assert!(d.push(&[]).is_empty());
        assert!(d.push(&[0; 8000]).is_empty());
        assert!(d.push(&[i16::MAX; 1000]).is_empty());
    }
}
