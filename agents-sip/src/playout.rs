//! The agent's outgoing audio: a queue of 8 kHz PCM drained by the call's 20 ms RTP sender,
//! with the segment bookkeeping the voice pipeline needs (how much of a reply was heard,
//! clear at once on barge-in, pause/resume).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;

use agents_voice::{AudioError, VoiceError, VoiceResult};
use futures::future::BoxFuture;
use futures::FutureExt;

use crate::audio::{AudioFrame, AudioOutput, PlaybackFinished, CALL_RATE};
use crate::codec::SAMPLES_PER_PACKET;

/// Most audio queued before `capture_frame` waits (backpressure).
pub const MAX_QUEUED: Duration = Duration::from_secs(2);
const MAX_QUEUED_SAMPLES: usize = 16_000;
/// A writer held back by a full queue is woken once this much (200 ms) has drained, not
/// every 20 ms packet: ten times fewer wake-ups for an agent that keeps the queue full.
const REFILL_SAMPLES: usize = 1_600;

#[derive(Debug, Default)]
struct State {
    queue: VecDeque<i16>,
    /// A segment is playing (audio captured and not yet drained or cleared).
    active: bool,
    /// Samples of the current segment sent so far.
    played: u64,
    /// How the last segment ended, for the next `wait_for_playout`.
    done: Option<PlaybackFinished>,
    paused: bool,
    /// Samples played over the whole call.
    total_played: u64,
    closed: bool,
}

/// Shared between [`CallOutput`] and the RTP sender.
#[derive(Debug, Default)]
pub(crate) struct Playout {
    state: Mutex<State>,
    changed: Notify,
}

fn samples_to_duration(n: u64) -> Duration {
    Duration::from_micros(n * 125)
}

impl Playout {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Fills `out` with the next 20 ms; returns false when nothing is queued (or paused).
    pub(crate) fn take_packet(&self, out: &mut [i16; SAMPLES_PER_PACKET]) -> bool {
        let mut st = self.lock();
        if st.paused || st.queue.is_empty() {
            if st.active && !st.paused {
                st.active = false;
                st.done = Some(PlaybackFinished {
                    playback_position: samples_to_duration(st.played),
                    interrupted: false,
                });
                drop(st);
                self.changed.notify_waiters();
            }
            return false;
        }
        let n = st.queue.len().min(SAMPLES_PER_PACKET);
        for (slot, s) in out.iter_mut().zip(st.queue.drain(..n)) {
            *slot = s;
        }
        out[n..].fill(0);
        st.played += n as u64;
        st.total_played += n as u64;
        let wake = st.queue.len() + REFILL_SAMPLES <= MAX_QUEUED_SAMPLES;
        drop(st);
        if wake {
            self.changed.notify_waiters();
        }
        true
    }

    /// Ends playout for good (the call is over): waiters return.
    pub(crate) fn close(&self) {
        let mut st = self.lock();
        st.closed = true;
        if st.active {
            st.active = false;
            st.done = Some(PlaybackFinished {
                playback_position: samples_to_duration(st.played),
                interrupted: true,
            });
        }
        st.queue.clear();
        drop(st);
        self.changed.notify_waiters();
    }

    /// Audio played over the whole call.
    pub(crate) fn total_played(&self) -> Duration {
        samples_to_duration(self.lock().total_played)
    }
}

/// The agent's voice on a call: 8 kHz mono PCM in, paced G.711 RTP out. Implements the
/// voice pipeline's [`AudioOutput`]; it can pause (silence is sent, the queue is kept).
#[derive(Debug, Clone)]
pub struct CallOutput {
    pub(crate) playout: Arc<Playout>,
}

impl CallOutput {
    /// Audio sent over the whole call so far.
    pub fn total_played(&self) -> Duration {
        self.playout.total_played()
    }

