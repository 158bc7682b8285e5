//! [`EarshotVad`]: the embedded default VAD on the pure-Rust `earshot` detector
//! (no model download; 16 kHz, 256-sample / 16 ms windows).

use super::hysteresis::SpeechTracker;
use super::{Vad, VadEvent, VadOptions, VadStream};
use crate::audio::{AudioFrame, MonoResampler};

/// Rate earshot works at.
const RATE: u32 = 16_000;
/// Window earshot analyses (16 ms).
const WINDOW: usize = 256;

/// The default VAD: `earshot` probabilities + the reference's hysteresis/debouncing.
#[derive(Clone, Debug, Default)]
pub struct EarshotVad {
    opts: VadOptions,
}

impl EarshotVad {
    /// A VAD with the given options.
    pub fn new(opts: VadOptions) -> Self {
        Self { opts }
    }

    /// The options in use.
    pub fn options(&self) -> &VadOptions {
        &self.opts
    }
}

impl Vad for EarshotVad {
    fn stream(&self) -> Box<dyn VadStream> {
        Box::new(EarshotStream {
            detector: Box::new(earshot::Detector::default()),
            tracker: SpeechTracker::new(self.opts.clone(), RATE),
            to_16k: MonoResampler::new(RATE),
            pending: Vec::with_capacity(WINDOW * 2),
        })
    }

    fn sample_rate(&self) -> u32 {
        RATE
    }
}

struct EarshotStream {
    detector: Box<earshot::Detector>,
    tracker: SpeechTracker,
    to_16k: MonoResampler,
    pending: Vec<i16>,
}

impl VadStream for EarshotStream {
    fn push_frame(&mut self, frame: &AudioFrame) -> Vec<VadEvent> {
        match self.to_16k.process(frame) {
            Ok(mono) => self.pending.extend_from_slice(&mono.samples),
            Err(e) => {
                tracing::warn!(error = %e, rate = frame.sample_rate, "VAD cannot resample; frame ignored");
                return Vec::new();
            }
        }
        let mut events = Vec::new();
        let mut start = 0;
        while self.pending.len() - start >= WINDOW {
            let window = &self.pending[start..start + WINDOW];
            let p = self.detector.predict_i16(window).clamp(0.0, 1.0);
            events.extend(self.tracker.push_window(window, p));
            start += WINDOW;
        }
        self.pending.drain(..start);
        events
    }

    fn skip_silence(&mut self, duration: std::time::Duration) {
        self.tracker.skip(duration);
    }

    fn flush(&mut self) {
        self.tracker.reset();
        self.detector.reset();
        self.pending.clear();
        self.to_16k.flush();
    }
}
