//! Voice latency metrics, defined as the reference defines them, and how they read in a
//! transcript.
//!
//! All figures are seconds (f64) so they serialise plainly for transports and transcripts.

use std::time::Duration;

/// One measurement, emitted as a [`VoiceEvent::Metrics`](crate::pipeline::VoiceEvent::Metrics).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(tag = "metric", rename_all = "snake_case")]
pub enum Metric {
    /// End of a user turn (emitted when the turn is committed).
    EndOfUtterance {
        /// Commit time − back-dated end of speech.
        end_of_utterance_delay: f64,
        /// max(last final transcript − back-dated end of speech, 0).
        transcription_delay: f64,
    },
    /// The LLM's time to first token, as the session reported it.
    LlmTtft {
        /// Seconds from the request to the first streamed token.
        ttft: f64,
    },
    /// The TTS's time to first byte of one speech.
    TtsTtfb {
        /// Seconds from the first text sent to the TTS to its first audio.
        ttfb: f64,
    },
    /// The audio one speech produced (emitted when its playout ends).
    TtsAudio {
        /// Seconds of audio synthesized.
        audio_duration: f64,
    },
    /// User stopped speaking (back-dated) → first agent audio frame played.
    E2eLatency {
        /// Seconds.
        e2e_latency: f64,
    },
}

impl Metric {
    /// One transcript line, e.g. `metrics e2e_latency=1.000s`.
    pub fn transcript_line(&self) -> String {
        match self {
            Metric::EndOfUtterance {
                end_of_utterance_delay,
                transcription_delay,
            } => format!(
                "metrics end_of_utterance_delay={end_of_utterance_delay:.3}s transcription_delay={transcription_delay:.3}s"
            ),
            Metric::LlmTtft { ttft } => format!("metrics llm_ttft={ttft:.3}s"),
            Metric::TtsTtfb { ttfb } => format!("metrics tts_ttfb={ttfb:.3}s"),
            Metric::TtsAudio { audio_duration } => {
                format!("metrics tts_audio_duration={audio_duration:.3}s")
            }
            Metric::E2eLatency { e2e_latency } => format!("metrics e2e_latency={e2e_latency:.3}s"),
        }
    }
}

/// The time anchors of one user turn, as offsets on the pipeline's clock.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TurnAnchors {
    /// Back-dated start of the user's speech.
    pub speech_start: Option<Duration>,
    /// Back-dated end of the user's speech (`now − silence` at end of speech).
    pub last_speaking: Option<Duration>,
    /// When the last final transcript arrived.
    pub last_final: Option<Duration>,
}

impl TurnAnchors {
    /// The end-of-utterance metric for a commit at `commit`, or `None` when an anchor is
    /// unknown or stale (end of speech before its start, or after the commit): a stale anchor
    /// would report an inflated delay, so no figure is better than a wrong one.
    pub fn end_of_utterance(&self, commit: Duration) -> Option<Metric> {
        let stop = self.last_speaking?;
        if let Some(start) = self.speech_start {
            if stop < start {
                return None;
            }
        }
        if stop > commit {
            return None;
        }
        let transcription_delay = self
            .last_final
            .map(|f| f.saturating_sub(stop).as_secs_f64())
            .unwrap_or(0.0);
        Some(Metric::EndOfUtterance {
            end_of_utterance_delay: (commit - stop).as_secs_f64(),
            transcription_delay,
        })
    }
}
