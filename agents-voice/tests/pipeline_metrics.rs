//! Metric anchors and event serialisation (reference §7 behaviour 33).

use std::time::Duration;

use agents_voice::metrics::{Metric, TurnAnchors};
use agents_voice::pipeline::{AgentState, TimedEvent, VoiceEvent};

fn s(x: f64) -> Duration {
    Duration::from_secs_f64(x)
}

/// §7.33: an end of speech before the speech's start is stale: no metric rather than an
/// inflated one.
#[test]
fn stale_anchor_yields_no_eou_metric() {
    let stale = TurnAnchors {
        speech_start: Some(s(5.0)),
        last_speaking: Some(s(2.5)),
        last_final: Some(s(5.5)),
    };
    assert_eq!(stale.end_of_utterance(s(6.0)), None);
    let unknown = TurnAnchors {
        speech_start: Some(s(5.0)),
        last_speaking: None,
        last_final: Some(s(5.5)),
    };
    assert_eq!(unknown.end_of_utterance(s(6.0)), None);
    let fine = TurnAnchors {
        speech_start: Some(s(5.0)),
        last_speaking: Some(s(6.0)),
        last_final: Some(s(6.1)),
    };
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