    async fn capture(&mut self, frame: AudioFrame) -> VoiceResult<()> {
        if frame.sample_rate != CALL_RATE || frame.channels != 1 {
            return Err(AudioError::FormatMismatch {
                expected_rate: CALL_RATE,
                expected_channels: 1,
                rate: frame.sample_rate,
                channels: frame.channels,
            }
            .into());
        }
        loop {
            let notified = self.playout.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut st = self.playout.lock();
                if st.closed {
                    return Err(VoiceError::Closed);
                }
                if st.queue.len() < MAX_QUEUED_SAMPLES {
                    if !st.active {
                        st.active = true;
                        st.played = 0;
                        st.done = None;
                    }
                    st.queue.extend(frame.samples.iter().copied());
                    return Ok(());
                }
            }
            notified.await;
        }
    }

    async fn wait(&mut self) -> PlaybackFinished {
        loop {
            let notified = self.playout.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut st = self.playout.lock();
                if let Some(done) = st.done.take() {
                    return done;
                }
                if !st.active {
                    return PlaybackFinished {
                        playback_position: Duration::ZERO,
                        interrupted: false,
                    };
                }
            }
            notified.await;
        }
    }
}

impl AudioOutput for CallOutput {
    fn sample_rate(&self) -> u32 {
        CALL_RATE
    }

    /// Queues a frame; waits while more than [`MAX_QUEUED`] is queued. Fails with
    /// `VoiceError::Closed` once the call ended.
    fn capture_frame(&mut self, frame: AudioFrame) -> BoxFuture<'_, VoiceResult<()>> {
        self.capture(frame).boxed()
    }

    /// The segment finishes when its audio has been sent.
    fn flush(&mut self) {}

    fn clear_buffer(&mut self) {
        let mut st = self.playout.lock();
        st.queue.clear();
        st.paused = false;
        if st.active {
            st.active = false;
            st.done = Some(PlaybackFinished {
                playback_position: samples_to_duration(st.played),
                interrupted: true,
            });
        }
        drop(st);
        self.playout.changed.notify_waiters();
    }

    fn can_pause(&self) -> bool {
        true
    }

    fn pause(&mut self) {
        self.playout.lock().paused = true;
    }

    fn resume(&mut self) {
        self.playout.lock().paused = false;
    }

    fn wait_for_playout(&mut self) -> BoxFuture<'_, PlaybackFinished> {
        self.wait().boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::mono_8k;

    fn out() -> (CallOutput, Arc<Playout>) {
        let p = Arc::new(Playout::default());
        (CallOutput { playout: p.clone() }, p)
    }

    #[tokio::test]
    async fn segment_plays_then_reports_position() {
        let (mut o, p) = out();
        o.capture_frame(mono_8k(vec![1; 400])).await.unwrap();
        let mut buf = [0i16; 160];
        assert!(p.take_packet(&mut buf));
        assert!(p.take_packet(&mut buf));
        assert!(p.take_packet(&mut buf));
        assert_eq!(&buf[..80], &[1; 80]);
        assert_eq!(&buf[80..], &[0; 80]);
        assert!(!p.take_packet(&mut buf));
        let fin = o.wait_for_playout().await;
        assert_eq!(fin.playback_position, Duration::from_millis(50));
        assert!(!fin.interrupted);
        assert_eq!(o.total_played(), Duration::from_millis(50));
    }

    #[tokio::test]
    async fn clear_drops_queue_at_once() {
        let (mut o, p) = out();
        o.capture_frame(mono_8k(vec![1; 8000])).await.unwrap();
        let mut buf = [0i16; 160];
        p.take_packet(&mut buf);
        o.clear_buffer();
        assert!(!p.take_packet(&mut buf));
        let fin = o.wait_for_playout().await;
        assert_eq!(fin.playback_position, Duration::from_millis(20));
        assert!(fin.interrupted);
    }

    #[tokio::test]
    async fn pause_keeps_audio_and_wrong_rate_is_refused() {
        let (mut o, p) = out();
        o.capture_frame(mono_8k(vec![1; 320])).await.unwrap();
        o.pause();
        let mut buf = [0i16; 160];
        assert!(!p.take_packet(&mut buf));
        o.resume();
        assert!(p.take_packet(&mut buf));
        let bad = AudioFrame {
            samples: vec![0; 320],
            sample_rate: 16000,
            channels: 1,
        };
        assert!(o.capture_frame(bad).await.is_err());
        p.close();
        assert!(matches!(
            o.capture_frame(mono_8k(vec![0; 10])).await,
            Err(VoiceError::Closed)
        ));
    }
}
