//! Playout: one task that owns the TTS and the audio output and plays the speech queue.
//!
//! Each speech gets its own TTS stream. Its text arrives as the LLM streams it, is split into
//! segments at paragraph breaks (one TTS flush each), filtered for speech, and the audio is
//! resampled to the output's rate and captured as it comes. Commands (interrupt, pause,
//! resume, new speech) are handled between frames, so an interruption stops playout within
//! one output frame.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::heard::{heard_text, SegmentAudio};
use super::options::SpeechPriority;
use crate::audio::{AudioFrame, MonoResampler};
use crate::error::VoiceError;
use crate::io::{AudioOutput, PlaybackFinished};
use crate::text::TtsTextFilter;
use crate::tts::{Tts, TtsInput, TtsStream};
use std::sync::Arc;

/// A speech to play: its text streams in through `text` (closed = no more text).
pub(crate) struct SpeechJob {
    pub id: u64,
    pub priority: SpeechPriority,
    pub text: mpsc::UnboundedReceiver<String>,
}

/// Commands from the pipeline to the playout task.
pub(crate) enum PlayoutCmd {
    Enqueue(SpeechJob),
    /// Stop the current speech now and drop every queued one.
    Interrupt,
    Pause,
    Resume,
}

/// What the playout task reports back.
#[derive(Debug)]
pub(crate) enum PlayoutReport {
    /// The TTS sent a speech's first audio, `ttfb` after its first text.
    FirstAudio { ttfb: Duration },
    /// The speech's first frame went to the output.
    Started { id: u64, at: Instant },
    /// The speech ended (played, interrupted, dropped from the queue, or failed). Boxed: it
    /// is rare and large, and the channel's blocks are sized by the largest variant.
    Finished(Box<SpeechOutcome>),
}

/// How a speech ended.
#[derive(Debug)]
pub(crate) struct SpeechOutcome {
    pub id: u64,
    /// Whether any of it played.
    pub started: bool,
    pub playback: PlaybackFinished,
    /// The text the user heard ("" when nothing played).
    pub heard: String,
    /// The whole text of the speech received so far.
    pub full_text: String,
    /// Audio synthesized.
    pub audio: Duration,
    /// The TTS failed (after its own retries).
    pub error: Option<VoiceError>,
}

/// Runs until `cmds` closes.
pub(crate) async fn run_playout(
    tts: Arc<dyn Tts>,
    mut output: Box<dyn AudioOutput>,
    filter_text: bool,
    mut cmds: mpsc::UnboundedReceiver<PlayoutCmd>,
    reports: mpsc::UnboundedSender<PlayoutReport>,
) {
    let mut queue = SpeechQueue::default();
    loop {
        if let Some(job) = queue.pop() {
            let mut player = Player::new(&tts, output.as_mut(), &reports, job, filter_text);
            let interrupted = player.play(&mut cmds, &mut queue).await;
            if interrupted {
                for job in queue.drain() {
                    let _ = reports.send(PlayoutReport::Finished(Box::new(
                        SpeechOutcome::dropped(job.id),
                    )));
                }
            }
            continue;
        }
        match cmds.recv().await {
            None => return,
            Some(PlayoutCmd::Enqueue(job)) => queue.push(job),
            Some(PlayoutCmd::Interrupt) => {
                for job in queue.drain() {
                    let _ = reports.send(PlayoutReport::Finished(Box::new(
                        SpeechOutcome::dropped(job.id),
                    )));
                }
            }
            Some(PlayoutCmd::Pause) | Some(PlayoutCmd::Resume) => {}
        }
    }
}

impl SpeechOutcome {
    /// The outcome of a speech dropped before it played: nothing heard, marked interrupted.
    pub(crate) fn dropped(id: u64) -> Self {
        SpeechOutcome {
            id,
            started: false,
            playback: PlaybackFinished {
                playback_position: Duration::ZERO,
                interrupted: true,
            },
            heard: String::new(),
            full_text: String::new(),
            audio: Duration::ZERO,
            error: None,
        }
    }
}

/// Speeches waiting to play: highest priority first, FIFO within a priority.
#[derive(Default)]
struct SpeechQueue {
    jobs: Vec<(u64, SpeechJob)>,
    seq: u64,
}

impl SpeechQueue {
    fn push(&mut self, job: SpeechJob) {
        self.seq += 1;
        self.jobs.push((self.seq, job));
    }

