//! The pipeline's audio seam: what transports (SIP, web, files, tests) implement.
//!
//! Input is a channel of [`InputEvent`]s in real-time order; output is an [`AudioOutput`] that
//! paces playout itself and reports how much of a segment was played. Two outputs live here:
//! [`TestAudioOutput`] (in memory, paced by tokio's clock, so tests run on paused time) and
//! [`WavAudioOutput`] (the same clock, and it keeps what was played for writing a WAV file).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;
use tokio::time::Instant;

use crate::audio::AudioFrame;
use crate::error::{AudioError, VoiceResult};

/// Audio from the user, as frames in real-time order (any rate; the pipeline resamples).
pub type AudioInput = tokio::sync::mpsc::Receiver<InputEvent>;

/// One item of user input.
#[derive(Clone, Debug, PartialEq)]
pub enum InputEvent {
    /// A frame of the user's audio.
    Audio(AudioFrame),
    /// A keypad digit (`0-9`, `*`, `#`, `A-D`).
    Dtmf(char),
    /// The user left (call ended); the pipeline stops.
    Hangup,
}

/// How a playback segment ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PlaybackFinished {
    /// How much of the segment was played.
    pub playback_position: Duration,
    /// Whether it was cut short by `clear_buffer`.
    pub interrupted: bool,
}

/// Where the agent's audio goes. Playout is paced by the implementation; frames may be
/// captured faster than real time.
pub trait AudioOutput: Send + 'static {
    /// Rate frames must have (the pipeline resamples to it).
    fn sample_rate(&self) -> u32;
    /// Queues a frame for playout; may wait (backpressure).
    fn capture_frame(&mut self, frame: AudioFrame) -> BoxFuture<'_, VoiceResult<()>>;
    /// Ends the current playback segment (no more frames for it).
    fn flush(&mut self);
    /// Stops playout now and drops what is queued.
    fn clear_buffer(&mut self);
    /// Whether [`pause`](Self::pause) works (needed for false-interruption resume).
    fn can_pause(&self) -> bool {
        false
    }
    /// Holds playout, keeping what is queued.
    fn pause(&mut self) {}
    /// Continues a paused playout.
    fn resume(&mut self) {}
    /// Resolves when the current segment finished playing or was cleared: how much was played.
    /// Cancel-safe: dropping the future and calling it again is fine.
    fn wait_for_playout(&mut self) -> BoxFuture<'_, PlaybackFinished>;
}

/// Playout timing shared by the in-memory outputs: queued audio drains in real time on
/// tokio's clock (paused time in tests).
#[derive(Debug, Default)]
struct PlayoutClock {
    /// Audio captured in the current segment.
    captured: Duration,
    /// When the queued audio runs out (not paused).
    end_at: Option<Instant>,
    /// Queued audio left while paused.
    paused_remaining: Option<Duration>,
    /// The segment has started (a frame was captured) and has not finished.
    active: bool,
    /// The result of a `clear_buffer`, handed out by the next `wait_for_playout`.
    cleared: Option<PlaybackFinished>,
}

impl PlayoutClock {
    fn remaining(&self, now: Instant) -> Duration {
        match self.paused_remaining {
            Some(r) => r,
            None => self
                .end_at
                .map(|e| e.saturating_duration_since(now))
                .unwrap_or_default(),
        }
    }

    fn played(&self, now: Instant) -> Duration {
        self.captured.saturating_sub(self.remaining(now))
    }

    /// Queues `d` of audio; returns the play position (within the segment) where it starts.
    fn push(&mut self, d: Duration, now: Instant) -> Duration {
        if !self.active {
            self.captured = Duration::ZERO;
            self.end_at = None;
            self.cleared = None;
            self.active = true;
        }
        let at = self.captured;
        self.captured += d;
        match &mut self.paused_remaining {
            Some(r) => *r += d,
            None => {
                let base = self.end_at.filter(|e| *e > now).unwrap_or(now);
                self.end_at = Some(base + d);
            }
        }
        at
    }

    /// Checks that a captured frame is mono at `rate` and queues it. Returns when it was
    /// captured, whether it starts a new segment, and where in the segment it plays.
    fn capture(&mut self, frame: &AudioFrame, rate: u32) -> VoiceResult<(Instant, bool, Duration)> {
        if frame.sample_rate != rate || frame.channels != 1 {
            return Err(AudioError::FormatMismatch {
                expected_rate: rate,
                expected_channels: 1,
                rate: frame.sample_rate,
                channels: frame.channels,
            }
            .into());
        }
        let now = Instant::now();
        let starts = !self.active;
        let at = self.push(frame.duration(), now);
        Ok((now, starts, at))
    }

    /// Clears the segment in progress, if any: what it had played.
    fn clear_active(&mut self) -> Option<PlaybackFinished> {
        self.active.then(|| self.clear(Instant::now()))
    }

