//! Hearing an agent without a phone: a recorded caller (WAV) goes through the voice pipeline
//! and the agent's side is written to a WAV file, aligned with the caller's, plus an optional
//! console-style transcript.
//!
//! The caller is played in **real time** (a 30 s recording takes about 30 s plus the agent's
//! last answer): turn-taking, interruptions and provider latencies then behave as on a call.
//! Tests get the same code path in milliseconds by running it on tokio's paused clock with
//! the fakes of [`crate::testing::fakes`].

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agents_core::agent::Agent;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::audio::{read_wav, write_wav, AudioFrame};
use crate::error::{AudioError, VoiceError};
use crate::io::{InputEvent, WavAudioOutput};
use crate::pipeline::{AgentState, PipelineError, TimedEvent, VoiceEvent, VoiceSessionBuilder};

/// Caller audio is fed in frames this long.
const FRAME: Duration = Duration::from_millis(20);
/// After the recording ends, silence is fed until the agent has been quiet this long.
const SETTLE: Duration = Duration::from_secs(2);
/// ... but no longer than this.
const MAX_TAIL: Duration = Duration::from_secs(60);

/// What a file run produced.
#[derive(Debug)]
pub struct FileModeReport {
    /// Length of the caller's recording.
    pub caller_duration: Duration,
    /// Length of the agent WAV written (the call's length).
    pub agent_duration: Duration,
    /// Every voice event of the run.
    pub events: Vec<TimedEvent>,
}

/// Why a file run failed.
#[derive(Debug, thiserror::Error)]
pub enum FileModeError {
    /// The caller WAV could not be read, or the agent WAV / transcript not written.
    #[error("{path}: {error}")]
    File {
        /// The file.
        path: String,
        /// What went wrong.
        error: String,
    },
    /// The pipeline failed (e.g. a provider's error budget was spent).
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
}

fn file_error(path: &Path, error: impl ToString) -> FileModeError {
    FileModeError::File {
        path: path.display().to_string(),
        error: error.to_string(),
    }
}

/// Runs `agent` on a recorded caller.
///
/// `voice` is the configured pipeline (session, VAD, STT, TTS, options; not started).
/// `caller_wav` is read (any rate, mono or stereo) and played in real time; the agent's audio
/// is written to `out_wav` at the caller's sample rate, mono, placed where it played (so the
/// two files can be mixed sample for sample). With `transcript`, a console-style transcript
/// (user and agent lines, interruptions, metrics) is written there. The session is closed at
/// the end.
pub async fn run_file<A: Agent>(
    voice: VoiceSessionBuilder,
    agent: A,
    caller_wav: &Path,
    out_wav: &Path,
    transcript: Option<&Path>,
) -> Result<FileModeReport, FileModeError> {
    let caller = read_wav(caller_wav).map_err(|e| file_error(caller_wav, e))?;
    if caller.samples.is_empty() {
        return Err(file_error(
            caller_wav,
            AudioError::Wav("the recording is empty".into()),
        ));
    }
    let rate = caller.sample_rate;
    let caller_duration = caller.duration();
    let mut voice = voice;
    let mut events_rx = voice.subscribe();
    let output = WavAudioOutput::new(rate);
    let track = output.track();
    let (tx, rx) = mpsc::channel(64);
    let handle = voice.start(agent, rx, output).await?;

    // Follow the agent's state and collect events.
    let busy = Arc::new(AtomicBool::new(false));
    let quiet_since = Arc::new(AtomicU64::new(0));
    let origin = Instant::now();
    let events = Arc::new(Mutex::new(Vec::new()));
    let collector = {
        let (busy, quiet_since, events) = (busy.clone(), quiet_since.clone(), events.clone());
        tokio::spawn(async move {
            while let Some(ev) = events_rx.recv().await {
                if let VoiceEvent::AgentState { new, .. } = ev.event {
                    let is_busy = new != AgentState::Listening;
                    busy.store(is_busy, Ordering::SeqCst);
                    if !is_busy {
                        quiet_since.store(ev.at.as_millis() as u64, Ordering::SeqCst);
                    }
                }
                events.lock().unwrap_or_else(|p| p.into_inner()).push(ev);
            }
        })
    };

    let feed = feed_caller(&caller, &tx, origin, &busy, &quiet_since).await;
    let _ = tx.send(InputEvent::Hangup).await;
    let result = handle.join().await;
    let call = origin.elapsed();
    collector.abort();
    let _ = collector.await;
    let events = std::mem::take(&mut *events.lock().unwrap_or_else(|p| p.into_inner()));
    feed?;
    result?;

    let agent_audio = WavAudioOutput::take_frame(&track, rate, call);
    let agent_duration = agent_audio.duration();
    write_wav(out_wav, &agent_audio).map_err(|e| file_error(out_wav, e))?;
    if let Some(path) = transcript {
        std::fs::write(path, transcript_text(&events)).map_err(|e| file_error(path, e))?;
    }
    Ok(FileModeReport {
        caller_duration,
        agent_duration,
        events,
    })
}

/// Plays the caller in real time, then silence until the agent settles.
async fn feed_caller(
    caller: &AudioFrame,
    tx: &mpsc::Sender<InputEvent>,
    origin: Instant,
    busy: &AtomicBool,
    quiet_since: &AtomicU64,
) -> Result<(), FileModeError> {
    let ch = usize::from(caller.channels);
    let per_frame = (FRAME.as_secs_f64() * f64::from(caller.sample_rate)) as usize * ch;
    let mut sent = Duration::ZERO;
    for chunk in caller.samples.chunks(per_frame.max(ch)) {
        let frame = AudioFrame::new(chunk.to_vec(), caller.sample_rate, caller.channels)
            .map_err(VoiceError::from)
            .map_err(PipelineError::from)?;
        sent += frame.duration();
        tokio::time::sleep_until(origin + sent).await;
        if tx.send(InputEvent::Audio(frame)).await.is_err() {
            return Ok(()); // The pipeline ended (its error is reported by join).
        }
    }
    let end = sent;
    loop {
        let quiet = !busy.load(Ordering::SeqCst)
            && sent.saturating_sub(Duration::from_millis(quiet_since.load(Ordering::SeqCst)))
                >= SETTLE;
        if (quiet && sent >= end + SETTLE) || sent >= end + MAX_TAIL {
            return Ok(());
        }
        let frame = AudioFrame::silence(caller.sample_rate, caller.channels, FRAME);
        sent += FRAME;
        tokio::time::sleep_until(origin + sent).await;
        if tx.send(InputEvent::Audio(frame)).await.is_err() {
            return Ok(());
        }
    }
}

/// Console-style lines: `[  3.000s] user: ...`, `[  5.500s] agent: ...`, and the events that
/// have a transcript line (metrics, interruptions, errors).
pub fn transcript_text(events: &[TimedEvent]) -> String {
    let mut out = String::new();
    for ev in events {
        let line = match &ev.event {
            VoiceEvent::UserTurnCommitted { text } => format!("user: {text}"),
            VoiceEvent::SpeechCommitted {
                text, interrupted, ..
            } => format!(
                "agent: {text}{}",
                if *interrupted { " [interrupted]" } else { "" }
            ),
            VoiceEvent::AgentState { .. }
            | VoiceEvent::UserState { .. }
            | VoiceEvent::UserTranscript { .. } => continue,
            other => match other.transcript_line() {
                Some(l) => l,
                None => continue,
            },
        };
        out.push_str(&format!("[{:7.3}s] {line}\n", ev.at.as_secs_f64()));
    }
    out
}
