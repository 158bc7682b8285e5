//! Turn-taking: a normal turn's timings, endpointing, and what never makes a turn
//! (reference §7 behaviours 1, 16, 21, 24).

mod pipeline_support;

use agents_core::llm::Role;
use agents_core::testing::{Reply, ScriptedLlm};
use agents_voice::metrics::Metric;
use agents_voice::pipeline::{AgentState, EndpointingOptions, UserState, VoiceEvent};
use agents_voice::testing::fakes::Timeline;
use pipeline_support::*;

fn hello_llm() -> ScriptedLlm {
    ScriptedLlm::new().on_user("hello", Reply::text("I am fine, thanks."))
}

/// §7.1: speech 0.5–2.5, LLM ttft 0.1 / duration 0.3, TTS 2.0 s with ttfb 0.2.
#[tokio::test(start_paused = true)]
async fn normal_turn_has_the_reference_timings() {
    let timeline = Timeline::new().speech(0.5, 2.5, "Hello, how are you?");
    let mut s = Scenario::new(timeline, hello_llm());
    s.tts = s.tts.audio_for("I am fine, thanks.", 2.0);
    s.total = 7.0;
    let out = s.run().await;
    let dump = out.dump();

    let user: Vec<_> = out
        .events
        .iter()
        .filter_map(|e| match e.event {
            VoiceEvent::UserState { new, .. } => Some((secs(e), new)),
            _ => None,
        })
        .collect();
    assert_eq!(user.len(), 2, "{dump}");
    assert!(
        near(user[0].0, 0.5) && user[0].1 == UserState::Speaking,
        "{dump}"
    );
    assert!(
        near(user[1].0, 3.0) && user[1].1 == UserState::Listening,
        "{dump}"
    );

    let states = out.agent_states();
    let expect = [
        (0.0, AgentState::Listening),
        (3.0, AgentState::Thinking),
        (3.5, AgentState::Speaking),
        (5.5, AgentState::Listening),
    ];
    assert_eq!(states.len(), expect.len(), "{dump}");
    for ((t, s), (et, es)) in states.iter().zip(expect) {
        assert!(
            near(*t, et) && *s == es,
            "state {s:?}@{t} expected {es:?}@{et}\n{dump}"
        );
    }

    let finals = out.find(|e| matches!(e, VoiceEvent::UserTranscript { is_final: true, .. }));
    assert_eq!(finals.len(), 1);
    assert!(near(secs(finals[0]), 2.7), "{dump}");

    let committed = out.find(|e| matches!(e, VoiceEvent::UserTurnCommitted { .. }));
    assert!(near(secs(committed[0]), 3.0), "{dump}");

    let metric = |name: &str| -> f64 {
        out.events
            .iter()
            .find_map(|e| match (&e.event, name) {
                (
                    VoiceEvent::Metrics(Metric::EndOfUtterance {
                        end_of_utterance_delay,
                        ..
                    }),
                    "eou",
                ) => Some(*end_of_utterance_delay),
                (
                    VoiceEvent::Metrics(Metric::EndOfUtterance {
                        transcription_delay,
                        ..
                    }),
                    "td",
                ) => Some(*transcription_delay),
                (VoiceEvent::Metrics(Metric::LlmTtft { ttft }), "ttft") => Some(*ttft),
                (VoiceEvent::Metrics(Metric::TtsTtfb { ttfb }), "ttfb") => Some(*ttfb),
                (VoiceEvent::Metrics(Metric::TtsAudio { audio_duration }), "audio") => {
                    Some(*audio_duration)
                }
                (VoiceEvent::Metrics(Metric::E2eLatency { e2e_latency }), "e2e") => {
                    Some(*e2e_latency)
                }
                _ => None,
            })
            .unwrap_or_else(|| panic!("no {name} metric\n{dump}"))
    };
    assert!(near(metric("eou"), 0.5), "{dump}");
    assert!(near(metric("td"), 0.2), "{dump}");
    assert!(near(metric("ttft"), 0.1), "{dump}");
    // From the first text sent to the TTS (3.1) to its first audio (3.5): the fake TTS
    // starts 0.2 s after the segment's text is complete (3.3).
    assert!(near(metric("ttfb"), 0.4), "{dump}");
    assert!(near(metric("audio"), 2.0), "{dump}");
    assert!(near(metric("e2e"), 1.0), "{dump}");

    let played = out.playbacks();
    assert_eq!(played.len(), 1, "{dump}");
    assert!(
        near(played[0].0, 5.5) && near(played[0].1, 2.0) && !played[0].2,
        "{dump}"
    );
    let committed = out.find(|e| {
        matches!(
            e,
            VoiceEvent::SpeechCommitted {
                interrupted: false,
                ..
            }
        )
    });
    assert!(near(secs(committed[0]), 5.5), "{dump}");
    assert_eq!(out.llm.request_count(), 1);
    let sent = out.llm.requests().pop().unwrap();
    let last = sent
        .chat_ctx
        .items()
        .last()
        .unwrap()
        .as_message()
        .unwrap()
        .clone();
    assert_eq!(
        (last.role, last.content.as_str()),
        (Role::User, "Hello, how are you?")
    );
}

