//! The reply side of the main loop: session text → speeches, playout reports, finished
//! turns, and the truncations an interruption owes the history.

use agents_core::llm::Role;
use agents_core::session::{InputModality, SessionEvent};
use tokio::sync::mpsc;

use super::{Component, Driver, DriverCmd};
use crate::metrics::Metric;
use crate::pipeline::events::{InterruptionCause, VoiceEvent};
use crate::pipeline::options::SayOptions;
use crate::pipeline::playout::{PlayoutCmd, PlayoutReport, SpeechJob, SpeechOutcome};
use crate::pipeline::speeches::Ended;
use crate::pipeline::turns::{Op, TurnDone};
use crate::pipeline::PipelineError;

impl Driver {
    // ----- session text → speeches -----

    pub(super) fn on_session_event(&mut self, ev: SessionEvent) {
        match ev {
            SessionEvent::TextDelta { content, .. } => self.on_text(content),
            SessionEvent::Message { role, content, .. } => match role {
                Role::Assistant => {
                    if self.book.open.is_none() && !content.trim().is_empty() {
                        self.on_text(content);
                    }
                    self.close_speech(true);
                }
                Role::User => {
                    self.close_speech(false);
                }
                _ => {}
            },
            SessionEvent::Usage {
                time_to_first_token_ms: Some(ms),
                ..
            } => self.emit(VoiceEvent::Metrics(Metric::LlmTtft { ttft: ms / 1000.0 })),
            _ => {}
        }
    }

    pub(super) fn on_text(&mut self, content: String) {
        if content.is_empty() {
            return;
        }
        let id = match self.book.open {
            Some(id) => id,
            None => {
                let opts = match self.pending_say.front() {
                    Some((t, _)) if *t == content => self
                        .pending_say
                        .pop_front()
                        .map(|(_, o)| o)
                        .unwrap_or_default(),
                    _ => SayOptions {
                        allow_interruptions: self.opts.interruption.enabled,
                        ..SayOptions::default()
                    },
                };
                let muted = self
                    .book
                    .truncation
                    .as_ref()
                    .is_some_and(|t| t.awaiting_turn);
                if muted {
                    // Text of an interrupted reply still in flight: never played.
                    let id = self.book.open(opts.allow_interruptions, None);
                    if let Some(t) = self.book.truncation.as_mut() {
                        t.members.insert(id);
                    }
                    if let Some(s) = self.book.speeches.get_mut(&id) {
                        s.interrupted = true;
                        s.outcome = Some(SpeechOutcome::dropped(id));
                    }
                    id
                } else {
                    let (tx, rx) = mpsc::unbounded_channel();
                    let id = self.book.open(opts.allow_interruptions, Some(tx));
                    let _ = self.playout.send(PlayoutCmd::Enqueue(SpeechJob {
                        id,
                        priority: opts.priority,
                        text: rx,
                    }));
                    id
                }
            }
        };
        if let Some(tx) = self.book.speeches.get(&id).and_then(|s| s.text_tx.as_ref()) {
            let _ = tx.send(content);
        }
    }

    pub(super) fn close_speech(&mut self, message: bool) {
        self.book.close_open(message);
        self.settle();
    }

    pub(super) fn on_playout(&mut self, rep: PlayoutReport) -> Result<(), PipelineError> {
        match rep {
            PlayoutReport::FirstAudio { ttfb, .. } => {
                self.emit(VoiceEvent::Metrics(Metric::TtsTtfb {
                    ttfb: ttfb.as_secs_f64(),
                }))
            }
            PlayoutReport::Started { id, at } => {
                self.playing = Some(id);
                self.emit_at(at, VoiceEvent::PlaybackStarted { speech_id: id });
                if let Some(stop) = self.e2e_anchor.take() {
                    let e2e = at.saturating_duration_since(stop).as_secs_f64();
                    self.emit_at(
                        at,
                        VoiceEvent::Metrics(Metric::E2eLatency { e2e_latency: e2e }),
                    );
                }
            }
            PlayoutReport::Finished(outcome) => {
                if self.playing == Some(outcome.id) {
                    self.playing = None;
                    self.paused = false;
                    self.resume_at = None;
                }
                if outcome.started {
                    self.emit(VoiceEvent::PlaybackFinished {
                        speech_id: outcome.id,
                        playback_position: outcome.playback.playback_position.as_secs_f64(),
                        interrupted: outcome.playback.interrupted,
                    });
                }
                if !outcome.audio.is_zero() {
                    self.emit(VoiceEvent::Metrics(Metric::TtsAudio {
                        audio_duration: outcome.audio.as_secs_f64(),
                    }));
                }
                let error = outcome.error.clone();
                let ok = outcome.started && error.is_none();
                self.book.set_outcome(*outcome);
                if let Some(e) = error {
                    self.count_error(Component::Tts, e.to_string())?;
                    // A TTS failure ends the whole reply, as an interruption would.
                    self.interrupt_all(InterruptionCause::TtsError);
                } else if ok {
                    self.errors[Component::Tts as usize] = 0;
                }
                self.settle();
                if self.commit_after_speech && !self.book.pending() {
                    self.try_commit();
                }
            }
        }
        Ok(())
    }