    fn pop(&mut self) -> Option<SpeechJob> {
        let best = self
            .jobs
            .iter()
            .enumerate()
            .max_by_key(|(_, (seq, j))| (j.priority, std::cmp::Reverse(*seq)))
            .map(|(i, _)| i)?;
        Some(self.jobs.remove(best).1)
    }

    fn drain(&mut self) -> Vec<SpeechJob> {
        self.jobs.drain(..).map(|(_, j)| j).collect()
    }
}

/// Plays one speech.
struct Player<'a> {
    tts: &'a Arc<dyn Tts>,
    output: &'a mut dyn AudioOutput,
    reports: &'a mpsc::UnboundedSender<PlayoutReport>,
    job: SpeechJob,
    filter: Option<TtsTextFilter>,
    /// Text not yet sent (held until a paragraph break or the end).
    pending: String,
    segments: Vec<SegmentAudio>,
    /// Index of the segment the TTS audio currently belongs to.
    audio_segment: usize,
    first_text_at: Option<Instant>,
    got_audio: bool,
    started: bool,
    audio: Duration,
    /// Converts TTS audio to mono at the output's rate.
    to_output: MonoResampler,
    error: Option<VoiceError>,
}

impl<'a> Player<'a> {
    fn new(
        tts: &'a Arc<dyn Tts>,
        output: &'a mut dyn AudioOutput,
        reports: &'a mpsc::UnboundedSender<PlayoutReport>,
        job: SpeechJob,
        filter_text: bool,
    ) -> Self {
        Player {
            tts,
            to_output: MonoResampler::new(output.sample_rate()),
            output,
            reports,
            job,
            filter: filter_text.then(TtsTextFilter::new),
            pending: String::new(),
            segments: vec![SegmentAudio::default()],
            audio_segment: 0,
            first_text_at: None,
            got_audio: false,
            started: false,
            audio: Duration::ZERO,
            error: None,
        }
    }

    /// Plays the speech; returns whether it was interrupted by a command.
    async fn play(
        &mut self,
        cmds: &mut mpsc::UnboundedReceiver<PlayoutCmd>,
        queue: &mut SpeechQueue,
    ) -> bool {
        let (mut input, mut output) = match self.tts.stream() {
            Ok(TtsStream { input, output }) => (Some(input), Some(output)),
            Err(e) => {
                self.error = Some(e);
                (None, None)
            }
        };
        // Produce: text in, audio out, until the TTS output ends. The input is dropped after
        // the end of input, so a TTS that waits for its input to close finishes too.
        while let Some(out) = output.as_mut() {
            let mut close = false;
            tokio::select! {
                biased;
                cmd = cmds.recv() => match cmd {
                    Some(PlayoutCmd::Interrupt) | None => return self.interrupt().await,
                    Some(cmd) => self.other_cmd(cmd, queue),
                },
                audio = out.recv() => match audio {
                    Some(Ok(sa)) => {
                        if let Err(e) = self.on_audio(sa.frame, sa.is_final).await {
                            self.error = Some(e);
                            close = true;
                        }
                    }
                    Some(Err(e)) => {
                        tracing::warn!(tts = self.tts.label(), error = %e, "TTS failed");
                        self.error = Some(e);
                        close = true;
                    }
                    None => close = true,
                },
                text = self.job.text.recv(), if input.is_some() => {
                    let more = text.is_some();
                    if let Some(t) = text {
                        self.pending.push_str(&t);
                    }
                    if let Some(tx) = input.as_ref() {
                        if let Err(e) = self.send_text(tx, !more).await {
                            self.error = Some(e);
                            close = true;
                        }
                    }
                    if !more {
                        input = None;
                    }
                }
            }
            if close {
                output = None;
            }
        }
        drop(input);
        if self.error.is_none() {
            for seg in &mut self.segments {
                seg.complete = true;
            }
        }
        // Drain: wait until what was captured has played.
        self.output.flush();
        loop {
            tokio::select! {
                biased;
                cmd = cmds.recv() => match cmd {
                    Some(PlayoutCmd::Interrupt) | None => return self.interrupt().await,
                    Some(cmd) => self.other_cmd(cmd, queue),
                },
                fin = self.output.wait_for_playout() => {
                    self.finish(fin);
                    return false;
                }
            }
        }
    }

