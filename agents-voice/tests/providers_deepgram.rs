//! Deepgram streaming STT against the in-process Deepgram-like server.

mod provider_support;

use std::time::Duration;

use agents_voice::audio::AudioFrame;
use agents_voice::retry::RetryPolicy;
use agents_voice::stt::{
    DeepgramOptions, DeepgramStt, SpeechEvent, SpeechEventKind, Stt, SttInput,
};
use agents_voice::testing::servers::{DeepgramServer, DeepgramStep};
use agents_voice::VoiceResult;
use provider_support::{assert_only_rejection, drain};

fn options(server: &DeepgramServer) -> DeepgramOptions {
    let mut o = DeepgramOptions::new("dg-test");
    o.url = server.url().to_string();
    o.retry = RetryPolicy {
        timeout: Duration::from_secs(5),
        ..RetryPolicy::default()
    };
    o
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Sends `secs` of audio at `rate` in 20 ms frames, then ends input; collects events.
async fn run(stt: &DeepgramStt, rate: u32, secs: f64) -> Vec<VoiceResult<SpeechEvent>> {
    let mut stream = stt.stream().unwrap();
    let frames = (secs / 0.02) as usize;
    for _ in 0..frames {
        let f = AudioFrame::new(vec![500; rate as usize / 50], rate, 1).unwrap();
        stream.input.send(SttInput::Audio(f)).await.unwrap();
    }
    stream.input.send(SttInput::EndInput).await.unwrap();
    drain(&mut stream.events, Duration::from_secs(10)).await
}

#[tokio::test]
async fn results_map_to_speech_events() {
    let server = DeepgramServer::start(vec![
        DeepgramStep::speech_started(ms(300), 0.3),
        DeepgramStep::results(ms(600), "hello", false, false, 0.3, 0.3),
        DeepgramStep::results(ms(900), "hello there", true, true, 0.3, 0.6),
        DeepgramStep::results(ms(1400), "second", true, false, 1.2, 0.2),
        DeepgramStep::utterance_end(ms(1800), 1.4),
    ])
    .await
    .unwrap();
    let stt = DeepgramStt::new(options(&server));
    assert!(stt.capabilities().streaming && stt.capabilities().interim_results);
    let events: Vec<SpeechEvent> = run(&stt, 16_000, 2.0)
        .await
        .into_iter()
        .map(|e| e.unwrap())
        .collect();
    use SpeechEventKind::*;
    let kinds: Vec<_> = events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        vec![
            StartOfSpeech,
            InterimTranscript,
            FinalTranscript,
            EndOfSpeech,
            StartOfSpeech,
            FinalTranscript,
            EndOfSpeech
        ]
    );
    assert_eq!(events[1].text(), "hello");
    assert_eq!(events[2].text(), "hello there");
    assert_eq!(
        events[2].alternatives[0].end_time,
        Duration::from_millis(900)
    );
    assert_eq!(events[3].speech_end_time, Some(Duration::from_millis(900)));
    assert_eq!(events[6].speech_end_time, Some(Duration::from_millis(1400)));
    let q = &server.queries()[0];
    for p in [
        "encoding=linear16",
        "sample_rate=16000",
        "interim_results=true",
        "endpointing=25",
        "model=nova-3",
        "channels=1",
    ] {
        assert!(q.contains(p), "{p} missing from {q}");
    }
    assert_eq!(server.audio_bytes(), 2 * 16_000 * 2, "2 s of linear16");
    assert_eq!(
        server.control_messages().last().map(String::as_str),
        Some("CloseStream")
    );
}

#[tokio::test]
async fn telephony_sends_8khz_mulaw_and_resamples_other_rates() {
    let server = DeepgramServer::start(vec![]).await.unwrap();
    let stt = DeepgramStt::new(options(&server).telephony());
    // 16 kHz input is resampled to the 8 kHz wire rate, one byte per μ-law sample.
    let events = run(&stt, 16_000, 1.0).await;
    assert!(events.is_empty(), "{events:?}");
    let q = &server.queries()[0];
    assert!(
        q.contains("encoding=mulaw") && q.contains("sample_rate=8000"),
        "{q}"
    );
    let bytes = server.audio_bytes();
    assert!(
        (7_800..=8_000).contains(&bytes),
        "≈1 s of 8 kHz μ-law, got {bytes} bytes"
    );
}

#[tokio::test]
async fn keepalive_flows_while_no_audio_is_sent_and_flush_finalizes() {
    let server = DeepgramServer::start(vec![]).await.unwrap();
    let mut o = options(&server);
    o.keepalive = ms(50);
    let stt = DeepgramStt::new(o);
    let mut stream = stt.stream().unwrap();
    // Wait (bounded) until keepalives have flowed; connecting may be slow on a loaded machine.
    let keepalives = || {
        server
            .control_messages()
            .iter()
            .filter(|c| *c == "KeepAlive")
            .count()
    };
    let deadline = tokio::time::Instant::now() + ms(10_000);
    while keepalives() < 2 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(ms(20)).await;
    }
    stream.input.send(SttInput::Flush).await.unwrap();
    stream.input.send(SttInput::EndInput).await.unwrap();
    while let Some(ev) = stream.events.recv().await {
        ev.unwrap();
    }
    let control = server.control_messages();
    assert!(
        control.iter().filter(|c| *c == "KeepAlive").count() >= 2,
        "{control:?}"
    );
    let tail: Vec<&str> = control
        .iter()
        .rev()
        .take(2)
        .rev()
        .map(String::as_str)
        .collect();
    assert_eq!(tail, vec!["Finalize", "CloseStream"]);
}

#[tokio::test]
async fn handshake_5xx_is_retried_and_401_is_not() {
    let server = DeepgramServer::start(vec![DeepgramStep::results(
        ms(100),
        "hi",
        true,
        true,
        0.0,
        0.1,
    )])
    .await
    .unwrap();
    server.reject_next_handshake(503);
    let events = run(&DeepgramStt::new(options(&server)), 16_000, 0.2).await;
    assert!(events.iter().all(|e| e.is_ok()));
    assert!(events.iter().any(|e| e.as_ref().unwrap().text() == "hi"));

    server.reject_next_handshake(401);
    let events = run(&DeepgramStt::new(options(&server)), 16_000, 0.1).await;
    assert_only_rejection(&events, 401);
}
