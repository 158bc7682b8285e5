//! Reference §7 behaviours 7, 8, 19/20 and 26: interruptions around a pausable output,
//! `interrupt()` semantics over the speech queue, and uninterruptible speech.

mod pipeline_support;

use agents_core::llm::Role;
use agents_core::testing::{Reply, ScriptedLlm};
use agents_voice::pipeline::{AgentState, InterruptionCause, SayOptions, VoiceEvent};
use agents_voice::testing::fakes::Timeline;
use pipeline_support::*;

const REPLY: &str = "one two three four five";

fn llm() -> ScriptedLlm {
    ScriptedLlm::new()
        .on_user("hello", Reply::text(REPLY))
        .otherwise(Reply::text("Okay."))
}

fn interruptions(out: &Outcome) -> Vec<(f64, InterruptionCause)> {
    out.events
        .iter()
        .filter_map(|e| match e.event {
            VoiceEvent::Interrupted { cause } => Some((secs(e), cause)),
            _ => None,
        })
        .collect()
}

fn protected() -> SayOptions {
    SayOptions {
        allow_interruptions: false,
        ..SayOptions::default()
    }
}

/// §7.7: as §7.6 (user speech 3.0–4.0 while the LLM still answers) with a pausable output:
/// interrupted at 3.5, never speaking, no assistant message, both user messages kept.
/// Difference from the reference: it also reports one `playback_finished{interrupted,
/// position 0}` for the reply that never reached the output; here a speech that never
/// played reports no playback at all.
#[tokio::test(start_paused = true)]
async fn interruption_before_speaking_with_a_pausable_output() {
    let timeline = Timeline::new()
        .speech(0.5, 2.5, "Hello")
        .speech(3.0, 4.0, "actually wait");
    let mut s = Scenario::new(timeline, llm());
    s.llm_duration = 1.0;
    s.pausable = true;
    s.total = 4.6;
    let out = s.run().await;
    let dump = out.dump();
    let cuts = interruptions(&out);
    assert_eq!(cuts.len(), 1, "{dump}");
    assert!(near(cuts[0].0, 3.5), "{dump}");
    assert!(
        out.find(|e| matches!(e, VoiceEvent::SpeechPaused))
            .is_empty(),
        "nothing was playing, so nothing pauses: {dump}"
    );
    assert!(
        out.agent_states()
            .iter()
            .all(|(_, s)| *s != AgentState::Speaking),
        "{dump}"
    );
    // The agent was thinking when it was cut (so the check above saw states at all).
    assert!(
        out.agent_states()
            .iter()
            .any(|(_, s)| *s == AgentState::Thinking),
        "{dump}"
    );
    assert!(out.playbacks().is_empty(), "{dump}");
    assert_eq!(
        out.last_history(),
        vec![
            (Role::User, "Hello".into(), false),
            (Role::User, "actually wait".into(), false),
        ],
        "{dump}"
    );
}

/// §7.8: noise (3.0–3.3, no transcript) while the agent thinks, with a pausable output: no
/// interruption, the full 5.0 s reply plays. The reference pauses and resumes; here noise
/// shorter than `min_duration` never reaches the interruption path, so nothing pauses.
#[tokio::test(start_paused = true)]
async fn noise_while_thinking_does_not_cut_the_reply() {
    let timeline = Timeline::new().speech(0.5, 2.5, "Hello").noise(3.0, 3.3);
    let mut s = Scenario::new(timeline, llm());
    s.tts = s.tts.audio_for(REPLY, 5.0);
    s.pausable = true;
    s.total = 10.0;
    let out = s.run().await;
    let dump = out.dump();
    assert!(interruptions(&out).is_empty(), "{dump}");
    let played = out.playbacks();
    assert_eq!(played.len(), 1, "{dump}");
    assert!(near(played[0].1, 5.0) && !played[0].2, "{dump}");
    assert_eq!(
        out.last_history(),
        vec![(Role::User, "Hello".into(), false)],
        "the noise made no turn: {dump}"
    );
    let committed = out.find(|e| {
        matches!(e, VoiceEvent::SpeechCommitted { interrupted: false, text, .. } if text == REPLY)
    });
    assert_eq!(committed.len(), 1, "{dump}");
}

