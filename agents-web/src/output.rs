//! [`WebAudioOutput`]: the agent's audio to the page, with playback position taken from the
//! page's own playback clock.
//!
//! Audio is cut into 20 ms messages and sent at once, up to [`WebConfig::playout_lead`] ahead
//! of the page's playback (then `capture_frame` waits): the page paces playout by its audio
//! clock. Positions are stream offsets in samples since the connection opened; the page reports
//! its playhead (`playout`), and answers `clear` with where the playhead was when it dropped its
//! queue (`cleared`), so an interrupted reply is truncated to what was actually played.
//!
//! `pause`/`resume` hold the page's playback (its playhead stops), so the pipeline can resume
//! after a false interruption.
//!
//! A client that does not report playout (`start` without `reports_playout`) gets an estimate
//! on the server's clock instead: audio plays in real time from when it was sent. A page that
//! stops reporting is waited for at most [`STALL_GRACE`] past the estimated end.
//!
//! [`WebConfig::playout_lead`]: crate::WebConfig::playout_lead

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use agents_voice::io::{AudioOutput, PlaybackFinished};
use agents_voice::{AudioError, AudioFrame, VoiceError, VoiceResult};
use futures::future::BoxFuture;
use futures::FutureExt;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::outbox::{Outbox, Outgoing};
use crate::protocol::{PlayoutReport, ServerMessage};

/// How long past the estimated end of playback a silent page is waited for.
pub const STALL_GRACE: Duration = Duration::from_secs(3);

/// How long an interrupted segment waits for the page's `cleared` answer.
pub const CLEAR_ACK_TIMEOUT: Duration = Duration::from_secs(1);

#[derive(Debug)]
struct Segment {
    /// Stream offset of its first sample.
    start: u64,
}

#[derive(Debug)]
struct Cleared {
    seq: u64,
    start: u64,
    len: u64,
    /// Playhead when the queue was dropped (the page's answer, or the server's estimate).
    head: Option<u64>,
    /// Last playhead the page reported before the clear (used if it never answers).
    fallback: u64,
    deadline: Instant,
}

#[derive(Debug)]
struct PlayState {
    rate: u32,
    reports_playout: bool,
    /// Samples sent to the page since the connection opened.
    sent: u64,
    /// The page's playhead (page clock), never decreasing.
    head: u64,
    /// Server-clock estimate: when the audio sent so far has played out (not paused).
    clock_end: Option<Instant>,
    /// Paused: audio left to play when playback resumes (server-clock estimate).
    paused_remaining: Option<Duration>,
    segment: Option<Segment>,
    cleared: Option<Cleared>,
    clear_seq: u64,
    closed: bool,
    last_report: PlayoutReport,
}

impl PlayState {
    fn samples(&self, d: Duration) -> u64 {
        (d.as_nanos() * u128::from(self.rate) / 1_000_000_000) as u64
    }

    fn duration(&self, samples: u64) -> Duration {
        Duration::from_nanos((u128::from(samples) * 1_000_000_000 / u128::from(self.rate)) as u64)
    }

    /// Audio left to play on the server's clock.
    fn remaining(&self, now: Instant) -> Duration {
        self.paused_remaining.unwrap_or_else(|| {
            self.clock_end
                .map(|e| e.saturating_duration_since(now))
                .unwrap_or_default()
        })
    }

    /// Playhead on the server's clock.
    fn estimate(&self, now: Instant) -> u64 {
        self.sent.saturating_sub(self.samples(self.remaining(now)))
    }

    /// Playhead by the clock in use.
    fn head_now(&self, now: Instant) -> u64 {
        if self.reports_playout {
            self.head
        } else {
            self.estimate(now)
        }
    }

    fn position(&self, head: u64, start: u64, len: u64) -> Duration {
        self.duration(head.saturating_sub(start).min(len))
    }
}

/// Playback state shared by a connection's reader (page reports) and its output.
#[derive(Debug)]
pub(crate) struct Playout {
    state: Mutex<PlayState>,
    changed: Notify,
    reports: tokio::sync::watch::Sender<PlayoutReport>,
}

impl Playout {
    pub(crate) fn new(rate: u32) -> Arc<Self> {
        Arc::new(Playout {
            state: Mutex::new(PlayState {
                rate,
                reports_playout: false,
                sent: 0,
                head: 0,
                clock_end: None,
                paused_remaining: None,
                segment: None,
                cleared: None,
                clear_seq: 0,
                closed: false,
                last_report: PlayoutReport::default(),
            }),
            changed: Notify::new(),
            reports: tokio::sync::watch::channel(PlayoutReport::default()).0,
        })
    }

    fn lock(&self) -> MutexGuard<'_, PlayState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Latest page reports, for the handler.
    pub(crate) fn subscribe(&self) -> tokio::sync::watch::Receiver<PlayoutReport> {
        self.reports.subscribe()
    }

    pub(crate) fn set_reports_playout(&self, on: bool) {
        self.lock().reports_playout = on;
    }