    fn clear(&mut self, now: Instant) -> PlaybackFinished {
        let fin = PlaybackFinished {
            playback_position: self.played(now),
            interrupted: true,
        };
        self.active = false;
        self.end_at = None;
        if self.paused_remaining.is_some() {
            self.paused_remaining = Some(Duration::ZERO);
        }
        self.cleared = Some(fin);
        fin
    }

    fn pause(&mut self, now: Instant) {
        if self.paused_remaining.is_none() {
            self.paused_remaining = Some(self.remaining(now));
        }
    }

    fn resume(&mut self, now: Instant) {
        if let Some(r) = self.paused_remaining.take() {
            self.end_at = Some(now + r);
        }
    }

    /// Waits for the segment's end; `None` while paused (the caller waits to be woken).
    async fn wait(&mut self) -> PlaybackFinished {
        if let Some(fin) = self.cleared.take() {
            return fin;
        }
        if !self.active {
            return PlaybackFinished {
                playback_position: Duration::ZERO,
                interrupted: false,
            };
        }
        if self.paused_remaining.is_some() {
            // Paused: only resume() or clear_buffer() (after this future is dropped) ends it.
            futures::future::pending::<()>().await;
        }
        if let Some(end) = self.end_at {
            tokio::time::sleep_until(end).await;
        }
        self.active = false;
        PlaybackFinished {
            playback_position: self.captured,
            interrupted: false,
        }
    }
}

/// One playback segment as a [`TestAudioOutput`] saw it.
#[derive(Clone, Debug, PartialEq)]
pub struct PlaybackRecord {
    /// When its first frame started playing.
    pub started_at: Instant,
    /// How it ended (`None` while it plays).
    pub finished: Option<PlaybackFinished>,
    /// When it ended.
    pub finished_at: Option<Instant>,
}

/// What a [`TestAudioOutput`] did, for assertions; shared with the output.
#[derive(Clone, Debug, Default)]
pub struct OutputLog {
    /// Segments in the order they started.
    pub segments: Vec<PlaybackRecord>,
    /// Times `pause` was called.
    pub pauses: Vec<Instant>,
    /// Times `resume` was called.
    pub resumes: Vec<Instant>,
    /// Total audio captured.
    pub captured: Duration,
}

/// An in-memory [`AudioOutput`] that plays out on tokio's clock: with
/// `#[tokio::test(start_paused = true)]` a 10 s reply "plays" in microseconds of real time.
#[derive(Debug)]
pub struct TestAudioOutput {
    sample_rate: u32,
    pausable: bool,
    clock: PlayoutClock,
    log: Arc<Mutex<OutputLog>>,
}

impl TestAudioOutput {
    /// An output at `sample_rate` that cannot pause.
    pub fn new(sample_rate: u32) -> Self {
        TestAudioOutput {
            sample_rate,
            pausable: false,
            clock: PlayoutClock::default(),
            log: Arc::default(),
        }
    }

    /// The same output, able to pause (enables false-interruption resume).
    pub fn pausable(mut self) -> Self {
        self.pausable = true;
        self
    }

    /// A handle on what the output did, readable while the pipeline owns the output.
    pub fn log(&self) -> Arc<Mutex<OutputLog>> {
        self.log.clone()
    }

    fn with_log(&self, f: impl FnOnce(&mut OutputLog)) {
        f(&mut self.log.lock().unwrap_or_else(|p| p.into_inner()));
    }

    fn finish_record(&self, fin: PlaybackFinished) {
        let now = Instant::now();
        self.with_log(|log| {
            if let Some(seg) = log.segments.last_mut().filter(|s| s.finished.is_none()) {
                seg.finished = Some(fin);
                seg.finished_at = Some(now);
            }
        });
    }
}

impl AudioOutput for TestAudioOutput {
    fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    fn capture_frame(&mut self, frame: AudioFrame) -> BoxFuture<'_, VoiceResult<()>> {
        async move {
            let (now, starts, _) = self.clock.capture(&frame, self.sample_rate)?;
            self.with_log(|log| {
                log.captured += frame.duration();
                if starts {
                    log.segments.push(PlaybackRecord {
                        started_at: now,
                        finished: None,
                        finished_at: None,
                    });
                }
            });
            Ok(())
        }
        .boxed()
    }

    fn flush(&mut self) {}

    fn clear_buffer(&mut self) {
        if let Some(fin) = self.clock.clear_active() {
            self.finish_record(fin);
        }
    }

    fn can_pause(&self) -> bool {
        self.pausable
    }

    fn pause(&mut self) {
        if self.pausable {
            self.clock.pause(Instant::now());
            let now = Instant::now();
            self.with_log(|log| log.pauses.push(now));
        }
    }

    fn resume(&mut self) {
        if self.pausable {
            self.clock.resume(Instant::now());
            let now = Instant::now();
            self.with_log(|log| log.resumes.push(now));
        }
    }

    fn wait_for_playout(&mut self) -> BoxFuture<'_, PlaybackFinished> {
        async move {
            let was_active = self.clock.active;
            let fin = self.clock.wait().await;
            if was_active && !fin.interrupted {
                self.finish_record(fin);
            }
            fin
        }
        .boxed()
    }
}

