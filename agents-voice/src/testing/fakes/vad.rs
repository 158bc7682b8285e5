//! A VAD that reports the scripted speech with the reference's fake timings.

use std::sync::Arc;
use std::time::Duration;

use super::timeline::Timeline;
use crate::audio::AudioFrame;
use crate::vad::{Vad, VadEvent, VadEventKind, VadStream};

const SOS_AFTER: Duration = Duration::from_millis(50);
const INFERENCE_EVERY: Duration = Duration::from_millis(50);

/// Start of speech at `start + 0.05`, end of speech at `end + min_silence` (reporting
/// `silence_duration = min_silence`), inference every 0.05 s — on the stream's audio time, so
/// it follows the audio actually pushed.
#[derive(Clone, Debug)]
pub struct FakeVad {
    timeline: Arc<Timeline>,
    min_silence: Duration,
    sample_rate: u32,
}

impl FakeVad {
    /// A fake for `timeline` with `min_silence` 0.5 s at 16 kHz.
    pub fn new(timeline: &Timeline) -> Self {
        FakeVad {
            timeline: Arc::new(timeline.clone()),
            min_silence: Duration::from_millis(500),
            sample_rate: 16_000,
        }
    }

    /// Another `min_silence`.
    pub fn min_silence(mut self, d: Duration) -> Self {
        self.min_silence = d;
        self
    }
}

impl Vad for FakeVad {
    fn stream(&self) -> Box<dyn VadStream> {
        Box::new(FakeVadStream {
            vad: self.clone(),
            pushed: Duration::ZERO,
        })
    }

    fn sample_rate(&self) -> u32 {
        self.sample_rate
    }
}

struct FakeVadStream {
    vad: FakeVad,
    pushed: Duration,
}

impl FakeVadStream {
    fn event(&self, kind: VadEventKind, at: Duration) -> VadEvent {
        let min_silence = self.vad.min_silence;
        let u = self
            .vad
            .timeline
            .utterances
            .iter()
            .find(|u| at >= u.start + SOS_AFTER && at <= u.end + min_silence);
        let (speaking, speech, silence) = match u {
            Some(u) if kind != VadEventKind::EndOfSpeech => {
                (true, at.min(u.end) - u.start, at.saturating_sub(u.end))
            }
            Some(u) => (false, u.end - u.start, min_silence),
            None => (false, Duration::ZERO, Duration::ZERO),
        };
        VadEvent {
            kind,
            timestamp: at,
            speech_duration: speech,
            silence_duration: silence,
            probability: if speaking { 1.0 } else { 0.0 },
            speaking,
            frames: Vec::new(),
        }
    }
}

impl VadStream for FakeVadStream {
    fn push_frame(&mut self, frame: &AudioFrame) -> Vec<VadEvent> {
        let from = self.pushed;
        let to = from + frame.duration();
        self.pushed = to;
        let within = |t: Duration| t > from && t <= to;
        let mut out: Vec<(Duration, u8, VadEventKind)> = Vec::new();
        for u in &self.vad.timeline.utterances {
            let sos = u.start + SOS_AFTER;
            if within(sos) {
                out.push((sos, 0, VadEventKind::StartOfSpeech));
            }
            let eos = u.end + self.vad.min_silence;
            if within(eos) {
                out.push((eos, 2, VadEventKind::EndOfSpeech));
            }
        }
        let step = INFERENCE_EVERY.as_millis() as u64;
        let first = from.as_millis() as u64 / step + 1;
        let mut k = first;
        while Duration::from_millis(k * step) <= to {
            out.push((
                Duration::from_millis(k * step),
                1,
                VadEventKind::InferenceDone,
            ));
            k += 1;
        }
        out.sort_by_key(|(t, order, _)| (*t, *order));
        out.into_iter()
            .map(|(t, _, kind)| self.event(kind, t))
            .collect()
    }

    fn flush(&mut self) {}

    fn skip_silence(&mut self, duration: Duration) {
        self.pushed += duration;
    }
}
