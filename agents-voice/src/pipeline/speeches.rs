//! Bookkeeping of agent speeches: which text belongs to which speech, how each ended, and
//! the truncations an interruption owes the history.
//!
//! A speech is the audio of one assistant message (an LLM reply or a `say`). Its text comes
//! from the session's `TextDelta` events and it is closed by the `Message` event that stores
//! the message. When speeches are interrupted, the history must keep only what was heard:
//! the interrupted speeches form a [`Truncation`] that completes once each has both closed
//! and ended playout (and the interrupted turn, if any, has finished); its truncations are
//! then sent newest first, because the session cuts the latest reply each time.

use std::collections::{BTreeMap, BTreeSet};

use tokio::sync::mpsc;

use super::playout::SpeechOutcome;

/// One speech.
pub(crate) struct Speech {
    pub allow_interruptions: bool,
    /// Feeds the playout; `None` once the text ended or the speech was interrupted.
    pub text_tx: Option<mpsc::UnboundedSender<String>>,
    /// The session stored a message for it.
    pub has_message: bool,
    /// No more text will come.
    pub closed: bool,
    /// It was interrupted (or belongs to an interrupted reply).
    pub interrupted: bool,
    /// How its playout ended.
    pub outcome: Option<SpeechOutcome>,
}

/// Speeches interrupted together, waiting to be truncated in the history.
#[derive(Default)]
pub(crate) struct Truncation {
    pub members: BTreeSet<u64>,
    /// The interrupted user turn has not returned yet (its text may still arrive).
    pub awaiting_turn: bool,
}

/// All live speeches.
#[derive(Default)]
pub(crate) struct SpeechBook {
    pub speeches: BTreeMap<u64, Speech>,
    pub open: Option<u64>,
    next_id: u64,
    pub truncation: Option<Truncation>,
}

/// A speech that ended, with what the history keeps of it.
pub(crate) struct Ended {
    pub id: u64,
    pub outcome: SpeechOutcome,
    pub has_message: bool,
    pub interrupted: bool,
}

impl SpeechBook {
    /// A new speech; it is the open one.
    pub fn open(
        &mut self,
        allow_interruptions: bool,
        tx: Option<mpsc::UnboundedSender<String>>,
    ) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        self.speeches.insert(
            id,
            Speech {
                allow_interruptions,
                text_tx: tx,
                has_message: false,
                closed: false,
                interrupted: false,
                outcome: None,
            },
        );
        self.open = Some(id);
        id
    }

    /// Ends the open speech's text; `message` says whether the session stored it.
    pub fn close_open(&mut self, message: bool) -> Option<u64> {
        let id = self.open.take()?;
        if let Some(s) = self.speeches.get_mut(&id) {
            s.closed = true;
            s.has_message = message;
            s.text_tx = None;
        }
        Some(id)
    }

    /// Whether any speech is waiting or playing (not interrupted).
    pub fn pending(&self) -> bool {
        self.speeches
            .values()
            .any(|s| !s.interrupted && s.outcome.is_none())
    }

    /// The speech interruption rules apply to: the earliest live one.
    pub fn current(&self) -> Option<&Speech> {
        self.speeches
            .values()
            .find(|s| !s.interrupted && s.outcome.is_none())
    }

    /// Marks every live speech interrupted and groups them for truncation.
    pub fn interrupt_all(&mut self, turn_in_flight: bool) {
        let t = self.truncation.get_or_insert_with(Truncation::default);
        t.awaiting_turn |= turn_in_flight;
        for (id, s) in self.speeches.iter_mut() {
            s.interrupted = true;
            s.text_tx = None;
            t.members.insert(*id);
        }
    }

    /// Records a playout outcome.
    pub fn set_outcome(&mut self, outcome: SpeechOutcome) {
        if let Some(s) = self.speeches.get_mut(&outcome.id) {
            if outcome.playback.interrupted {
                s.interrupted = true;
            }
            s.outcome = Some(outcome);
        }
    }

    /// Removes and returns speeches that are over and not part of a pending truncation,
    /// and, when the pending truncation is complete, its members (newest first).
    pub fn take_ended(&mut self) -> (Vec<Ended>, Option<Vec<Ended>>) {
        let in_group =
            |id: &u64, t: &Option<Truncation>| t.as_ref().is_some_and(|t| t.members.contains(id));
        let done: Vec<u64> = self
            .speeches
            .iter()
            .filter(|(id, s)| s.closed && s.outcome.is_some() && !in_group(id, &self.truncation))
            .map(|(id, _)| *id)
            .collect();
        let singles = done.into_iter().filter_map(|id| self.remove(id)).collect();
        let group_done = self.truncation.as_ref().is_some_and(|t| {
            !t.awaiting_turn
                && t.members.iter().all(|id| {
                    self.speeches
                        .get(id)
                        .is_none_or(|s| s.closed && s.outcome.is_some())
                })
        });
        let group = if group_done {
            let t = self.truncation.take().expect("checked");
            Some(
                t.members
                    .iter()
                    .rev()
                    .filter_map(|id| self.remove(*id))
                    .collect(),
            )
        } else {
            None
        };
        (singles, group)
    }

    fn remove(&mut self, id: u64) -> Option<Ended> {
        let s = self.speeches.remove(&id)?;
        Some(Ended {
            id,
            outcome: s.outcome?,
            has_message: s.has_message,
            interrupted: s.interrupted,
        })
    }
}
