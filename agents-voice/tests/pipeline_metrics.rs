//! Metric anchors and event serialisation (reference §7 behaviour 33).

use std::time::Duration;

use agents_voice::metrics::{Metric, TurnAnchors};
use agents_voice::pipeline::{AgentState, TimedEvent, VoiceEvent};

fn s(x: f64) -> Duration {
    Duration::from_secs_f64(x)
}

/// Anchors for a speech starting at `start`, last heard at `speaking`, with its final
/// transcript at `last_final` (seconds).
fn anchors(start: f64, speaking: Option<f64>, last_final: f64) -> TurnAnchors {
    TurnAnchors {
        speech_start: Some(s(start)),
        last_speaking: speaking.map(s),
        last_final: Some(s(last_final)),
    }
}

#[test]
fn delays_are_measured_from_the_back_dated_end_of_speech() {
    let a = anchors(0.5, Some(2.5), 2.7);
    let Some(Metric::EndOfUtterance {
        end_of_utterance_delay,
        transcription_delay,
    }) = a.end_of_utterance(s(3.0))
    else {
        panic!("expected a metric")
    };
    assert!((end_of_utterance_delay - 0.5).abs() < 1e-9);
    assert!((transcription_delay - 0.2).abs() < 1e-9);
}

#[test]
fn a_final_before_the_end_of_speech_counts_as_zero_delay() {
    let a = anchors(0.5, Some(2.5), 2.0);
    match a.end_of_utterance(s(3.0)) {
        Some(Metric::EndOfUtterance {
            transcription_delay,
            ..
        }) => assert_eq!(transcription_delay, 0.0),
        other => panic!("{other:?}"),
    }
}

/// §7.33: an end of speech before the speech's start is stale: no metric rather than an
/// inflated one.
#[test]
fn stale_anchor_yields_no_eou_metric() {
    let stale = anchors(5.0, Some(2.5), 5.5);
    assert_eq!(stale.end_of_utterance(s(6.0)), None);
    let unknown = anchors(5.0, None, 5.5);
    assert_eq!(unknown.end_of_utterance(s(6.0)), None);
    let fine = anchors(5.0, Some(6.0), 6.1);
    assert!(fine.end_of_utterance(s(6.5)).is_some());
}

#[test]
fn events_serialise_for_transports() {
    let ev = TimedEvent {
        at: s(3.5),
        event: VoiceEvent::AgentState {
            old: AgentState::Thinking,
            new: AgentState::Speaking,
        },
    };
    assert_eq!(
        serde_json::to_string(&ev).unwrap(),
        r#"{"at":3.5,"type":"agent_state","old":"thinking","new":"speaking"}"#
    );
    let m = VoiceEvent::Metrics(Metric::E2eLatency { e2e_latency: 1.0 });
    assert_eq!(
        serde_json::to_string(&m).unwrap(),
        r#"{"type":"metrics","metric":"e2e_latency","e2e_latency":1.0}"#
    );
    assert_eq!(m.transcript_line().unwrap(), "metrics e2e_latency=1.000s");
}
