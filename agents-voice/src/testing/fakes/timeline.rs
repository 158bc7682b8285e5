//! What the simulated user says, and when.

use std::time::Duration;

/// One stretch of user audio.
#[derive(Clone, Debug, PartialEq)]
pub struct Utterance {
    /// Speech start (from the start of the call).
    pub start: Duration,
    /// Speech end.
    pub end: Duration,
    /// What the STT hears ("" = noise: the VAD fires, no transcript).
    pub text: String,
    /// Final transcript delay after `end` (interim at half of it).
    pub stt_delay: Duration,
}

/// A script of user speech, shared by [`FakeVad`](super::FakeVad),
/// [`FakeStt`](super::FakeStt) and [`timeline_input`](super::timeline_input).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timeline {
    /// Utterances in time order.
    pub utterances: Vec<Utterance>,
}

/// Seconds as a duration, rounded to the millisecond (keeps fake timings exact).
pub(crate) fn secs(s: f64) -> Duration {
    Duration::from_millis((s * 1000.0).round() as u64)
}

impl Timeline {
    /// An empty script (silence).
    pub fn new() -> Self {
        Self::default()
    }

    /// The user says `text` from `start` to `end` seconds; the final transcript comes 0.2 s
    /// after the end.
    pub fn speech(self, start: f64, end: f64, text: &str) -> Self {
        self.speech_with_delay(start, end, text, 0.2)
    }

    /// Like [`speech`](Self::speech) with another STT delay.
    pub fn speech_with_delay(mut self, start: f64, end: f64, text: &str, stt_delay: f64) -> Self {
        self.utterances.push(Utterance {
            start: secs(start),
            end: secs(end),
            text: text.to_string(),
            stt_delay: secs(stt_delay),
        });
        self.utterances.sort_by_key(|u| u.start);
        self
    }

    /// Noise the VAD takes for speech but the STT does not transcribe.
    pub fn noise(self, start: f64, end: f64) -> Self {
        self.speech(start, end, "")
    }
}
