//! The audio input path: mono downmix, resampling to the VAD's rate, and VAD inference.
//! Public so benchmarks can measure its cost without a session.
//!
//! Memory: the VAD stream (model state plus its prefix-padding buffer) and the resampler
//! are most of what a voice session holds while idle. A path made with
//! [`InputPath::deferred`] creates them only when the first frame that is not (near-)digital
//! silence arrives, so a session on a muted or silent line holds neither. Before that, silent
//! frames come back as silence at the VAD's rate (of the right length, for the STT) with no
//! VAD events, which is what the VAD would have reported for them; the VAD is told how much
//! silence it missed ([`VadStream::skip_silence`]) so its stream time stays right. The
//! resampler is only created when the input rate differs from the VAD's.

use std::sync::Arc;
use std::time::Duration;

use crate::audio::frame::check_format;
use crate::audio::{AudioFrame, MonoResampler};
use crate::error::AudioError;
use crate::error::VoiceResult;
use crate::vad::{Vad, VadEvent, VadStream};

/// Largest sample magnitude still treated as silence before the VAD exists (about −66 dBFS:
/// digital zero, G.711 A-law's smallest step, dither).
const SILENCE_PEAK: u16 = 16;

/// Turns user frames (any rate/channels) into VAD events and STT-ready frames.
pub struct InputPath {
    vad: VadState,
    to_vad_rate: MonoResampler,
    /// Stream time skipped while the VAD did not exist (passed on to it when it starts).
    skipped: Duration,
    /// Output samples owed for skipped input, as input samples not yet converted
    /// (`(input_samples, input_rate)`): keeps silent output exact over many frames.
    skipped_in: (u64, u32),
}

/// The VAD stream, or what is needed to create it.
enum VadState {
    Running(Box<dyn VadStream>),
    Deferred(Arc<dyn Vad>),
}

impl InputPath {
    /// A path feeding a new stream of `vad`, created now.
    pub fn new(vad: &dyn Vad) -> Self {
        InputPath {
            vad: VadState::Running(vad.stream()),
            to_vad_rate: MonoResampler::new(vad.sample_rate()),
            skipped: Duration::ZERO,
            skipped_in: (0, 0),
        }
    }

    /// A path that creates its VAD stream (and resampler) only at the first frame that is
    /// not silence: an idle session holds no VAD state.
    pub fn deferred(vad: Arc<dyn Vad>) -> Self {
        InputPath {
            to_vad_rate: MonoResampler::new(vad.sample_rate()),
            vad: VadState::Deferred(vad),
            skipped: Duration::ZERO,
            skipped_in: (0, 0),
        }
    }

    /// The rate of the frames [`push`](Self::push) returns (the VAD's).
    pub fn sample_rate(&self) -> u32 {
        self.to_vad_rate.target_rate()
    }

    /// Whether the VAD stream exists yet (a deferred path creates it at the first sound).
    pub fn vad_started(&self) -> bool {
        matches!(self.vad, VadState::Running(_))
    }

    /// Processes one frame: the frame as mono at the VAD's rate (for the STT) and the VAD
    /// events it caused. A frame with an unusable format is refused with an error.
    pub fn push(&mut self, frame: &AudioFrame) -> VoiceResult<(AudioFrame, Vec<VadEvent>)> {
        if let VadState::Deferred(vad) = &self.vad {
            if is_silent(frame) {
                return self.skip(frame);
            }
            let mut stream = vad.stream();
            stream.skip_silence(self.skipped);
            self.vad = VadState::Running(stream);
        }
        // Borrowed while the frame is already mono at the VAD's rate: copied once at most.
        let out = self.to_vad_rate.process(frame)?;
        let VadState::Running(vad) = &mut self.vad else {
            unreachable!("started above")
        };
        let events = vad.push_frame(&out);
        Ok((out.into_owned(), events))
    }

    /// A silent frame before the VAD exists: silence of the same duration at the VAD's rate.
    fn skip(&mut self, frame: &AudioFrame) -> VoiceResult<(AudioFrame, Vec<VadEvent>)> {
        check_format(frame.sample_rate, frame.channels)?;
        if !frame
            .samples
            .len()
            .is_multiple_of(usize::from(frame.channels))
        {
            return Err(AudioError::UnevenChannels {
                len: frame.samples.len(),
                channels: frame.channels,
            }
            .into());
        }
        let n = frame.samples_per_channel() as u64;
        if self.skipped_in.1 != frame.sample_rate {
            self.skipped_in = (0, frame.sample_rate);
        }
        let from = u64::from(frame.sample_rate);
        let to = u64::from(self.sample_rate());
        let before = self.skipped_in.0 * to / from;
        self.skipped_in.0 += n;
        let after = self.skipped_in.0 * to / from;
        self.skipped += frame.duration();
        let out = AudioFrame {
            samples: vec![0; (after - before) as usize],
            sample_rate: self.sample_rate(),
            channels: 1,
        };
        Ok((out, Vec::new()))
    }
}

fn is_silent(frame: &AudioFrame) -> bool {
    frame
        .samples
        .iter()
        .all(|s| s.unsigned_abs() <= SILENCE_PEAK)
}