/// §7.16: VAD mode defaults 0.5 / 3.0, and an explicit `min_delay` is honoured.
#[tokio::test(start_paused = true)]
async fn endpointing_defaults_and_override() {
    let d = EndpointingOptions::default();
    assert_eq!(
        (d.min_delay.as_secs_f64(), d.max_delay.as_secs_f64()),
        (0.5, 3.0)
    );

    let timeline = Timeline::new().speech(0.5, 2.5, "Hello there");
    let mut s = Scenario::new(timeline, hello_llm());
    s.options.endpointing.min_delay = std::time::Duration::from_millis(1500);
    s.total = 6.0;
    let out = s.run().await;
    let committed = out.find(|e| matches!(e, VoiceEvent::UserTurnCommitted { .. }));
    // End of speech 2.5 (back-dated) + 1.5.
    assert_eq!(committed.len(), 1, "{}", out.dump());
    assert!(near(secs(committed[0]), 4.0), "{}", out.dump());
}

/// §7.21: speech that resumes during the endpointing wait cancels the pending commit; the
/// two utterances become one turn.
#[tokio::test(start_paused = true)]
async fn start_of_speech_cancels_a_pending_commit() {
    // First utterance ends at 1.5 (EOS 2.0, final 1.7): the commit is due at 1.5 + 1.0 = 2.5.
    // The second starts at 2.2 (SOS 2.25) and cancels it.
    let mut s = Scenario::new(
        Timeline::new()
            .speech(0.5, 1.5, "Hello")
            .speech(2.2, 3.0, "is anyone there"),
        hello_llm(),
    );
    s.options.endpointing.min_delay = std::time::Duration::from_millis(1000);
    s.total = 6.0;
    let out = s.run().await;
    assert_eq!(
        out.committed_turns(),
        vec!["Hello is anyone there".to_string()],
        "{}",
        out.dump()
    );
    let at = out.find(|e| matches!(e, VoiceEvent::UserTurnCommitted { .. }));
    assert!(near(secs(at[0]), 4.0), "{}", out.dump());
    assert_eq!(out.llm.request_count(), 1);
}

/// §7.24: VAD speech with no transcript makes no user turn and no reply.
#[tokio::test(start_paused = true)]
async fn noise_without_transcript_makes_no_turn() {
    let mut s = Scenario::new(Timeline::new().noise(0.5, 2.5), hello_llm());
    s.total = 8.0;
    let out = s.run().await;
    assert!(out
        .find(|e| matches!(e, VoiceEvent::UserTurnCommitted { .. }))
        .is_empty());
    assert_eq!(out.llm.request_count(), 0);
    let states = out.agent_states();
    assert!(!states.is_empty());
    assert!(states.iter().all(|(_, s)| *s == AgentState::Listening));
}

/// Markdown and emoji are removed from what the TTS gets; the history keeps the text.
#[tokio::test(start_paused = true)]
async fn tts_gets_filtered_text_history_keeps_markdown() {
    let reply = "**Sure**, here is the *plan* 🎉";
    let llm = ScriptedLlm::new().on_user("hello", Reply::text(reply));
    let mut s = Scenario::new(Timeline::new().speech(0.5, 2.5, "Hello"), llm);
    s.total = 6.0;
    let out = s.run().await;
    let spoken = out.tts.spoken();
    assert_eq!(spoken.len(), 1, "{}", out.dump());
    assert!(
        !spoken[0].contains('*') && !spoken[0].contains('🎉'),
        "{spoken:?}"
    );
    assert!(spoken[0].contains("Sure, here is the plan"), "{spoken:?}");
    let committed =
        out.find(|e| matches!(e, VoiceEvent::SpeechCommitted { text, .. } if text == reply));
    assert_eq!(committed.len(), 1, "{}", out.dump());
}

/// Keypad digits from the transport reach the session.
#[tokio::test(start_paused = true)]
async fn dtmf_reaches_the_session() {
    use agents_core::prelude::*;
    use agents_voice::io::{InputEvent, TestAudioOutput};
    use agents_voice::pipeline::VoiceSession;
    use agents_voice::testing::fakes::{FakeStt, FakeTts, FakeVad};
    use std::sync::Arc;

    let session = Arc::new(AgentSession::builder(ScriptedLlm::new()).build());
    let mut session_events = session.subscribe();
    let timeline = Timeline::new();
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    let voice = VoiceSession::builder(session)
        .vad(Arc::new(FakeVad::new(&timeline)))
        .stt(Arc::new(FakeStt::new(&timeline)))
        .tts(Arc::new(FakeTts::new(16_000)))
        .start(Assistant, rx, TestAudioOutput::new(16_000))
        .await
        .unwrap();
    tx.send(InputEvent::Dtmf('5')).await.unwrap();
    let digits = loop {
        match session_events.recv().await {
            Some(SessionEvent::Dtmf { digits, .. }) => break digits,
            Some(_) => {}
            None => panic!("no DTMF event"),
        }
    };
    assert_eq!(digits, "5");
    tx.send(InputEvent::Hangup).await.unwrap();
    voice.join().await.unwrap();
}
