//! Speech queue order and the error budget (reference §7 behaviours 18 and 32).

mod pipeline_support;

use agents_core::llm::{LlmError, Role};
use agents_core::prelude::*;
use agents_core::testing::{Reply, ScriptedLlm};
use agents_voice::pipeline::{PipelineError, SayOptions, SpeechPriority, VoiceEvent};
use agents_voice::testing::fakes::Timeline;
use pipeline_support::*;
use serde_json::json;

/// Looks the weather up, saying so first.
#[agent]
struct Weather;

#[function_tools]
impl Weather {
    /// Looks up the weather.
    #[function_tool]
    async fn lookup(&mut self, ctx: &mut AgentContext<'_>) -> Result<String> {
        ctx.say("Let me check.").await?;
        Ok("sunny".into())
    }
}

/// §7.18: speech said inside the turn (from a tool body) plays before the turn's reply.
#[tokio::test(start_paused = true)]
async fn speech_from_the_turn_plays_before_its_reply() {
    let llm = ScriptedLlm::new()
        .on_user("weather", Reply::call("lookup", json!({})))
        .rule(agents_core::testing::Rule::after_tool("lookup").reply(Reply::text("It is sunny.")));
    let mut s = Scenario::new(Timeline::new().speech(0.5, 2.5, "What's the weather?"), llm);
    s.total = 6.0;
    let out = s.run_with(Weather).await;
    assert_eq!(
        out.tts.spoken(),
        vec!["Let me check.", "It is sunny."],
        "{}",
        out.dump()
    );
    let done: Vec<String> = out
        .events
        .iter()
        .filter_map(|e| match &e.event {
            VoiceEvent::SpeechCommitted { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(done, vec!["Let me check.", "It is sunny."]);
}

/// Priorities: a high-priority `say` queued behind normal ones plays first (FIFO within a
/// priority).
#[tokio::test(start_paused = true)]
async fn high_priority_speech_jumps_the_queue() {
    let mut s = Scenario::new(Timeline::new(), ScriptedLlm::new());
    let normal = SayOptions::default();
    let high = SayOptions {
        priority: SpeechPriority::High,
        ..SayOptions::default()
    };
    s.actions = vec![
        (0.1, Action::Say("First normal.".into(), normal)),
        (0.2, Action::Say("Second normal.".into(), normal)),
        (0.3, Action::Say("Urgent!".into(), high)),
    ];
    s.total = 5.0;
    let out = s.run().await;
    assert_eq!(
        out.tts.spoken(),
        vec!["First normal.", "Urgent!", "Second normal."],
        "{}",
        out.dump()
    );
}

/// An uninterruptible `say` is not cut by user speech.
#[tokio::test(start_paused = true)]
async fn uninterruptible_say_plays_through() {
    let mut s = Scenario::new(
        Timeline::new().speech(1.0, 2.0, "hello"),
        ScriptedLlm::new(),
    );
    s.tts = s.tts.audio_for("Please listen carefully.", 3.0);
    s.actions = vec![(
        0.0,
        Action::Say(
            "Please listen carefully.".into(),
            SayOptions {
                allow_interruptions: false,
                ..SayOptions::default()
            },
        ),
    )];
    s.total = 5.0;
    let out = s.run().await;
    let played = out.playbacks();
    assert!(!played[0].2 && near(played[0].1, 3.0), "{}", out.dump());
    assert!(out
        .find(|e| matches!(e, VoiceEvent::Interrupted { .. }))
        .is_empty());
}

fn assert_closed_by(out: &Outcome, component: &str) {
    match &out.result {
        Err(PipelineError::TooManyErrors {
            component: c,
            count,
            ..
        }) => assert!(*c == component && *count == 3, "{:?}", out.result),
        other => panic!("expected a {component} error budget failure, got {other:?}"),
    }
    assert!(out.closed, "the session is closed");
    let fatal = out.find(|e| matches!(e, VoiceEvent::Error { fatal: true, .. }));
    assert_eq!(fatal.len(), 1, "{}", out.dump());
    let closed = out.find(|e| matches!(e, VoiceEvent::Closed { error: Some(_) }));
    assert_eq!(closed.len(), 1, "{}", out.dump());
}

/// §7.32: three unrecoverable STT errors in a row (the stream is recreated after 0.5 s each
/// time) close the session with a clear error.
#[tokio::test(start_paused = true)]
async fn stt_error_budget_closes_the_session() {
    let mut s = Scenario::new(Timeline::new(), ScriptedLlm::new());
    s.stt_failing = true;
    s.total = 10.0;
    let out = s.run().await;
    assert_closed_by(&out, "stt");
    let errors = out.find(|e| matches!(e, VoiceEvent::Error { .. }));
    assert_eq!(errors.len(), 3);
    assert!(near(secs(errors[2]), 1.0), "{}", out.dump());
}

/// §7.32: failed LLM turns count too; a failed turn keeps the user's words in the history.
#[tokio::test(start_paused = true)]
async fn llm_error_budget_and_no_lost_words() {
    let llm = ScriptedLlm::new().failing_with(LlmError::Status {
        status: 500,
        body: "boom".into(),
        retryable: false,
    });
    three_turns_close_the_session(llm, ["first", "second", "third"], "llm", |_| {}).await;
}

/// §7.32: a TTS that fails every time ends each reply (nothing is kept of it) and closes the
/// session on the third failure.
#[tokio::test(start_paused = true)]
async fn tts_error_budget() {
    let llm = ScriptedLlm::new().otherwise(Reply::text("Sure."));
    three_turns_close_the_session(llm, ["one", "two", "three"], "tts", |s| {
        s.tts = s.tts.clone().fail_streams(10);
    })
    .await;
}

/// Utterances 0.5–1.5, 3.0–4.0 and 5.5–6.5 whose replies all fail: the session is closed by
/// `component` and every user word stays in the history.
async fn three_turns_close_the_session(
    llm: ScriptedLlm,
    words: [&str; 3],
    component: &str,
    configure: impl FnOnce(&mut Scenario),
) {
    let timeline = Timeline::new()
        .speech(0.5, 1.5, words[0])
        .speech(3.0, 4.0, words[1])
        .speech(5.5, 6.5, words[2]);
    let mut s = Scenario::new(timeline, llm);
    configure(&mut s);
    s.total = 10.0;
    let out = s.run().await;
    assert_closed_by(&out, component);
    assert_eq!(out.last_history(), words.map(user), "{}", out.dump());
}

/// A TTS failure after some audio went out keeps what was heard, marked interrupted.
#[tokio::test(start_paused = true)]
async fn tts_failure_mid_speech_keeps_the_heard_part() {
    let llm = ScriptedLlm::new()
        .on_user(
            "hello",
            Reply::text("one two three four five six seven eight nine ten"),
        )
        .otherwise(Reply::text("Okay."));
    let timeline = Timeline::new()
        .speech(0.5, 2.5, "hello")
        .speech(8.0, 9.0, "again");
    let mut s = Scenario::new(timeline, llm);
    s.tts = s
        .tts
        .audio_for("one two three four five six seven eight nine ten", 10.0)
        .fail_after_audio(2.0);
    s.total = 10.0;
    let out = s.run().await;
    let dump = out.dump();
    assert!(out.result.is_ok(), "{dump}");
    let played = out.playbacks();
    assert!(played[0].2 && near(played[0].1, 2.0), "{dump}");
    // The TTS failed before the rest of the text was synthesized: the part heard is
    // estimated at speaking rate, so it is a strict prefix, marked interrupted.
    let (role, text, interrupted) = out.last_history()[1].clone();
    assert_eq!(role, Role::Assistant, "{dump}");
    assert!(interrupted, "{dump}");
    assert!(
        !text.is_empty()
            && text.len() < 48
            && "one two three four five six seven eight nine ten".starts_with(&text),
        "{text:?}\n{dump}"
    );
}