    pub(super) fn on_turn_done(&mut self, done: TurnDone) -> Result<(), PipelineError> {
        self.turns_in_flight = self.turns_in_flight.saturating_sub(1);
        self.turns_sent = self.turns_sent.saturating_sub(1);
        if let Some(t) = self.book.truncation.as_mut() {
            t.awaiting_turn = false;
        }
        // Text without a stored message (e.g. whitespace only) ends with the turn.
        self.book.close_open(false);
        match done.result {
            Ok(()) => self.errors[Component::Llm as usize] = 0,
            Err(e) => self.count_error(Component::Llm, e)?,
        }
        self.settle();
        Ok(())
    }

    /// Reports ended speeches and sends the truncations a complete interruption owes.
    pub(super) fn settle(&mut self) {
        let (singles, group) = self.book.take_ended();
        for e in singles {
            self.report_ended(&e);
        }
        if let Some(group) = group {
            for e in &group {
                self.report_ended(e);
                if e.has_message && e.outcome.heard != e.outcome.full_text.trim_end() {
                    let _ = self.ops.send(Op::Truncate(e.outcome.heard.clone()));
                }
            }
            while let Some(op) = self.deferred.pop_front() {
                self.send_op(op);
            }
        }
    }

    pub(super) fn report_ended(&self, e: &Ended) {
        if e.has_message {
            self.emit(VoiceEvent::SpeechCommitted {
                speech_id: e.id,
                text: if e.interrupted {
                    e.outcome.heard.clone()
                } else {
                    e.outcome.full_text.clone()
                },
                interrupted: e.interrupted,
            });
        }
    }

    /// Sends `op` to the session, after any truncation still owed.
    pub(super) fn submit(&mut self, op: Op) {
        if self.book.truncation.is_some() {
            self.deferred.push_back(op);
        } else {
            self.send_op(op);
        }
    }

    pub(super) fn send_op(&mut self, op: Op) {
        if matches!(op, Op::UserTurn { .. }) {
            self.turns_sent += 1;
        }
        let _ = self.ops.send(op);
    }

    pub(super) fn on_cmd(&mut self, cmd: DriverCmd) {
        match cmd {
            DriverCmd::Interrupt => {
                // Nothing to stop (done or already interrupted): a no-op.
                if !(self.reply_active() || self.paused) {
                    return;
                }
                // A protected current speech shields it and everything queued behind it.
                if self.book.current().is_some_and(|s| !s.allow_interruptions) {
                    tracing::warn!("interrupt() ignored: the current speech is uninterruptible");
                    return;
                }
                self.interrupt_all(InterruptionCause::Programmatic);
            }
            DriverCmd::Say(text, opts) => {
                self.pending_say.push_back((text.clone(), opts));
                self.submit(Op::Say(text));
            }
            DriverCmd::UserText(text) => self.start_user_turn(text, InputModality::Text),
            DriverCmd::Close => {}
        }
    }

    /// Hands a user turn to the session, interrupting the reply in progress (if any).
    pub(super) fn start_user_turn(&mut self, text: String, modality: InputModality) {
        if self.reply_active() {
            self.interrupt_all(InterruptionCause::UserTurn);
        }
        self.turns_in_flight += 1;
        self.submit(Op::UserTurn { text, modality });
    }
}