/// An [`AudioOutput`] that keeps what was played, placed on the timeline where it played
/// (silence in between), so the agent's side of a call can be written as a WAV file aligned
/// with the caller's. Paced by tokio's clock like [`TestAudioOutput`]; audio cut by
/// `clear_buffer` is dropped. Cannot pause.
#[derive(Debug)]
pub struct WavAudioOutput {
    sample_rate: u32,
    origin: Instant,
    clock: PlayoutClock,
    /// Start of the current segment on the timeline (samples since `origin`).
    segment_start: usize,
    track: Arc<Mutex<Vec<i16>>>,
}

impl WavAudioOutput {
    /// An output at `sample_rate` whose timeline starts now.
    pub fn new(sample_rate: u32) -> Self {
        WavAudioOutput {
            sample_rate,
            origin: Instant::now(),
            clock: PlayoutClock::default(),
            segment_start: 0,
            track: Arc::default(),
        }
    }

    /// The played audio so far (shared; read it after the pipeline ends).
    pub fn track(&self) -> Arc<Mutex<Vec<i16>>> {
        self.track.clone()
    }

    /// The played audio as one frame, `total` long at least (padded with silence).
    pub fn take_frame(track: &Mutex<Vec<i16>>, sample_rate: u32, total: Duration) -> AudioFrame {
        let mut samples = track.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let want = (total.as_secs_f64() * f64::from(sample_rate)) as usize;
        if samples.len() < want {
            samples.resize(want, 0);
        }
        AudioFrame {
            samples,
            sample_rate,
            channels: 1,
        }
    }

    fn samples(&self, d: Duration) -> usize {
        (d.as_secs_f64() * f64::from(self.sample_rate)).round() as usize
    }
}

impl AudioOutput for WavAudioOutput {
    fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    fn capture_frame(&mut self, frame: AudioFrame) -> BoxFuture<'_, VoiceResult<()>> {
        async move {
            let (now, starts, at) = self.clock.capture(&frame, self.sample_rate)?;
            if starts {
                self.segment_start = self.samples(now - self.origin);
            }
            let start = self.segment_start + self.samples(at);
            let mut track = self.track.lock().unwrap_or_else(|p| p.into_inner());
            let end = start + frame.samples.len();
            if track.len() < end {
                track.resize(end, 0);
            }
            track[start..end].copy_from_slice(&frame.samples);
            Ok(())
        }
        .boxed()
    }

    fn flush(&mut self) {}

    fn clear_buffer(&mut self) {
        if let Some(fin) = self.clock.clear_active() {
            // Drop the audio that was queued but not played.
            let keep = self.segment_start + self.samples(fin.playback_position);
            let mut track = self.track.lock().unwrap_or_else(|p| p.into_inner());
            if track.len() > keep {
                track.truncate(keep);
            }
        }
    }

    fn wait_for_playout(&mut self) -> BoxFuture<'_, PlaybackFinished> {
        self.clock.wait().boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(ms: u64) -> AudioFrame {
        let n = (16 * ms) as usize;
        AudioFrame {
            samples: vec![1000; n],
            sample_rate: 16_000,
            channels: 1,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn plays_in_real_time_and_reports_position_on_clear() {
        let mut out = TestAudioOutput::new(16_000);
        let log = out.log();
        out.capture_frame(tone(1000)).await.unwrap();
        out.flush();
        tokio::time::sleep(Duration::from_millis(400)).await;
        out.clear_buffer();
        let fin = out.wait_for_playout().await;
        assert!(fin.interrupted);
        assert_eq!(fin.playback_position, Duration::from_millis(400));
        assert_eq!(log.lock().unwrap().segments.len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn pause_holds_playout() {
        let mut out = TestAudioOutput::new(16_000).pausable();
        out.capture_frame(tone(1000)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        out.pause();
        tokio::time::sleep(Duration::from_millis(500)).await;
        out.resume();
        let t0 = Instant::now();
        let fin = out.wait_for_playout().await;
        assert_eq!(t0.elapsed(), Duration::from_millis(700));
        assert_eq!(fin.playback_position, Duration::from_secs(1));
        assert!(!fin.interrupted);
    }

    #[tokio::test(start_paused = true)]
    async fn wrong_rate_is_refused() {
        let mut out = TestAudioOutput::new(24_000);
        assert!(out.capture_frame(tone(10)).await.is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn wav_output_places_audio_on_the_timeline() {
        let mut out = WavAudioOutput::new(16_000);
        let track = out.track();
        tokio::time::sleep(Duration::from_millis(500)).await;
        out.capture_frame(tone(1000)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(250)).await;
        out.clear_buffer();
        let t = track.lock().unwrap();
        assert_eq!(t.len(), 16 * 750);
        assert_eq!(t[16 * 500 - 1], 0);
        assert_eq!(t[16 * 500], 1000);
    }
}
