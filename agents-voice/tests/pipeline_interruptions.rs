//! Interruptions (reference §7 behaviours 2, 3, 4, 5, 6, 9, 17): what stops playout, when,
//! and what the history keeps.

mod pipeline_support;

use agents_core::llm::Role;
use agents_core::testing::{Reply, ScriptedLlm};
use agents_voice::pipeline::{AgentState, InterruptionCause, VoiceEvent};
use agents_voice::testing::fakes::Timeline;
use pipeline_support::*;

const LONG: &str = "one two three four five six seven eight nine ten";

fn llm() -> ScriptedLlm {
    answers_hello(LONG)
}

/// §7.2: a 10 s reply playing from 3.5, user speech 5.0–6.0.
#[tokio::test(start_paused = true)]
async fn user_speech_interrupts_and_history_keeps_what_was_heard() {
    let mut s = speaking(LONG, 10.0, hello().speech(5.0, 6.0, "Stop"));
    s.total = 7.0;
    let out = s.run().await;
    let dump = out.dump();
    out.assert_interrupted_once(5.5, InterruptionCause::UserSpeech);
    let played = out.playbacks();
    assert!(
        near(played[0].0, 5.5) && near(played[0].1, 2.0) && played[0].2,
        "{dump}"
    );
    // The next turn commits at 6.5.
    assert!(out.state_near(6.5, AgentState::Thinking), "{dump}");
    // 2.0 s of 10 s heard: the first fifth of the text, to a word end.
    assert_eq!(
        out.last_history(),
        vec![
            user("Hello"),
            assistant("one two three", true),
            user("Stop"),
        ],
        "{dump}"
    );
}

/// §7.3: with `min_words = 3` nothing interrupts until the accumulated transcript has three
/// words (at 7.5); the reply from 3.5 has then played 4.0 s.
#[tokio::test(start_paused = true)]
async fn min_words_delays_the_interruption() {
    let mut s = speaking(
        LONG,
        10.0,
        hello()
            .speech_with_delay(5.0, 6.0, "Stop!", 0.0)
            .speech_with_delay(6.5, 7.5, "ok, stop!", 0.0),
    );
    s.options.interruption.min_words = 3;
    s.total = 9.0;
    let out = s.run().await;
    let dump = out.dump();
    let cuts = out.interruptions();
    assert!(!cuts.is_empty(), "{dump}");
    assert!(near(cuts[0].0, 7.5), "{dump}");
    let played = out.playbacks();
    assert!(near(played[0].1, 4.0) && played[0].2, "{dump}");
    // Both utterances make one turn.
    assert_eq!(
        out.committed_turns(),
        vec!["Hello".to_string(), "Stop! ok, stop!".to_string()],
        "{dump}"
    );
}

/// §7.4: interruptions disabled: the 5 s reply plays to the end; the user's words are kept
/// and answered after it.
#[tokio::test(start_paused = true)]
async fn disabled_interruptions_play_to_the_end() {
    let mut s = speaking(LONG, 5.0, hello().speech(5.0, 6.0, "wait a moment"));
    s.options.interruption.enabled = false;
    s.total = 9.5;
    let out = s.run().await;
    let dump = out.dump();
    assert!(out.interruptions().is_empty(), "{dump}");
    let played = out.playbacks();
    assert!(
        near(played[0].0, 8.5) && near(played[0].1, 5.0) && !played[0].2,
        "{dump}"
    );
    let turns = out.find(|e| matches!(e, VoiceEvent::UserTurnCommitted { .. }));
    assert_eq!(turns.len(), 2, "{dump}");
    assert!(near(secs(turns[1]), 8.5), "{dump}");
    assert_eq!(
        out.last_history(),
        vec![user("Hello"), assistant(LONG, false), user("wait a moment")]
    );
}

/// §7.5: `interrupt()` then a typed user turn at 5.0: states go thinking → speaking →
/// thinking → speaking → listening, and the history is user, assistant (interrupted), user,
/// assistant.
#[tokio::test(start_paused = true)]
async fn programmatic_interrupt_then_text_turn() {
    let timeline = Timeline::new().speech(0.5, 2.5, "Hello");
    let mut s = Scenario::new(
        timeline,
        llm().on_user("joke", Reply::text("Why did the chicken cross the road?")),
    );
    s.tts = s.tts.audio_for(LONG, 10.0);
    s.actions = vec![
        (5.0, Action::Interrupt),
        (5.0, Action::PushText("tell me a joke".into())),
    ];
    s.total = 9.0;
    let out = s.run().await;
    let dump = out.dump();
    let states: Vec<AgentState> = out.agent_states().into_iter().map(|(_, s)| s).collect();
    use AgentState::*;
    assert_eq!(
        states,
        vec![Listening, Thinking, Speaking, Thinking, Speaking, Listening],
        "{dump}"
    );
    let played = out.playbacks();
    assert_eq!(played.len(), 2, "{dump}");
    assert!(
        played[0].2 && near(played[0].1, 1.5) && !played[1].2,
        "{dump}"
    );
    assert_eq!(
        out.last_history(),
        vec![
            user("Hello"),
            assistant("one two", true),
            user("tell me a joke"),
        ],
        "{dump}"
    );
    let committed = out.find(|e| {
        matches!(e, VoiceEvent::SpeechCommitted { interrupted: false, text, .. } if text.starts_with("Why"))
    });
    assert_eq!(committed.len(), 1, "{dump}");
}

