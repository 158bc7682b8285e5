//! Reference §7 behaviours 7, 8, 19/20 and 26: interruptions around a pausable output,
//! `interrupt()` semantics over the speech queue, and uninterruptible speech.

mod pipeline_support;

use agents_core::testing::ScriptedLlm;
use agents_voice::pipeline::{InterruptionCause, SayOptions, VoiceEvent};
use agents_voice::testing::fakes::Timeline;
use pipeline_support::*;

const REPLY: &str = "one two three four five";

fn llm() -> ScriptedLlm {
    answers_hello(REPLY)
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
    let out = interrupted_while_thinking(llm(), true).await;
    let dump = out.dump();
    assert_eq!(out.interruptions().len(), 1, "{dump}");
    assert!(
        out.find(|e| matches!(e, VoiceEvent::SpeechPaused))
            .is_empty(),
        "nothing was playing, so nothing pauses: {dump}"
    );
}

/// §7.8: noise (3.0–3.3, no transcript) while the agent thinks, with a pausable output: no
/// interruption, the full 5.0 s reply plays. The reference pauses and resumes; here noise
/// shorter than `min_duration` never reaches the interruption path, so nothing pauses.
#[tokio::test(start_paused = true)]
async fn noise_while_thinking_does_not_cut_the_reply() {
    let mut s = speaking(REPLY, 5.0, hello().noise(3.0, 3.3));
    s.pausable = true;
    s.total = 10.0;
    let out = s.run().await;
    let dump = out.dump();
    assert!(out.interruptions().is_empty(), "{dump}");
    let played = out.playbacks();
    assert_eq!(played.len(), 1, "{dump}");
    assert!(near(played[0].1, 5.0) && !played[0].2, "{dump}");
    assert_eq!(
        out.last_history(),
        vec![user("Hello")],
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
    let mut s = speaking(REPLY, 1.0, hello());
    // The reply plays 3.35–4.35; interrupting after it ends does nothing.
    s.actions = vec![(5.0, Action::Interrupt), (5.1, Action::Interrupt)];
    s.total = 6.0;
    let out = s.run().await;
    let dump = out.dump();
    assert!(out.interruptions().is_empty(), "{dump}");
    let played = out.playbacks();
    assert!(played.len() == 1 && !played[0].2, "{dump}");

    // Interrupted once at 4.0; the second call finds nothing left to stop.
    let mut s = speaking(REPLY, 5.0, hello());
    s.actions = vec![(4.0, Action::Interrupt), (4.2, Action::Interrupt)];
    s.total = 6.0;
    let out = s.run().await;
    let dump = out.dump();
    out.assert_interrupted_once(4.0, InterruptionCause::Programmatic);
    assert_eq!(out.playbacks().len(), 1, "{dump}");
}

/// A protected 3 s speech said at 0.0, a plain one (`queued_secs` long) queued behind it at
/// 0.1, and `interrupt()` at `interrupt_at`.
async fn protected_then_queued(queued_secs: f64, interrupt_at: f64) -> Outcome {
    let mut s = Scenario::new(Timeline::new(), ScriptedLlm::new());
    s.tts = s
        .tts
        .audio_for("Please listen carefully.", 3.0)
        .audio_for("Then this.", queued_secs);
    s.actions = vec![
        (
            0.0,
            Action::Say("Please listen carefully.".into(), protected()),
        ),
        (0.1, Action::Say("Then this.".into(), SayOptions::default())),
        (interrupt_at, Action::Interrupt),
    ];
    s.total = 6.0;
    s.run().await
}

/// §7.19: a protected (uninterruptible) current speech is not cut by `interrupt()`, and it
/// shields what is queued behind it. The reference raises; `VoiceHandle::interrupt` returns
/// nothing, so it logs and does nothing.
#[tokio::test(start_paused = true)]
async fn interrupt_leaves_a_protected_speech_and_its_queue() {
    let out = protected_then_queued(1.0, 1.0).await;
    let dump = out.dump();
    assert!(out.interruptions().is_empty(), "{dump}");
    let played = out.playbacks();
    assert_eq!(played.len(), 2, "{dump}");
    assert!(near(played[0].1, 3.0) && !played[0].2, "{dump}");
    assert!(near(played[1].1, 1.0) && !played[1].2, "{dump}");

    // Once the protected speech is over, the one behind it can be interrupted.
    let out = protected_then_queued(2.0, 4.0).await;
    let dump = out.dump();
    assert_eq!(out.interruptions().len(), 1, "{dump}");
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
    assert!(out.interruptions().is_empty(), "{dump}");
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
