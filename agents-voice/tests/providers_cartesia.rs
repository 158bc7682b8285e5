//! Cartesia streaming TTS against the in-process Cartesia-like server.

mod provider_support;

use std::time::Duration;

use agents_voice::retry::RetryPolicy;
use agents_voice::testing::servers::{tone_for_text, CartesiaFault, CartesiaServer};
use agents_voice::tts::{CartesiaOptions, CartesiaTts, SynthesizedAudio};
use agents_voice::{VoiceError, VoiceResult};
use provider_support::{assert_only_rejection, speak_in_chunks};
use serde_json::Value;

fn tts(server: &CartesiaServer, timeout_ms: u64) -> CartesiaTts {
    let mut o = CartesiaOptions::new("ca-test");
    o.url = server.url().to_string();
    o.retry = RetryPolicy {
        timeout: Duration::from_millis(timeout_ms),
        ..RetryPolicy::default()
    };
    CartesiaTts::new(o)
}

/// Sends segments (each streamed in 5-char chunks and flushed), ends; collects output.
async fn speak(tts: &CartesiaTts, segments: &[&str]) -> Vec<VoiceResult<SynthesizedAudio>> {
    speak_in_chunks(tts, segments, 5, true).await
}

fn transcripts(server: &CartesiaServer) -> Vec<(String, String, bool)> {
    server
        .requests()
        .iter()
        .map(|v| {
            (
                v["context_id"].as_str().unwrap_or("").to_string(),
                v["transcript"].as_str().unwrap_or("").to_string(),
                v["continue"].as_bool().unwrap_or(false),
            )
        })
        .collect()
}

#[tokio::test]
async fn segments_are_contexts_and_audio_comes_back_in_order() {
    let server = CartesiaServer::start().await.unwrap();
    let seg1 = "Thanks for calling the clinic. How can I help you today?";
    let seg2 = "Please hold **one** moment.";
    let out = speak(&tts(&server, 5_000), &[seg1, seg2]).await;
    let audio: Vec<SynthesizedAudio> = out.into_iter().map(|r| r.unwrap()).collect();
    let reqs = transcripts(&server);
    // Segment 1: two sentences with continue=true, then an empty closing message.
    assert_eq!(reqs[0].1, "Thanks for calling the clinic. ");
    assert_eq!(reqs[1].1, "How can I help you today? ");
    assert_eq!((reqs[2].1.as_str(), reqs[2].2), ("", false));
    assert!(reqs[0].2 && reqs[1].2);
    assert_eq!(reqs[0].0, reqs[2].0, "one context per segment");
    // Segment 2: markdown removed, its own context.
    assert_eq!(reqs[3].1, "Please hold one moment. ");
    assert_ne!(reqs[3].0, reqs[0].0);
    let v = &server.requests()[0];
    assert_eq!(v["output_format"]["encoding"], Value::from("pcm_s16le"));
    assert_eq!(v["output_format"]["sample_rate"], Value::from(24_000));

    let seg_samples = |id: u64| {
        audio
            .iter()
            .filter(|a| a.segment_id == id)
            .map(|a| a.frame.samples.len())
            .sum::<usize>()
    };
    let expect1 = tone_for_text("Thanks for calling the clinic. ", 24_000).len()
        + tone_for_text("How can I help you today? ", 24_000).len();
    assert_eq!(seg_samples(0), expect1);
    assert_eq!(
        seg_samples(1),
        tone_for_text("Please hold one moment. ", 24_000).len()
    );
    let finals: Vec<u64> = audio
        .iter()
        .filter(|a| a.is_final)
        .map(|a| a.segment_id)
        .collect();
    assert_eq!(finals, vec![0, 1]);
    assert!(
        audio.windows(2).all(|w| w[0].segment_id <= w[1].segment_id),
        "segments in order"
    );
}

#[tokio::test]
async fn an_error_before_audio_reconnects_and_replays() {
    let server = CartesiaServer::start().await.unwrap();
    server.push_fault(CartesiaFault::ErrorBeforeAudio(500));
    let out = speak(
        &tts(&server, 5_000),
        &["This is a sentence that is long enough."],
    )
    .await;
    assert!(out.iter().all(|r| r.is_ok()), "{out:?}");
    assert_eq!(server.connections(), 2);
    let total: usize = out
        .iter()
        .map(|r| r.as_ref().unwrap().frame.samples.len())
        .sum();
    assert_eq!(
        total,
        tone_for_text("This is a sentence that is long enough. ", 24_000).len()
    );
}

#[tokio::test]
async fn an_error_after_audio_is_surfaced_without_retry() {
    let server = CartesiaServer::start().await.unwrap();
    server.push_fault(CartesiaFault::ErrorAfterAudio);
    let out = speak(
        &tts(&server, 5_000),
        &["This is a sentence that is long enough."],
    )
    .await;
    assert!(out.first().unwrap().is_ok(), "partial audio went out");
    let err = out.last().unwrap().as_ref().unwrap_err();
    assert!(!err.is_retryable(), "{err}");
    assert_eq!(server.connections(), 1, "no reconnect after audio");
}

#[tokio::test]
async fn a_silent_server_times_out_and_a_401_is_final() {
    let server = CartesiaServer::start().await.unwrap();
    for _ in 0..4 {
        server.push_fault(CartesiaFault::Hang);
    }
    let mut o = CartesiaOptions::new("ca-test");
    o.url = server.url().to_string();
    // Short delays keep the test quick; the schedule itself is tested in `retry`.
    o.retry = RetryPolicy {
        timeout: Duration::from_millis(200),
        retry_interval: Duration::from_millis(200),
        ..RetryPolicy::default()
    };
    let out = speak(
        &CartesiaTts::new(o),
        &["This is a sentence that is long enough."],
    )
    .await;
    match out.as_slice() {
        [Err(VoiceError::Timeout { .. })] => {}
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert_eq!(server.connections(), 4, "1 attempt + 3 retries");

    let server = CartesiaServer::start().await.unwrap();
    server.push_fault(CartesiaFault::RejectHandshake(401));
    let out = speak(&tts(&server, 2_000), &["Hello there, how are you today?"]).await;
    assert_only_rejection(&out, 401);
    assert_eq!(server.connections(), 1);
}
