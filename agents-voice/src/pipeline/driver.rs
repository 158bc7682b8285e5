//! The pipeline's main loop: user audio → VAD/STT → endpointing → user turns; session text →
//! speeches → playout; interruptions, false-interruption resume, metrics and the error budget.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agents_core::session::{AgentSession, InputModality, SessionEvent};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::events::{AgentState, InterruptionCause, TimedEvent, UserState, VoiceEvent};
use super::input_path::InputPath;
use super::options::{SayOptions, VoiceOptions};
use super::playout::{PlayoutCmd, PlayoutReport};
use super::speeches::SpeechBook;
use super::turn_limit::TurnLimitCounter;
use super::turns::{Op, TurnDone};
use super::PipelineError;

mod replies;
use crate::io::{AudioInput, InputEvent};
use crate::metrics::TurnAnchors;
use crate::stt::{SpeechEventKind, Stt, SttInput};
use crate::vad::{VadEvent, VadEventKind};

/// Requests from a [`VoiceHandle`](super::VoiceHandle).
pub(crate) enum DriverCmd {
    Interrupt,
    Say(String, SayOptions),
    UserText(String),
    Close,
}

pub(crate) type Subscribers = Arc<Mutex<Vec<mpsc::UnboundedSender<TimedEvent>>>>;

/// Which component an error budget counts.
#[derive(Clone, Copy)]
enum Component {
    Stt = 0,
    Llm = 1,
    Tts = 2,
}

impl Component {
    fn name(self) -> &'static str {
        ["stt", "llm", "tts"][self as usize]
    }
}

/// Channels the loop reads.
pub(crate) struct Inputs {
    pub audio: AudioInput,
    pub session_events: mpsc::UnboundedReceiver<SessionEvent>,
    pub cmds: mpsc::UnboundedReceiver<DriverCmd>,
    pub playout: mpsc::UnboundedReceiver<PlayoutReport>,
    pub turns: mpsc::UnboundedReceiver<TurnDone>,
}

pub(crate) struct Driver {
    pub opts: VoiceOptions,
    pub session: Arc<AgentSession>,
    pub subscribers: Subscribers,
    pub origin: Instant,
    pub input: InputPath,
    pub stt: Arc<dyn Stt>,
    pub playout: mpsc::UnboundedSender<PlayoutCmd>,
    pub ops: mpsc::UnboundedSender<Op>,
    pub can_pause: bool,
    // STT stream.
    stt_in: Option<mpsc::Sender<SttInput>>,
    stt_events: Option<mpsc::Receiver<crate::error::VoiceResult<crate::stt::SpeechEvent>>>,
    stt_retry_at: Option<Instant>,
    // States.
    agent_state: AgentState,
    user_state: UserState,
    // Endpointing.
    user_speaking: bool,
    speech_start: Option<Instant>,
    last_speaking: Option<Instant>,
    last_final: Option<Instant>,
    transcript: String,
    interim: String,
    commit_at: Option<Instant>,
    /// A turn waits for an uninterruptible speech to end.
    commit_after_speech: bool,
    // Replies.
    /// User turns committed and not finished (sent or deferred).
    turns_in_flight: usize,
    /// User turns sent to the session and not finished.
    turns_sent: usize,
    book: SpeechBook,
    playing: Option<u64>,
    paused: bool,
    resume_at: Option<Instant>,
    pending_say: VecDeque<(String, SayOptions)>,
    deferred: VecDeque<Op>,
    e2e_anchor: Option<Instant>,
    errors: [u32; 3],
    turn_limit: TurnLimitCounter,
}