    fn other_cmd(&mut self, cmd: PlayoutCmd, queue: &mut SpeechQueue) {
        match cmd {
            PlayoutCmd::Enqueue(job) => queue.push(job),
            PlayoutCmd::Pause => self.output.pause(),
            PlayoutCmd::Resume => self.output.resume(),
            PlayoutCmd::Interrupt => {}
        }
    }

    async fn interrupt(&mut self) -> bool {
        let fin = if self.started {
            self.output.clear_buffer();
            self.output.wait_for_playout().await
        } else {
            PlaybackFinished {
                playback_position: Duration::ZERO,
                interrupted: true,
            }
        };
        // A paused output stays paused otherwise.
        self.output.resume();
        self.finish(PlaybackFinished {
            interrupted: true,
            ..fin
        });
        true
    }

    /// Sends complete segments (and, at `end`, the rest) to the TTS.
    async fn send_text(
        &mut self,
        input: &mpsc::Sender<TtsInput>,
        end: bool,
    ) -> Result<(), VoiceError> {
        while let Some(i) = self.pending.find("\n\n") {
            let seg: String = self.pending.drain(..i + 2).collect();
            self.send_segment_text(input, &seg, true, true).await?;
        }
        if end {
            let rest = std::mem::take(&mut self.pending);
            self.send_segment_text(input, &rest, true, false).await?;
            input
                .send(TtsInput::EndInput)
                .await
                .map_err(|_| VoiceError::Closed)?;
        } else if !self.pending.ends_with('\n') && !self.pending.is_empty() {
            let rest = std::mem::take(&mut self.pending);
            self.send_segment_text(input, &rest, false, false).await?;
        }
        Ok(())
    }

    async fn send_segment_text(
        &mut self,
        input: &mpsc::Sender<TtsInput>,
        text: &str,
        finish_filter: bool,
        ends_segment: bool,
    ) -> Result<(), VoiceError> {
        if let Some(seg) = self.segments.last_mut() {
            seg.text.push_str(text);
        }
        let spoken = match &mut self.filter {
            Some(f) if finish_filter => {
                let mut s = f.push(text);
                s.push_str(&f.finish());
                s
            }
            Some(f) => f.push(text),
            None => text.to_string(),
        };
        if !spoken.is_empty() {
            self.first_text_at.get_or_insert_with(Instant::now);
            input
                .send(TtsInput::Text(spoken))
                .await
                .map_err(|_| VoiceError::Closed)?;
        }
        if ends_segment {
            input
                .send(TtsInput::Flush)
                .await
                .map_err(|_| VoiceError::Closed)?;
            self.segments.push(SegmentAudio::default());
        }
        Ok(())
    }

    async fn on_audio(&mut self, frame: AudioFrame, is_final: bool) -> Result<(), VoiceError> {
        if !self.got_audio {
            self.got_audio = true;
            let ttfb = self.first_text_at.map(|t| t.elapsed()).unwrap_or_default();
            let _ = self.reports.send(PlayoutReport::FirstAudio { ttfb });
        }
        let frame = self.to_output.process_owned(frame)?;
        self.audio += frame.duration();
        if let Some(seg) = self.segments.get_mut(self.audio_segment) {
            seg.audio += frame.duration();
            if is_final {
                seg.complete = true;
            }
        }
        if is_final && self.audio_segment + 1 < self.segments.len() {
            self.audio_segment += 1;
        }
        if frame.is_empty() {
            return Ok(());
        }
        self.output.capture_frame(frame).await?;
        if !self.started {
            self.started = true;
            let _ = self.reports.send(PlayoutReport::Started {
                id: self.job.id,
                at: Instant::now(),
            });
        }
        Ok(())
    }

    fn finish(&mut self, playback: PlaybackFinished) {
        let full_text: String = self.segments.iter().map(|s| s.text.as_str()).collect();
        let full_text = format!("{full_text}{}", self.pending);
        let interrupted = playback.interrupted || self.error.is_some();
        let heard = if !self.started {
            String::new()
        } else if interrupted {
            heard_text(&self.segments, playback.playback_position)
        } else {
            full_text.clone()
        };
        let _ = self
            .reports
            .send(PlayoutReport::Finished(Box::new(SpeechOutcome {
                id: self.job.id,
                started: self.started,
                playback: PlaybackFinished {
                    interrupted,
                    ..playback
                },
                heard,
                full_text,
                audio: self.audio,
                error: self.error.take(),
            })));
    }
}