/// §7.6: user speech 3.0–4.0 while the LLM (1.0 s) still answers: interrupted at 3.5, never
/// speaking, no playback, no assistant message; both user messages are in the history.
#[tokio::test(start_paused = true)]
async fn interruption_while_thinking_leaves_no_assistant_message() {
    let out = interrupted_while_thinking(llm(), false).await;
    assert_eq!(out.llm.request_count(), 2, "{}", out.dump());
}

/// §7.9: with a pausable output, noise while speaking pauses at SOS + 0.5; with no transcript
/// by EOS + 2.0 the speech resumes and plays to the end.
#[tokio::test(start_paused = true)]
async fn false_interruption_resumes() {
    let mut s = speaking(LONG, 10.0, hello().noise(5.0, 6.0));
    s.pausable = true;
    s.total = 17.0;
    let out = s.run().await;
    let dump = out.dump();
    let paused = out.find(|e| matches!(e, VoiceEvent::SpeechPaused));
    assert!(near(secs(paused[0]), 5.5), "{dump}");
    let resumed = out.find(|e| matches!(e, VoiceEvent::FalseInterruption { resumed: true }));
    assert!(near(secs(resumed[0]), 8.5), "{dump}");
    assert!(out.state_near(5.5, AgentState::Listening), "{dump}");
    assert!(out.state_near(8.5, AgentState::Speaking), "{dump}");
    let played = out.playbacks();
    assert_eq!(played.len(), 1, "{dump}");
    // 10 s of audio + 3 s paused.
    assert!(
        near(played[0].0, 16.5) && near(played[0].1, 10.0) && !played[0].2,
        "{dump}"
    );
    assert!(out.interruptions().is_empty(), "{dump}");
}

/// §7.9 (second half): a final transcript during the pause turns it into an interruption at
/// the position where playout paused.
#[tokio::test(start_paused = true)]
async fn transcript_during_pause_interrupts() {
    let mut s = speaking(LONG, 10.0, hello().speech(5.0, 6.0, "wait"));
    s.pausable = true;
    s.total = 7.0;
    let out = s.run().await;
    let dump = out.dump();
    assert!(
        !out.find(|e| matches!(e, VoiceEvent::SpeechPaused))
            .is_empty(),
        "{dump}"
    );
    let cuts = out.interruptions();
    assert!(
        near(cuts[0].0, 6.2) && cuts[0].1 == InterruptionCause::Transcript,
        "{dump}"
    );
    let played = out.playbacks();
    assert!(near(played[0].1, 2.0) && played[0].2, "{dump}");
    assert!(out
        .find(|e| matches!(e, VoiceEvent::FalseInterruption { .. }))
        .is_empty());
}

/// §7.17: a reply with a paragraph break goes to the TTS as two segments and is one
/// message; interrupted during the first, the message lacks the second.
#[tokio::test(start_paused = true)]
async fn multi_segment_reply() {
    let reply = "Hello there.\n\nHow are you?";
    // Each segment scripted to last its `secs`.
    let scenario = |timeline: Timeline, secs: [f64; 2]| {
        let llm = ScriptedLlm::new()
            .on_user("hi", Reply::text(reply))
            .otherwise(Reply::text("Okay."));
        let mut s = Scenario::new(timeline, llm);
        s.tts = s
            .tts
            .audio_for("Hello there.", secs[0])
            .audio_for("How are you?", secs[1]);
        s
    };
    // Played fully.
    let mut s = scenario(Timeline::new().speech(0.5, 2.5, "hi"), [1.0, 1.0]);
    s.total = 6.0;
    let out = s.run().await;
    assert_eq!(
        out.tts.spoken(),
        vec!["Hello there.", "How are you?"],
        "{}",
        out.dump()
    );
    let played = out.playbacks();
    assert!(
        played.len() == 1 && near(played[0].1, 2.0) && !played[0].2,
        "{}",
        out.dump()
    );

    // Interrupted 0.9 s into the first segment (1.0 s long; playout starts at 3.35).
    let timeline = Timeline::new()
        .speech(0.5, 2.5, "hi")
        .speech(3.75, 5.0, "stop");
    let mut s = scenario(timeline, [1.0, 2.0]);
    s.total = 6.5;
    let out = s.run().await;
    let dump = out.dump();
    let played = out.playbacks();
    assert!(played[0].2 && near(played[0].1, 0.9), "{dump}");
    assert_eq!(
        out.last_history(),
        vec![user("hi"), assistant("Hello there.", true), user("stop")],
        "{dump}"
    );
}

/// Several turns arriving while an interruption's truncation is still owed are all kept and
/// answered in order (a deferred turn must not be mistaken for one the session is running).
#[tokio::test(start_paused = true)]
async fn turns_queued_behind_a_truncation_all_run() {
    let mut s = Scenario::new(
        Timeline::new().speech(0.5, 2.5, "Hello"),
        llm().on_user("c", Reply::text("Last.")),
    );
    s.tts = s.tts.audio_for(LONG, 10.0);
    s.actions = vec![
        (5.0, Action::PushText("a".into())),
        (5.0, Action::PushText("b".into())),
        (5.0, Action::PushText("c".into())),
    ];
    s.total = 12.0;
    let out = s.run().await;
    let dump = out.dump();
    assert_eq!(out.llm.request_count(), 4, "{dump}");
    let history = out.last_history();
    let users: Vec<_> = history
        .iter()
        .filter(|(r, _, _)| *r == Role::User)
        .map(|(_, t, _)| t.as_str())
        .collect();
    assert_eq!(users, vec!["Hello", "a", "b", "c"], "{dump}");
    assert_eq!(history[1], assistant("one two", true), "{dump}");
}
