//! Turns per-window speech probabilities into VAD events: hysteresis thresholds,
//! `min_speech` / `min_silence` debouncing, prefix padding and utterance buffering.
//!
//! Model-agnostic so any probability source (earshot, Silero, a test script) gets the
//! reference's event semantics.

use std::time::Duration;

use super::{VadEvent, VadEventKind, VadOptions};
use crate::audio::AudioFrame;

/// Event bookkeeping for one audio stream at a fixed rate (mono).
#[derive(Debug)]
pub struct SpeechTracker {
    opts: VadOptions,
    sample_rate: u32,
    pushed: u64,
    speaking: bool,
    speech_run: u64,
    silence_run: u64,
    utterance_speech: u64,
    buffer: Vec<i16>,
}

/// Result of feeding one window: the events it caused.
pub type TrackerOutput = Vec<VadEvent>;

impl SpeechTracker {
    /// A tracker for mono audio at `sample_rate`.
    pub fn new(opts: VadOptions, sample_rate: u32) -> Self {
        Self {
            opts,
            sample_rate: sample_rate.max(1),
            pushed: 0,
            speaking: false,
            speech_run: 0,
            silence_run: 0,
            utterance_speech: 0,
            buffer: Vec::new(),
        }
    }

    /// The options in use.
    pub fn options(&self) -> &VadOptions {
        &self.opts
    }

    /// Whether the stream is inside speech.
    pub fn speaking(&self) -> bool {
        self.speaking
    }

    fn samples(&self, d: Duration) -> u64 {
        (d.as_secs_f64() * f64::from(self.sample_rate)).round() as u64
    }

    fn dur(&self, samples: u64) -> Duration {
        Duration::from_secs_f64(samples as f64 / f64::from(self.sample_rate))
    }

    /// Feeds one analysed window (mono samples at the tracker's rate) with its speech
    /// probability; returns `InferenceDone` plus any start/end of speech.
    pub fn push_window(&mut self, window: &[i16], probability: f32) -> TrackerOutput {
        let n = window.len() as u64;
        self.pushed += n;
        let is_speech = probability >= self.opts.activation_threshold
            || (self.speaking && probability > self.opts.deactivation_threshold);
        let cap = self.samples(self.opts.max_buffered_speech + self.opts.prefix_padding) as usize;
        if self.buffer.capacity() == 0 {
            // Outside speech the buffer holds at most the prefix padding, a speech run shorter
            // than min_speech and one window: reserve exactly that, not a doubling past it.
            let idle = self.samples(self.opts.prefix_padding + self.opts.min_speech) as usize;
            self.buffer.reserve_exact(idle + 2 * window.len());
        }
        if !self.speaking || self.buffer.len() + window.len() <= cap {
            // Not speaking: the buffer is trimmed to the prefix padding below.
            self.buffer.extend_from_slice(window);
        } else {
            tracing::debug!("VAD speech buffer full; dropping audio from the utterance buffer");
        }
        let mut events = Vec::new();
        if is_speech {
            self.speech_run += n;
            self.silence_run = 0;
            if self.speaking {
                self.utterance_speech += n;
            } else if self.speech_run >= self.samples(self.opts.min_speech) {
                self.speaking = true;
                self.utterance_speech = self.speech_run;
                events.push(self.event(VadEventKind::StartOfSpeech, probability, true));
            }
        } else {
            self.silence_run += n;
            self.speech_run = 0;
            if self.speaking && self.silence_run >= self.samples(self.opts.min_silence) {
                self.speaking = false;
                events.push(self.event(VadEventKind::EndOfSpeech, probability, true));
                self.utterance_speech = 0;
                self.buffer.clear();
            }
        }
        if !self.speaking {
            // Keep only the prefix padding plus any speech run that has not reached min_speech.
            let keep = (self.samples(self.opts.prefix_padding) + self.speech_run) as usize;
            if self.buffer.len() > keep {
                self.buffer.drain(..self.buffer.len() - keep);
            }
        }
        let mut done = self.event(VadEventKind::InferenceDone, probability, false);
        done.speaking = self.speaking;
        events.insert(0, done);
        events
    }

