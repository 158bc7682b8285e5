//! The voice pipeline over the WebSocket, in real time: a scripted user (fake VAD/STT from
//! the voice toolkit) talks, the agent answers with fake TTS audio, the user barges in, and the
//! conversation keeps exactly what the client reports it played.

mod common;

use std::sync::Arc;
use std::time::Duration;

use agents_core::prelude::*;
use agents_core::testing::{Reply, ScriptedLlm};
use agents_voice::pipeline::VoiceSession;
use agents_voice::testing::fakes::{DelayedLlm, FakeStt, FakeTts, FakeVad, Timeline};
use agents_web::{WebCall, WebConfig};
use common::*;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

const RATE: usize = 24_000;
const FRAME: usize = 480;
const LONG: &str = "one two three four five six seven eight nine ten";

/// A plain assistant.
#[agent]
struct Assistant;

#[function_tools]
impl Assistant {}

fn timeline() -> Timeline {
    Timeline::new()
        .speech(0.3, 1.0, "Hello")
        .speech(2.8, 3.6, "Stop")
}

async fn run_session(call: WebCall) {
    let llm = ScriptedLlm::new()
        .on_user("hello", Reply::text(LONG))
        .otherwise(Reply::text("Okay."));
    let llm = DelayedLlm::new(llm, Duration::from_millis(50), Duration::from_millis(100));
    let session = Arc::new(AgentSession::builder(llm).build());
    let timeline = timeline();
    let mut builder = VoiceSession::builder(session.clone())
        .vad(Arc::new(FakeVad::new(&timeline)))
        .stt(Arc::new(FakeStt::new(&timeline)))
        .tts(Arc::new(FakeTts::new(16_000).audio_for(LONG, 4.0)));
    call.events.forward(builder.subscribe());
    call.events.forward(session.subscribe());
    let voice = builder
        .start(Assistant, call.input, call.output)
        .await
        .unwrap();
    let _ = voice.join().await;
}

/// The client side: sends 20 ms frames in real time (a tone while the script speaks), plays
/// received audio on a simulated real-time clock, reports it, and answers `clear`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipeline_hears_the_user_and_keeps_what_the_page_played() {
    let server = TestServer::start(WebConfig::default(), run_session).await;
    let (mut ws, _) = start(server.addr, true).await;
    let script = timeline();
    let (mut received, mut head) = (0u64, 0u64);
    let mut events: Vec<Value> = Vec::new();
    let mut cleared_at: Option<u64> = None;
    let mut paused = false;
    let mut controls = Vec::new();
    let t0 = tokio::time::Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    let mut n = 0u32;
    while n < 250 {
        tokio::select! {
            _ = tick.tick() => {
                let t = Duration::from_millis(20 * u64::from(n));
                let speaking = script.utterances.iter().any(|u| t >= u.start && t < u.end);
                let samples = if speaking { tone(FRAME, RATE as u32, 300.0, 3000.0) } else { vec![0; FRAME] };
                send_audio(&mut ws, &samples).await;
                n += 1;
                // Play 20 ms of what is queued, and say so.
                if !paused {
                    head = (head + FRAME as u64).min(received);
                }
                send_json(&mut ws, json!({"type":"playout","head":head,"played":head,"queued":received-head})).await;
            }
            msg = next(&mut ws) => match msg {
                Some(Message::Binary(b)) => received += (b.len() / 2) as u64,
                Some(Message::Text(t)) => {
                    let v: Value = serde_json::from_str(&t).unwrap();
                    match v["type"].as_str() {
                        Some(c @ ("pause" | "resume")) => {
                            paused = c == "pause";
                            controls.push(c.to_string());
                        }
                        Some("clear") => {
                            controls.push("clear".to_string());
                            cleared_at = Some(head);
                            send_json(&mut ws, json!({"type":"cleared","seq":v["seq"],"head":head})).await;
                            head = received;
                        }
                        Some("event") => events.push(v["event"].clone()),
                        _ => panic!("unexpected {v}"),
                    }
                }
                other => panic!("connection ended early: {other:?} after {:?}", t0.elapsed()),
            }
        }
    }
    ws.close(None).await.unwrap();
    server.shutdown().await;

    let dump = events
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    let has = |f: &dyn Fn(&Value) -> bool| events.iter().any(f);
    // The agent heard the words.
    assert!(
        has(&|e| e["type"] == "user_transcript" && e["is_final"] == true && e["text"] == "Hello"),
        "{dump}"
    );
    assert!(
        has(&|e| e["type"] == "message" && e["role"] == "user" && e["content"] == "Hello"),
        "{dump}"
    );
    // Its reply reached the page and was cut by the barge-in.
    assert!(received > (RATE / 2) as u64, "received {received} samples");
    let heard = cleared_at.expect("the page was told to clear");
    assert!(heard > 0 && heard < received, "heard {heard} of {received}");
    assert!(has(&|e| e["type"] == "interrupted"), "{dump}");
    // The barge-in first held playback (false-interruption check), then cleared it and
    // released the hold for the next reply.
    assert_eq!(controls, ["pause", "clear", "resume"], "{dump}");
    // The pipeline's playback position is the page's playhead at the clear.
    let finished = events
        .iter()
        .find(|e| e["type"] == "playback_finished")
        .unwrap_or_else(|| panic!("no playback_finished\n{dump}"));
    assert_eq!(finished["interrupted"], true, "{dump}");
    let pos = finished["playback_position"].as_f64().unwrap();
    assert!(
        (pos - heard as f64 / RATE as f64).abs() < 0.001,
        "{pos} vs {heard}\n{dump}"
    );
    // The history keeps the heard part of the reply only.
    let truncated = events
        .iter()
        .find(|e| e["type"] == "reply_truncated")
        .unwrap_or_else(|| panic!("no reply_truncated\n{dump}"));
    let kept = truncated["heard"].as_str().unwrap();
    println!("heard {heard} of {received} samples; position {pos} s; kept {kept:?}");
    assert!(
        !kept.is_empty() && LONG.starts_with(kept) && kept.len() < LONG.len(),
        "{dump}"
    );
}