impl Driver {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        opts: VoiceOptions,
        session: Arc<AgentSession>,
        subscribers: Subscribers,
        input: InputPath,
        stt: Arc<dyn Stt>,
        playout: mpsc::UnboundedSender<PlayoutCmd>,
        ops: mpsc::UnboundedSender<Op>,
        can_pause: bool,
    ) -> Self {
        Driver {
            opts,
            session,
            subscribers,
            origin: Instant::now(),
            input,
            stt,
            playout,
            ops,
            can_pause,
            stt_in: None,
            stt_events: None,
            stt_retry_at: None,
            agent_state: AgentState::Initializing,
            user_state: UserState::Listening,
            user_speaking: false,
            speech_start: None,
            last_speaking: None,
            last_final: None,
            transcript: String::new(),
            interim: String::new(),
            commit_at: None,
            commit_after_speech: false,
            turns_in_flight: 0,
            turns_sent: 0,
            book: SpeechBook::default(),
            playing: None,
            paused: false,
            resume_at: None,
            pending_say: VecDeque::new(),
            deferred: VecDeque::new(),
            e2e_anchor: None,
            errors: [0; 3],
            turn_limit: TurnLimitCounter::default(),
        }
    }

    fn emit(&self, event: VoiceEvent) {
        self.emit_at(Instant::now(), event);
    }

    fn emit_at(&self, at: Instant, event: VoiceEvent) {
        let ev = TimedEvent {
            at: at.saturating_duration_since(self.origin),
            event,
        };
        tracing::debug!(at = ?ev.at, event = ?ev.event, "voice event");
        let mut subs = self.subscribers.lock().unwrap_or_else(|p| p.into_inner());
        subs.retain(|s| s.send(ev.clone()).is_ok());
    }

    /// Runs until hangup, close, or a spent error budget.
    pub async fn run(mut self, mut inputs: Inputs) -> Result<(), PipelineError> {
        self.open_stt()?;
        self.set_agent_state(AgentState::Listening);
        let result = self.main_loop(&mut inputs).await;
        self.emit(VoiceEvent::Closed {
            error: result.as_ref().err().map(|e| e.to_string()),
        });
        self.session.close().await;
        result
    }

    async fn main_loop(&mut self, inputs: &mut Inputs) -> Result<(), PipelineError> {
        loop {
            let deadline = [self.commit_at, self.resume_at, self.stt_retry_at]
                .into_iter()
                .flatten()
                .min();
            tokio::select! {
                biased;
                ev = inputs.session_events.recv() => match ev {
                    Some(ev) => self.on_session_event(ev),
                    None => return Ok(()),
                },
                cmd = inputs.cmds.recv() => match cmd {
                    Some(DriverCmd::Close) | None => return Ok(()),
                    Some(cmd) => self.on_cmd(cmd),
                },
                rep = inputs.playout.recv() => match rep {
                    Some(rep) => self.on_playout(rep)?,
                    None => return Err(PipelineError::Stopped("playout")),
                },
                done = inputs.turns.recv() => match done {
                    Some(done) => {
                        // The turn's events are all queued by now: handle them first.
                        while let Ok(ev) = inputs.session_events.try_recv() {
                            self.on_session_event(ev);
                        }
                        self.on_turn_done(done)?;
                    }
                    None => return Err(PipelineError::Stopped("session worker")),
                },
                ev = recv_stt(&mut self.stt_events) => self.on_stt(ev)?,
                _ = sleep_until(deadline) => self.on_timer()?,
                input = inputs.audio.recv() => match input {
                    Some(InputEvent::Audio(frame)) => self.on_audio(&frame),
                    Some(InputEvent::Dtmf(d)) => self.submit(Op::Dtmf(d.to_string())),
                    Some(InputEvent::Hangup) | None => return Ok(()),
                },
            }
            self.update_agent_state();
        }
    }

    // ----- input, VAD, STT -----

    fn open_stt(&mut self) -> Result<(), PipelineError> {
        match self.stt.stream() {
            Ok(s) => {
                self.stt_in = Some(s.input);
                self.stt_events = Some(s.events);
                self.stt_retry_at = None;
                Ok(())
            }
            Err(e) => self.stt_failed(e.to_string()),
        }
    }

    fn stt_failed(&mut self, message: String) -> Result<(), PipelineError> {
        self.stt_in = None;
        self.stt_events = None;
        self.count_error(Component::Stt, message)?;
        self.stt_retry_at = Some(Instant::now() + self.opts.stt_reconnect_interval);
        Ok(())
    }

    fn on_audio(&mut self, frame: &crate::audio::AudioFrame) {
        let (frame, events) = match self.input.push(frame) {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(error = %e, "dropped an input frame");
                return;
            }
        };
        if let Some(tx) = &self.stt_in {
            if tx.try_send(SttInput::Audio(frame)).is_err() {
                tracing::warn!(
                    stt = self.stt.label(),
                    "STT input is full; a frame was dropped"
                );
            }
        }
        for ev in events {
            self.on_vad(ev);
        }
    }

    fn on_vad(&mut self, ev: VadEvent) {
        let now = Instant::now();
        match ev.kind {
            VadEventKind::StartOfSpeech => {
                self.user_speaking = true;
                let start = now.checked_sub(ev.speech_duration).unwrap_or(now);
                if self.speech_start.is_none() || self.transcript.is_empty() {
                    self.speech_start = Some(start);
                }
                // New speech cancels a pending commit and a pending resume.
                self.commit_at = None;
                self.resume_at = None;
                self.set_user_state(UserState::Speaking, start);
            }
            VadEventKind::InferenceDone => {
                if ev.speaking && ev.speech_duration >= self.opts.interruption.min_duration {
                    self.on_user_activity();
                }
                if ev.speaking {
                    self.check_turn_limit(ev.speech_duration);
                }
            }
            VadEventKind::EndOfSpeech => {
                self.user_speaking = false;
                let stop = now.checked_sub(ev.silence_duration).unwrap_or(now);
                self.last_speaking = Some(stop);
                self.set_user_state(UserState::Listening, now);
                self.turn_limit.utterance_ended(ev.speech_duration);
                if self.paused {
                    if let Some(t) = self.opts.interruption.false_interruption_timeout {
                        self.resume_at = Some(now + t);
                    }
                }
                self.try_commit();
            }
        }
    }

    fn on_stt(
        &mut self,
        ev: Option<crate::error::VoiceResult<crate::stt::SpeechEvent>>,
    ) -> Result<(), PipelineError> {
        let ev = match ev {
            Some(Ok(ev)) => ev,
            Some(Err(e)) => return self.stt_failed(e.to_string()),
            None => return self.stt_failed("the STT stream ended".into()),
        };
        let text = ev.text().trim().to_string();
        let language = ev.alternatives.first().and_then(|a| a.language.clone());
        match ev.kind {
            SpeechEventKind::InterimTranscript => {
                self.interim = text.clone();
                self.emit(VoiceEvent::UserTranscript {
                    text,
                    is_final: false,
                    language,
                });
                self.check_turn_limit(Duration::ZERO);
            }
            SpeechEventKind::FinalTranscript if !text.is_empty() => {
                self.errors[Component::Stt as usize] = 0;
                self.interim.clear();
                if !self.transcript.is_empty() {
                    self.transcript.push(' ');
                }
                self.transcript.push_str(&text);
                self.last_final = Some(Instant::now());
                self.emit(VoiceEvent::UserTranscript {
                    text,
                    is_final: true,
                    language,
                });
                self.check_turn_limit(Duration::ZERO);
                let min_words = self.opts.interruption.min_words;
                let enough = min_words == 0 || self.words() >= min_words;
                if (self.paused || self.interruptible_reply()) && enough {
                    self.interrupt_by_user(InterruptionCause::Transcript, false);
                }
                if !self.user_speaking {
                    self.try_commit();
                }
            }
            _ => {}
        }
        Ok(())
    }

    // ----- endpointing -----

    fn words(&self) -> usize {
        count_words(&self.transcript) + count_words(&self.interim)
    }

    /// Reports the user turn limit once it is passed; `speaking` is the current
    /// utterance's speech so far.
    fn check_turn_limit(&mut self, speaking: Duration) {
        let limit = &self.opts.user_turn_limit;
        if limit.max_words.is_none() && limit.max_duration.is_none() {
            return;
        }
        let mut pending = self.transcript.clone();
        if !self.interim.is_empty() {
            if !pending.is_empty() {
                pending.push(' ');
            }
            pending.push_str(&self.interim);
        }
        let words = self.words();
        if let Some(x) = self.turn_limit.check(limit, &pending, words, speaking) {
            self.emit(VoiceEvent::UserTurnExceeded {
                transcript: x.transcript,
                words: x.words,
                duration: x.duration.as_secs_f64(),
            });
        }
    }

    fn try_commit(&mut self) {
        self.commit_at = None;
        if self.transcript.trim().is_empty() || self.user_speaking {
            return;
        }
        let now = Instant::now();
        let anchor = self.last_speaking.or(self.last_final).unwrap_or(now);
        let due = anchor + self.opts.endpointing.min_delay;
        if now < due {
            self.commit_at = Some(due);
            return;
        }
        let min_words = self.opts.interruption.min_words;
        if min_words > 0 && self.interruptible_reply() && self.words() < min_words {
            // Too short to interrupt: keep it for the next turn.
            return;
        }
        if self.book.current().is_some_and(|s| !s.allow_interruptions) {
            self.commit_after_speech = true;
            return;
        }
        self.commit(now);
    }

    fn commit(&mut self, now: Instant) {
        self.commit_after_speech = false;
        let text = std::mem::take(&mut self.transcript);
        let words = count_words(&text);
        self.turn_limit.committed(&text, words);
        self.interim.clear();
        let rel = |t: Instant| t.saturating_duration_since(self.origin);
        let anchors = TurnAnchors {
            speech_start: self.speech_start.map(rel),
            last_speaking: self.last_speaking.map(rel),
            last_final: self.last_final.map(rel),
        };
        if let Some(m) = anchors.end_of_utterance(rel(now)) {
            self.emit(VoiceEvent::Metrics(m));
        }
        self.e2e_anchor = self.last_speaking;
        self.speech_start = None;
        self.last_final = None;
        self.emit(VoiceEvent::UserTurnCommitted { text: text.clone() });
        self.start_user_turn(text, InputModality::Audio);
    }

    // ----- interruptions -----

    fn reply_active(&self) -> bool {
        self.active_turns() > 0 || self.book.pending()
    }

    fn active_turns(&self) -> usize {
        let muted = self
            .book
            .truncation
            .as_ref()
            .is_some_and(|t| t.awaiting_turn);
        self.turns_in_flight - usize::from(muted && self.turns_in_flight > 0)
    }

    fn interruptible_reply(&self) -> bool {
        self.opts.interruption.enabled
            && self.reply_active()
            && self.book.current().is_none_or(|s| s.allow_interruptions)
    }

    /// User speech long enough to interrupt.
    fn on_user_activity(&mut self) {
        if self.paused || !self.interruptible_reply() {
            return;
        }
        let min_words = self.opts.interruption.min_words;
        if min_words > 0 && self.words() < min_words {
            return;
        }
        self.interrupt_by_user(InterruptionCause::UserSpeech, true);
    }

    fn interrupt_by_user(&mut self, cause: InterruptionCause, may_pause: bool) {
        let i = &self.opts.interruption;
        let pause = may_pause
            && self.can_pause
            && self.playing.is_some()
            && i.resume_false_interruption
            && i.false_interruption_timeout.is_some();
        if pause {
            self.paused = true;
            let _ = self.playout.send(PlayoutCmd::Pause);
            self.emit(VoiceEvent::SpeechPaused);
        } else {
            self.interrupt_all(cause);
        }
    }

    /// Stops the reply: LLM, playout and queue; the history will keep what was heard.
    fn interrupt_all(&mut self, cause: InterruptionCause) {
        self.emit(VoiceEvent::Interrupted { cause });
        self.session.interrupt();
        let _ = self.playout.send(PlayoutCmd::Interrupt);
        // Only a turn the session is running can still produce text; a deferred one waits
        // for this very truncation.
        self.book.interrupt_all(self.turns_sent > 0);
        self.paused = false;
        self.resume_at = None;
    }

    fn resume_false_interruption(&mut self) {
        self.resume_at = None;
        if !self.paused {
            return;
        }
        if !self.transcript.trim().is_empty() {
            // A turn decision is open: it will interrupt or be dropped; keep waiting.
            return;
        }
        self.paused = false;
        let _ = self.playout.send(PlayoutCmd::Resume);
        self.emit(VoiceEvent::FalseInterruption { resumed: true });
    }

    fn on_timer(&mut self) -> Result<(), PipelineError> {
        let now = Instant::now();
        if self.commit_at.is_some_and(|t| t <= now) {
            self.try_commit();
        }
        if self.resume_at.is_some_and(|t| t <= now) {
            self.resume_false_interruption();
        }
        if self.stt_retry_at.is_some_and(|t| t <= now) {
            self.open_stt()?;
        }
        Ok(())
    }

    // ----- states and errors -----

    fn set_user_state(&mut self, new: UserState, at: Instant) {
        if new != self.user_state {
            let old = std::mem::replace(&mut self.user_state, new);
            self.emit_at(at, VoiceEvent::UserState { old, new });
        }
    }

    fn set_agent_state(&mut self, new: AgentState) {
        if new != self.agent_state {
            if new == AgentState::Speaking {
                self.turn_limit.reset();
            }
            let old = std::mem::replace(&mut self.agent_state, new);
            self.emit(VoiceEvent::AgentState { old, new });
        }
    }

    fn update_agent_state(&mut self) {
        let new = if self.paused {
            AgentState::Listening
        } else if self.playing.is_some() {
            AgentState::Speaking
        } else if self.active_turns() > 0 || self.book.pending() {
            AgentState::Thinking
        } else {
            AgentState::Listening
        };
        self.set_agent_state(new);
    }

    fn count_error(&mut self, c: Component, message: String) -> Result<(), PipelineError> {
        let n = &mut self.errors[c as usize];
        *n += 1;
        let count = *n;
        let fatal = count >= self.opts.max_unrecoverable_errors;
        tracing::warn!(component = c.name(), count, fatal, %message, "voice pipeline error");
        self.emit(VoiceEvent::Error {
            component: c.name().into(),
            message: message.clone(),
            fatal,
        });
        if fatal {
            return Err(PipelineError::TooManyErrors {
                component: c.name(),
                count,
                last: message,
            });
        }
        Ok(())
    }
}

/// Words as interruptions and the turn limit count them (tokens with a letter or digit).
fn count_words(text: &str) -> usize {
    text.split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count()
}

async fn recv_stt(
    rx: &mut Option<mpsc::Receiver<crate::error::VoiceResult<crate::stt::SpeechEvent>>>,
) -> Option<crate::error::VoiceResult<crate::stt::SpeechEvent>> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}
