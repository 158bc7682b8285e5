//! Hold audio generated in code (no files to ship or fetch): a soft tone pattern or silence,
//! written to a call's output a little ahead of what it has played, so the queue stays short
//! and taking the caller off hold is immediate.

use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::audio::{mono_8k, AudioOutput, CALL_RATE};
use crate::codec::SAMPLES_PER_PACKET;
use crate::playout::CallOutput;

/// How far ahead of playout hold audio is queued.
const LEAD: Duration = Duration::from_millis(60);
/// Frequency of the hold tone (Hz).
pub const HOLD_TONE_HZ: f32 = 440.0;
/// Peak amplitude of the hold tone: soft (about -22 dBFS).
const AMPLITUDE: f32 = 2500.0;
/// The tone pattern: this long on, then [`TONE_OFF`] of silence, repeated.
const TONE_ON: Duration = Duration::from_millis(1000);
const TONE_OFF: Duration = Duration::from_millis(2000);
/// Fade in and out of each tone, so it does not click.
const FADE: Duration = Duration::from_millis(20);

/// What the caller hears on hold, from the `hold_audio` name the transfer passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldAudio {
    /// Silence (RTP keeps flowing, so the line does not look dead to the network).
    Silence,
    /// A soft 440 Hz tone, 1 s on, 2 s off.
    Tone,
}

impl HoldAudio {
    /// `"silence"` (or empty) is silence; any other name (`"hold_music"`, `"tone"`) the tone
    /// pattern: this crate plays no audio files.
    pub fn from_name(name: &str) -> Self {
        match name.trim().to_ascii_lowercase().as_str() {
            "" | "silence" | "none" => HoldAudio::Silence,
            _ => HoldAudio::Tone,
        }
    }

    /// The 20 ms frame starting at sample `n` of the pattern.
    pub fn frame(self, n: u64) -> Vec<i16> {
        let mut out = vec![0i16; SAMPLES_PER_PACKET];
        if self == HoldAudio::Silence {
            return out;
        }
        let rate = u64::from(CALL_RATE);
        let on = TONE_ON.as_millis() as u64 * rate / 1000;
        let period = on + TONE_OFF.as_millis() as u64 * rate / 1000;
        let fade = (FADE.as_millis() as u64 * rate / 1000) as f32;
        for (i, s) in out.iter_mut().enumerate() {
            let k = n + i as u64;
            let pos = k % period;
            if pos >= on {
                continue;
            }
            let env = (pos as f32 / fade).min((on - pos) as f32 / fade).min(1.0);
            let phase = 2.0 * std::f32::consts::PI * HOLD_TONE_HZ * k as f32 / CALL_RATE as f32;
            *s = (AMPLITUDE * env * phase.sin()) as i16;
        }
        out
    }
}

/// Hold audio playing on a call until stopped.
pub(crate) struct HoldPlayer {
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl HoldPlayer {
    /// Starts playing `audio` to `output`.
    pub(crate) fn start(audio: HoldAudio, mut output: CallOutput) -> Self {
        let (stop_tx, mut stop_rx) = oneshot::channel();
        let task = tokio::spawn(async move {
            let lead = (LEAD.as_micros() / 125) as u64;
            let base = samples(output.total_played());
            let mut generated = 0u64;
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tokio::select! {
                    biased;
                    _ = &mut stop_rx => return,
                    _ = tick.tick() => {}
                }
                let played = samples(output.total_played()).saturating_sub(base);
                while generated < played + lead {
                    let frame = mono_8k(audio.frame(generated));
                    if output.capture_frame(frame).await.is_err() {
                        return; // the call ended
                    }
                    generated += SAMPLES_PER_PACKET as u64;
                }
            }
        });
        HoldPlayer {
            stop: Some(stop_tx),
            task,
        }
    }

    /// Stops the hold audio and drops what is still queued on `output`.
    pub(crate) async fn stop(mut self, output: &mut CallOutput) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
        output.clear_buffer();
    }
}

impl Drop for HoldPlayer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn samples(d: Duration) -> u64 {
    (d.as_micros() / 125) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_choose_the_pattern() {
        assert_eq!(HoldAudio::from_name("silence"), HoldAudio::Silence);
        assert_eq!(HoldAudio::from_name(""), HoldAudio::Silence);
        assert_eq!(HoldAudio::from_name("hold_music"), HoldAudio::Tone);
    }

    #[test]
    fn the_tone_is_soft_faded_and_pauses() {
        let first = HoldAudio::Tone.frame(0);
        // Fades in: the first samples are quieter than the peak.
        assert!(first[..8].iter().all(|s| s.unsigned_abs() < 300));
        let mid = HoldAudio::Tone.frame(4000);
        let peak = mid.iter().map(|s| s.unsigned_abs()).max().unwrap();
        assert!((2000..=2500).contains(&peak), "peak {peak}");
        // 1.5 s in: the silent part of the pattern.
        assert!(HoldAudio::Tone.frame(12_000).iter().all(|s| *s == 0));
        // 440 Hz: 88 zero crossings a second, about 17-18 in 20 ms.
        let crossings = mid.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
        assert!((16..=19).contains(&crossings), "{crossings}");
        assert!(HoldAudio::Silence.frame(123).iter().all(|s| *s == 0));
    }
}