/// §7.20: `interrupt()` with nothing to stop (the reply is done) is a no-op, as is a second
/// `interrupt()` on a reply already interrupted.
#[tokio::test(start_paused = true)]
async fn interrupting_a_done_or_interrupted_speech_is_a_no_op() {
    let mut s = Scenario::new(Timeline::new().speech(0.5, 2.5, "Hello"), llm());
    s.tts = s.tts.audio_for(REPLY, 1.0);
    // The reply plays 3.35–4.35; interrupting after it ends does nothing.
    s.actions = vec![(5.0, Action::Interrupt), (5.1, Action::Interrupt)];
    s.total = 6.0;
    let out = s.run().await;
    let dump = out.dump();
    assert!(interruptions(&out).is_empty(), "{dump}");
    let played = out.playbacks();
    assert!(played.len() == 1 && !played[0].2, "{dump}");

    // Interrupted once at 4.0; the second call finds nothing left to stop.
    let mut s = Scenario::new(Timeline::new().speech(0.5, 2.5, "Hello"), llm());
    s.tts = s.tts.audio_for(REPLY, 5.0);
    s.actions = vec![(4.0, Action::Interrupt), (4.2, Action::Interrupt)];
    s.total = 6.0;
    let out = s.run().await;
    let dump = out.dump();
    let cuts = interruptions(&out);
    assert_eq!(cuts.len(), 1, "{dump}");
    assert!(
        near(cuts[0].0, 4.0) && cuts[0].1 == InterruptionCause::Programmatic,
        "{dump}"
    );
    assert_eq!(out.playbacks().len(), 1, "{dump}");
}

/// §7.19: a protected (uninterruptible) current speech is not cut by `interrupt()`, and it
/// shields what is queued behind it. The reference raises; `VoiceHandle::interrupt` returns
/// nothing, so it logs and does nothing.
#[tokio::test(start_paused = true)]
async fn interrupt_leaves_a_protected_speech_and_its_queue() {
    let mut s = Scenario::new(Timeline::new(), ScriptedLlm::new());
    s.tts = s
        .tts
        .audio_for("Please listen carefully.", 3.0)
        .audio_for("Then this.", 1.0);
    s.actions = vec![
        (
            0.0,
            Action::Say("Please listen carefully.".into(), protected()),
        ),
        (0.1, Action::Say("Then this.".into(), SayOptions::default())),
        (1.0, Action::Interrupt),
    ];
    s.total = 6.0;
    let out = s.run().await;
    let dump = out.dump();
    assert!(interruptions(&out).is_empty(), "{dump}");
    let played = out.playbacks();
    assert_eq!(played.len(), 2, "{dump}");
    assert!(near(played[0].1, 3.0) && !played[0].2, "{dump}");
    assert!(near(played[1].1, 1.0) && !played[1].2, "{dump}");

    // Once the protected speech is over, the one behind it can be interrupted.
    let mut s = Scenario::new(Timeline::new(), ScriptedLlm::new());
    s.tts = s
        .tts
        .audio_for("Please listen carefully.", 3.0)
        .audio_for("Then this.", 2.0);
    s.actions = vec![
        (
            0.0,
            Action::Say("Please listen carefully.".into(), protected()),
        ),
        (0.1, Action::Say("Then this.".into(), SayOptions::default())),
        (4.0, Action::Interrupt),
    ];
    s.total = 6.0;
    let out = s.run().await;
    let dump = out.dump();
    assert_eq!(interruptions(&out).len(), 1, "{dump}");
    let played = out.playbacks();
    assert!(!played[0].2 && played[1].2, "{dump}");
}

/// §7.26: a user turn that ends while an uninterruptible speech plays is not answered until
/// that speech ends; then it is committed and answered. The reference drops such a turn (and
/// feeds the STT silence meanwhile); here the user's words are kept and answered after the
/// speech, so none are lost.
#[tokio::test(start_paused = true)]
async fn turn_during_uninterruptible_speech_waits_for_its_end() {
    let mut s = Scenario::new(Timeline::new().speech(1.0, 2.0, "hello"), llm());
    s.tts = s
        .tts
        .audio_for("Please listen carefully.", 4.0)
        .audio_for(REPLY, 1.0);
    s.actions = vec![(
        0.0,
        Action::Say("Please listen carefully.".into(), protected()),
    )];
    s.total = 8.0;
    let out = s.run().await;
    let dump = out.dump();
    assert!(interruptions(&out).is_empty(), "{dump}");
    let committed = out.find(|e| matches!(e, VoiceEvent::UserTurnCommitted { .. }));
    assert_eq!(committed.len(), 1, "{dump}");
    let said_end = out.playbacks()[0].0;
    assert!(
        secs(committed[0]) >= said_end - 1e-6,
        "committed at {} before the speech ended at {said_end}: {dump}",
        secs(committed[0])
    );
    assert_eq!(out.llm.request_count(), 1, "{dump}");
    let played = out.playbacks();
    assert_eq!(played.len(), 2, "{dump}");
    assert!(near(played[0].1, 4.0) && !played[0].2, "{dump}");
    assert!(near(played[1].1, 1.0) && !played[1].2, "{dump}");
}