    /// A `playout` report from the page; a playhead beyond what was sent is a protocol error.
    pub(crate) fn on_report(&self, report: PlayoutReport) -> Result<(), String> {
        {
            let mut st = self.lock();
            if report.head > st.sent {
                return Err(format!(
                    "playout head {} is beyond the {} samples sent",
                    report.head, st.sent
                ));
            }
            st.head = st.head.max(report.head);
            st.last_report = report;
        }
        self.reports.send_replace(report);
        self.changed.notify_waiters();
        Ok(())
    }

    /// A `cleared` answer from the page.
    pub(crate) fn on_cleared(&self, seq: u64, head: u64) -> Result<(), String> {
        {
            let mut st = self.lock();
            if seq == 0 || seq > st.clear_seq {
                return Err(format!("cleared seq {seq} answers no clear"));
            }
            if head > st.sent {
                return Err(format!(
                    "cleared head {head} is beyond the {} samples sent",
                    st.sent
                ));
            }
            if let Some(c) = st.cleared.as_mut().filter(|c| c.seq == seq) {
                c.head.get_or_insert(head);
            }
        }
        self.changed.notify_waiters();
        Ok(())
    }

    /// The connection ended: outputs stop waiting and refuse new audio.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.changed.notify_waiters();
    }
}

/// The agent's audio to one page; an [`AudioOutput`] for the voice pipeline.
///
/// Frames must be mono at the server's sample rate (the pipeline resamples to
/// [`AudioOutput::sample_rate`]). Can pause: the page holds its queue until `resume`.
#[derive(Debug)]
pub struct WebAudioOutput {
    rate: u32,
    frame_samples: usize,
    lead: u64,
    carry: Vec<i16>,
    playout: Arc<Playout>,
    outbox: Outbox,
}

impl WebAudioOutput {
    pub(crate) fn new(rate: u32, lead: Duration, playout: Arc<Playout>, outbox: Outbox) -> Self {
        let frame_samples = (rate / 50) as usize;
        let lead = (lead.as_nanos() * u128::from(rate) / 1_000_000_000) as u64;
        WebAudioOutput {
            rate,
            frame_samples,
            lead: lead.max(frame_samples as u64),
            carry: Vec::new(),
            playout,
            outbox,
        }
    }

    /// The page's latest playback report (samples played, queued, playhead).
    pub fn playout_reports(&self) -> tokio::sync::watch::Receiver<PlayoutReport> {
        self.playout.subscribe()
    }

    /// Sends one audio message; under the lock so it is ordered with `clear`.
    fn send_chunk(&self, chunk: &[i16]) -> VoiceResult<()> {
        let mut st = self.playout.lock();
        if st.closed {
            return Err(VoiceError::Closed);
        }
        let mut bytes = Vec::with_capacity(chunk.len() * 2);
        for s in chunk {
            bytes.extend_from_slice(&s.to_le_bytes());
        }
        self.outbox
            .send(Outgoing::Audio(bytes))
            .map_err(|_| VoiceError::Closed)?;
        let now = Instant::now();
        st.sent += chunk.len() as u64;
        let d = st.duration(chunk.len() as u64);
        match &mut st.paused_remaining {
            Some(r) => *r += d,
            None => {
                let base = st.clock_end.filter(|e| *e > now).unwrap_or(now);
                st.clock_end = Some(base + d);
            }
        }
        Ok(())
    }

    /// Sends a control message; under the lock so it is ordered with audio.
    fn send_control(&self, st: &PlayState, msg: &ServerMessage) {
        if st.closed {
            return;
        }
        match serde_json::to_string(msg) {
            Ok(text) => {
                if self.outbox.send(Outgoing::Text(text)).is_err() {
                    tracing::debug!("control message after the page's connection closed");
                }
            }
            Err(e) => tracing::error!(error = %e, "control message not serialisable"),
        }
    }

    /// Waits while more than the lead is queued ahead of the playhead.
    async fn backpressure(&self) -> VoiceResult<()> {
        let mut give_up: Option<Instant> = None;
        loop {
            let notified = self.playout.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let wake = {
                let st = self.playout.lock();
                if st.closed {
                    return Err(VoiceError::Closed);
                }
                let now = Instant::now();
                let ahead = st.sent.saturating_sub(st.head_now(now));
                // While paused nothing drains; the pipeline must stay free to resume or
                // interrupt, so audio queues up beyond the lead instead of waiting.
                if ahead <= self.lead || st.paused_remaining.is_some() {
                    return Ok(());
                }
                let catch_up = now + st.duration(ahead - self.lead);
                if st.reports_playout {
                    let deadline = *give_up.get_or_insert(catch_up + STALL_GRACE);
                    if now >= deadline {
                        tracing::warn!("page stopped reporting playback; sending on");
                        return Ok(());
                    }
                    deadline
                } else {
                    catch_up
                }
            };
            tokio::select! {
                _ = &mut notified => {}
                _ = tokio::time::sleep_until(wake) => {}
            }
        }
    }
}

