//! Which part of a speech's text the user heard, from the playback position.
//!
//! A speech is sent to the TTS in segments (split at paragraph breaks). For each segment we
//! know its text and the audio the TTS produced for it. Segments fully played count whole;
//! in the segment being played, the heard share of characters equals the played share of its
//! audio, extended to the end of the word in progress (the user heard part of it). Without
//! word timings from the TTS this is the simplest mapping that never keeps unplayed segments.
//! A segment the TTS never finished (it failed) is assumed to last at least as long as its
//! text takes at an average speaking rate ([`CHARS_PER_SECOND`]).

use std::time::Duration;

/// Average speaking rate (about 150 words a minute), for segments whose audio is incomplete.
pub const CHARS_PER_SECOND: f64 = 14.0;

/// Text and synthesized audio of one TTS segment.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SegmentAudio {
    /// The segment's text as the LLM wrote it (what the history keeps).
    pub text: String,
    /// Audio received for it so far.
    pub audio: Duration,
    /// Whether the TTS finished it (else `audio` may still grow).
    pub complete: bool,
}

/// The text heard after `position` of audio played; `""` when nothing played.
pub fn heard_text(segments: &[SegmentAudio], position: Duration) -> String {
    if position.is_zero() {
        return String::new();
    }
    let mut heard = String::new();
    let mut left = position;
    for seg in segments {
        if seg.complete && left >= seg.audio {
            heard.push_str(&seg.text);
            left -= seg.audio;
            continue;
        }
        let mut total = seg.audio.as_secs_f64();
        if !seg.complete {
            total = total.max(seg.text.chars().count() as f64 / CHARS_PER_SECOND);
        }
        if !left.is_zero() && total > 0.0 {
            let share = (left.as_secs_f64() / total).min(1.0);
            heard.push_str(prefix_by_share(&seg.text, share));
        }
        break;
    }
    heard.trim_end().to_string()
}

/// The first `share` of `text` by characters, extended to the end of the word it ends in.
fn prefix_by_share(text: &str, share: f64) -> &str {
    let chars = text.chars().count();
    let take = ((chars as f64) * share).ceil() as usize;
    if take == 0 {
        return "";
    }
    let mut end = text
        .char_indices()
        .nth(take)
        .map(|(i, _)| i)
        .unwrap_or(text.len());
    // Finish the word in progress.
    if !text[..end].ends_with(char::is_whitespace) {
        end = text[end..]
            .find(char::is_whitespace)
            .map(|i| end + i)
            .unwrap_or(text.len());
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(text: &str, secs: f64) -> SegmentAudio {
        SegmentAudio {
            text: text.into(),
            audio: Duration::from_secs_f64(secs),
            complete: true,
        }
    }

    #[test]
    fn nothing_played_is_nothing_heard() {
        assert_eq!(heard_text(&[seg("Hello there.", 1.0)], Duration::ZERO), "");
    }

    #[test]
    fn partial_segment_is_cut_at_a_word_end() {
        let s = [seg("one two three four", 4.0)];
        assert_eq!(heard_text(&s, Duration::from_secs(2)), "one two three");
        assert_eq!(heard_text(&s, Duration::from_millis(100)), "one");
        assert_eq!(heard_text(&s, Duration::from_secs(5)), "one two three four");
    }

    #[test]
    fn an_unfinished_segment_is_estimated_at_speaking_rate() {
        let s = [SegmentAudio {
            text: "a".repeat(28) + " b",
            audio: Duration::from_secs(1),
            complete: false,
        }];
        // 30 chars ≈ 2.14 s at 14 chars/s; 1 s played ≈ 47 % → the first word.
        assert_eq!(heard_text(&s, Duration::from_secs(1)), "a".repeat(28));
    }

    #[test]
    fn later_segments_are_dropped() {
        let s = [seg("Hello there.\n\n", 1.0), seg("How are you?", 1.0)];
        assert_eq!(heard_text(&s, Duration::from_millis(500)), "Hello there.");
        assert_eq!(
            heard_text(&s, Duration::from_millis(1500)),
            "Hello there.\n\nHow are"
        );
    }
}
