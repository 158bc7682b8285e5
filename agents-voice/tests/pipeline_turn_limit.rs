//! Reference §7 behaviour 28: the user turn limit.

mod pipeline_support;

use std::time::Duration;

use agents_core::testing::{Reply, ScriptedLlm};
use agents_voice::pipeline::{UserTurnLimit, VoiceEvent};
use agents_voice::testing::fakes::Timeline;
use pipeline_support::*;

fn exceeded(out: &Outcome) -> Vec<(f64, String, usize)> {
    out.events
        .iter()
        .filter_map(|e| match &e.event {
            VoiceEvent::UserTurnExceeded {
                transcript, words, ..
            } => Some((secs(e), transcript.clone(), *words)),
            _ => None,
        })
        .collect()
}

fn scenario(timeline: Timeline) -> Scenario {
    let mut s = Scenario::new(timeline, ScriptedLlm::new().otherwise(Reply::text("Okay.")));
    s.options.user_turn_limit = UserTurnLimit {
        max_words: Some(5),
        max_duration: None,
    };
    s
}

/// "one two three" at 0.5–1.5, then "four five six" from `start` to `end`.
fn three_then_three_words(start: f64, end: f64) -> Scenario {
    scenario(
        Timeline::new()
            .speech(0.5, 1.5, "one two three")
            .speech(start, end, "four five six"),
    )
}

/// Checks the limit was reported exactly once, with this transcript and word count.
fn assert_exceeded_once(out: &Outcome, transcript: &str, words: usize) {
    let dump = out.dump();
    let ex = exceeded(out);
    assert_eq!(ex.len(), 1, "{dump}");
    assert_eq!(ex[0].1, transcript, "{dump}");
    assert_eq!(ex[0].2, words, "{dump}");
}

/// `max_words = 5` and a 10-word utterance: reported exactly once, with the transcript.
#[tokio::test(start_paused = true)]
async fn a_long_utterance_is_reported_once() {
    let ten = "one two three four five six seven eight nine ten";
    let mut s = scenario(Timeline::new().speech(0.5, 4.5, ten));
    s.total = 7.0;
    let out = s.run().await;
    assert_exceeded_once(&out, ten, 10);
}

/// Counts accumulate across a turn that interrupted the reply before it played.
#[tokio::test(start_paused = true)]
async fn counts_accumulate_across_interrupted_turns() {
    let mut s = three_then_three_words(2.2, 3.0);
    s.llm_duration = 1.0;
    s.total = 6.0;
    let out = s.run().await;
    let dump = out.dump();
    assert!(
        !out.find(|e| matches!(e, VoiceEvent::Interrupted { .. }))
            .is_empty(),
        "the second turn interrupts the first reply: {dump}"
    );
    assert_exceeded_once(&out, "one two three four five six", 6);
}

/// They reset when the agent speaks: 3 + 3 words with a reply in between stay under 5.
#[tokio::test(start_paused = true)]
async fn counts_reset_when_the_agent_speaks() {
    let mut s = three_then_three_words(5.0, 6.0);
    s.total = 9.0;
    let out = s.run().await;
    let dump = out.dump();
    assert_eq!(out.playbacks().len(), 2, "{dump}");
    assert!(exceeded(&out).is_empty(), "{dump}");
}

/// A speech-time limit: 2.0 s of speech passes a 1.5 s limit while the user still speaks.
#[tokio::test(start_paused = true)]
async fn speech_time_limit() {
    let mut s = scenario(Timeline::new().speech(0.5, 2.5, "hi"));
    s.options.user_turn_limit = UserTurnLimit {
        max_words: None,
        max_duration: Some(Duration::from_millis(1500)),
    };
    s.total = 5.0;
    let out = s.run().await;
    let dump = out.dump();
    let ex = exceeded(&out);
    assert_eq!(ex.len(), 1, "{dump}");
    assert!(ex[0].0 > 1.9 && ex[0].0 < 2.2, "{dump}");
}