    fn event(&self, kind: VadEventKind, probability: f32, with_frames: bool) -> VadEvent {
        let frames = if with_frames && !self.buffer.is_empty() {
            vec![AudioFrame {
                samples: self.buffer.clone(),
                sample_rate: self.sample_rate,
                channels: 1,
            }]
        } else {
            Vec::new()
        };
        VadEvent {
            kind,
            timestamp: self.dur(self.pushed),
            speech_duration: self.dur(self.utterance_speech.max(self.speech_run)),
            silence_duration: self.dur(self.silence_run),
            probability,
            speaking: self.speaking,
            frames,
        }
    }

    /// Moves stream time on by `d` of silence that was not pushed.
    pub fn skip(&mut self, d: Duration) {
        self.pushed += self.samples(d);
    }

    /// Hard segment boundary: forgets speech/silence state and buffered audio; stream
    /// time keeps running.
    pub fn reset(&mut self) {
        self.speaking = false;
        self.speech_run = 0;
        self.silence_run = 0;
        self.utterance_speech = 0;
        self.buffer.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(ev: &[VadEvent]) -> Vec<VadEventKind> {
        ev.iter()
            .filter(|e| e.kind != VadEventKind::InferenceDone)
            .map(|e| e.kind)
            .collect()
    }

    /// 16 ms windows at 16 kHz: probabilities scripted per window.
    fn run(probs: &[f32]) -> Vec<VadEvent> {
        let mut t = SpeechTracker::new(VadOptions::default(), 16_000);
        let w = vec![100i16; 256];
        probs.iter().flat_map(|p| t.push_window(&w, *p)).collect()
    }

    #[test]
    fn sos_after_min_speech_and_eos_after_min_silence() {
        // 4 speech windows (64 ms >= 50 ms), then 16 silent windows (256 ms >= 250 ms).
        let mut probs = vec![0.0; 10];
        probs.extend([0.9; 4]);
        probs.extend([0.0; 16]);
        let ev = run(&probs);
        assert_eq!(
            kinds(&ev),
            vec![VadEventKind::StartOfSpeech, VadEventKind::EndOfSpeech]
        );
        let sos = ev
            .iter()
            .find(|e| e.kind == VadEventKind::StartOfSpeech)
            .unwrap();
        assert_eq!(sos.timestamp, Duration::from_millis(14 * 16));
        // Prefix padding (10 windows, < 0.5 s) plus the speech run.
        assert_eq!(sos.frames[0].samples.len(), 14 * 256);
        let eos = ev
            .iter()
            .find(|e| e.kind == VadEventKind::EndOfSpeech)
            .unwrap();
        assert_eq!(eos.silence_duration, Duration::from_millis(256));
        assert_eq!(eos.timestamp, Duration::from_millis(30 * 16));
        assert_eq!(eos.speech_duration, Duration::from_millis(64));
    }

    #[test]
    fn short_blip_is_not_speech_and_hysteresis_holds() {
        // 3 windows (48 ms) < min_speech: nothing.
        assert!(kinds(&run(&[0.0, 0.9, 0.9, 0.9, 0.0, 0.0])).is_empty());
        // Once speaking, 0.4 (> deactivation 0.35) keeps speech going: no EOS.
        let mut probs = vec![0.9; 5];
        probs.extend([0.4; 40]);
        assert_eq!(kinds(&run(&probs)), vec![VadEventKind::StartOfSpeech]);
    }

    #[test]
    fn reset_forgets_speech() {
        let mut t = SpeechTracker::new(VadOptions::default(), 16_000);
        let w = vec![0i16; 256];
        for _ in 0..5 {
            t.push_window(&w, 0.9);
        }
        assert!(t.speaking());
        t.reset();
        assert!(!t.speaking());
        let ev: Vec<_> = (0..30).flat_map(|_| t.push_window(&w, 0.0)).collect();
        assert!(kinds(&ev).is_empty(), "no EOS after a reset");
    }
}
