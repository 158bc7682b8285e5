//! The user turn limit (off by default): how much the user said since the agent last spoke,
//! in words and speech time, and whether that went over the limit.
//!
//! As the reference's `user_turn_limit`: counts accumulate across turns (also turns that
//! interrupted a reply before it played) and reset when the agent starts speaking; the
//! limit is reported once per accumulation.

use std::time::Duration;

use super::options::UserTurnLimit;

/// Counts for one accumulation.
#[derive(Default)]
pub(crate) struct TurnLimitCounter {
    /// Words of the turns committed since the reset.
    committed_words: usize,
    /// Speech of the utterances that ended since the reset.
    speech: Duration,
    /// Text of the turns committed since the reset.
    committed_text: String,
    reported: bool,
}

/// What went over the limit.
pub(crate) struct Exceeded {
    pub transcript: String,
    pub words: usize,
    pub duration: Duration,
}

impl TurnLimitCounter {
    /// The agent started speaking: start a new accumulation.
    pub fn reset(&mut self) {
        *self = TurnLimitCounter::default();
    }

    /// A turn was committed with `text` (`words` counted as for interruptions).
    pub fn committed(&mut self, text: &str, words: usize) {
        self.committed_words += words;
        if !self.committed_text.is_empty() {
            self.committed_text.push(' ');
        }
        self.committed_text.push_str(text);
    }

    /// An utterance of `speech` ended.
    pub fn utterance_ended(&mut self, speech: Duration) {
        self.speech += speech;
    }

    /// Checks the limit with the open turn's `pending` text (`pending_words` words) and the
    /// current utterance's `speaking` time; `Some` the first time it is exceeded.
    pub fn check(
        &mut self,
        limit: &UserTurnLimit,
        pending: &str,
        pending_words: usize,
        speaking: Duration,
    ) -> Option<Exceeded> {
        if self.reported {
            return None;
        }
        let words = self.committed_words + pending_words;
        let duration = self.speech + speaking;
        let over_words = limit.max_words.is_some_and(|m| words > m);
        let over_time = limit.max_duration.is_some_and(|m| duration > m);
        if !(over_words || over_time) {
            return None;
        }
        self.reported = true;
        let transcript = match (self.committed_text.is_empty(), pending.is_empty()) {
            (false, false) => format!("{} {pending}", self.committed_text),
            (true, _) => pending.to_string(),
            (false, true) => self.committed_text.clone(),
        };
        Some(Exceeded {
            transcript,
            words,
            duration,
        })
    }
}