fn finished(playback_position: Duration, interrupted: bool) -> PlaybackFinished {
    PlaybackFinished {
        playback_position,
        interrupted,
    }
}

impl AudioOutput for WebAudioOutput {
    fn sample_rate(&self) -> u32 {
        self.rate
    }

    fn capture_frame(&mut self, frame: AudioFrame) -> BoxFuture<'_, VoiceResult<()>> {
        async move {
            if frame.sample_rate != self.rate || frame.channels != 1 {
                return Err(AudioError::FormatMismatch {
                    expected_rate: self.rate,
                    expected_channels: 1,
                    rate: frame.sample_rate,
                    channels: frame.channels,
                }
                .into());
            }
            {
                let mut st = self.playout.lock();
                if st.closed {
                    return Err(VoiceError::Closed);
                }
                if st.segment.is_none() {
                    st.segment = Some(Segment { start: st.sent });
                    st.cleared = None;
                }
            }
            self.carry.extend_from_slice(&frame.samples);
            let whole = self.carry.len() / self.frame_samples * self.frame_samples;
            if whole > 0 {
                let rest = self.carry.split_off(whole);
                let full = std::mem::replace(&mut self.carry, rest);
                for chunk in full.chunks(self.frame_samples) {
                    self.send_chunk(chunk)?;
                }
            }
            self.backpressure().await
        }
        .boxed()
    }

    fn flush(&mut self) {
        if self.carry.is_empty() {
            return;
        }
        let rest = std::mem::take(&mut self.carry);
        if self.send_chunk(&rest).is_err() {
            tracing::debug!("flush after the page's connection closed");
        }
    }

    fn clear_buffer(&mut self) {
        self.carry.clear();
        let mut st = self.playout.lock();
        let Some(seg) = st.segment.take() else {
            return;
        };
        let now = Instant::now();
        st.clear_seq += 1;
        let seq = st.clear_seq;
        let head = (!st.reports_playout).then(|| st.estimate(now));
        st.cleared = Some(Cleared {
            seq,
            start: seg.start,
            len: st.sent - seg.start,
            head,
            fallback: st.head,
            deadline: now + CLEAR_ACK_TIMEOUT,
        });
        st.clock_end = None;
        if st.paused_remaining.is_some() {
            st.paused_remaining = Some(Duration::ZERO);
        }
        // Everything sent is now played or dropped by the page.
        st.head = st.sent;
        self.send_control(&st, &ServerMessage::Clear { seq });
    }

    fn can_pause(&self) -> bool {
        true
    }

    fn pause(&mut self) {
        let mut st = self.playout.lock();
        if st.paused_remaining.is_none() {
            let now = Instant::now();
            st.paused_remaining = Some(st.remaining(now));
            st.clock_end = None;
            self.send_control(&st, &ServerMessage::Pause);
        }
    }

    fn resume(&mut self) {
        let mut st = self.playout.lock();
        if let Some(r) = st.paused_remaining.take() {
            st.clock_end = Some(Instant::now() + r);
            self.send_control(&st, &ServerMessage::Resume);
        }
    }

    fn wait_for_playout(&mut self) -> BoxFuture<'_, PlaybackFinished> {
        async move {
            self.flush();
            loop {
                let notified = self.playout.changed.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                let wake = {
                    let mut st = self.playout.lock();
                    let now = Instant::now();
                    if let Some(c) = &st.cleared {
                        let answered = c.head.or_else(|| {
                            (st.closed || now >= c.deadline).then(|| {
                                tracing::warn!(seq = c.seq, "page did not answer clear in time");
                                c.fallback
                            })
                        });
                        match answered {
                            Some(h) => {
                                let pos = st.position(h, c.start, c.len);
                                st.cleared = None;
                                return finished(pos, true);
                            }
                            None => c.deadline,
                        }
                    } else {
                        let Some(start) = st.segment.as_ref().map(|s| s.start) else {
                            return finished(Duration::ZERO, false);
                        };
                        let len = st.sent - start;
                        let head = st.head_now(now);
                        if head >= st.sent {
                            st.segment = None;
                            return finished(st.duration(len), false);
                        }
                        if st.closed {
                            st.segment = None;
                            return finished(st.position(head, start, len), true);
                        }
                        let end = st.clock_end.unwrap_or(now);
                        if st.paused_remaining.is_some() {
                            // Held: only resume or clear (by the owner, after this future
                            // is dropped) or the page going away ends it.
                            now + Duration::from_secs(3600)
                        } else if !st.reports_playout {
                            end
                        } else if now >= end + STALL_GRACE {
                            tracing::warn!("page stopped reporting playback; segment ends");
                            st.segment = None;
                            return finished(st.position(head, start, len), false);
                        } else {
                            end + STALL_GRACE
                        }
                    }
                };
                tokio::select! {
                    _ = &mut notified => {}
                    _ = tokio::time::sleep_until(wake) => {}
                }
            }
        }
        .boxed()
    }
}
