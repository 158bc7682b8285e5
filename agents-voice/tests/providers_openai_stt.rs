//! OpenAI-compatible STT against the in-process transcription server.

mod provider_support;

use std::sync::Arc;
use std::time::Duration;

use agents_voice::audio::{read_wav, AudioFrame};
use agents_voice::retry::RetryPolicy;
use agents_voice::stt::{
    BatchStt, OpenAiStt, OpenAiSttOptions, SpeechEventKind, Stt, SttInput, SttStreamAdapter,
};
use agents_voice::testing::servers::{TranscriptionReply, TranscriptionServer};
use agents_voice::vad::{EarshotVad, VadOptions};
use agents_voice::VoiceError;
use provider_support::{drain, is_provider_error};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/two_utterances.wav"
);

fn stt(server: &TranscriptionServer, retry: RetryPolicy) -> OpenAiStt {
    OpenAiStt::new(OpenAiSttOptions {
        base_url: server.base_url().to_string(),
        api_key: Some("sk-test".into()),
        model: "whisper-1".into(),
        language: Some("en".into()),
        retry,
    })
}

fn fast_retry(timeout_ms: u64) -> RetryPolicy {
    RetryPolicy {
        timeout: Duration::from_millis(timeout_ms),
        ..RetryPolicy::default()
    }
}

/// The server's STT behind an earshot VAD that ends an utterance after 0.5 s of silence.
fn vad_adapter(server: &TranscriptionServer) -> SttStreamAdapter<OpenAiStt> {
    let vad = Arc::new(EarshotVad::new(VadOptions {
        min_silence: Duration::from_millis(500),
        ..VadOptions::default()
    }));
    SttStreamAdapter::new(stt(server, fast_retry(5_000)), vad)
}

fn one_second() -> AudioFrame {
    AudioFrame::silence(16_000, 1, Duration::from_secs(1))
}

#[tokio::test]
async fn uploads_a_wav_form_and_reads_the_text() {
    let server = TranscriptionServer::start("  hello world ").await.unwrap();
    let data = stt(&server, fast_retry(5_000))
        .recognize(one_second())
        .await
        .unwrap();
    assert_eq!(data.text, "hello world");
    assert_eq!(data.language.as_deref(), Some("en"));
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].model, "whisper-1");
    assert_eq!(reqs[0].response_format.as_deref(), Some("json"));
    assert_eq!(reqs[0].authorization.as_deref(), Some("Bearer sk-test"));
    assert_eq!(
        (reqs[0].audio.sample_rate, reqs[0].audio.samples.len()),
        (16_000, 16_000)
    );
}

#[tokio::test]
async fn a_500_is_retried_and_a_400_is_not() {
    let server = TranscriptionServer::start("ok").await.unwrap();
    server.push_reply(TranscriptionReply::Status(500));
    let started = std::time::Instant::now();
    let data = stt(&server, fast_retry(5_000))
        .recognize(one_second())
        .await
        .unwrap();
    assert_eq!(data.text, "ok");
    assert_eq!(server.requests().len(), 2, "one failure, one retry");
    assert!(
        started.elapsed() >= Duration::from_millis(100),
        "first retry waits 0.1 s"
    );

    server.push_reply(TranscriptionReply::Status(400));
    let err = stt(&server, fast_retry(5_000))
        .recognize(one_second())
        .await
        .unwrap_err();
    assert!(is_provider_error(&err, 400, false), "{err}");
    assert_eq!(server.requests().len(), 3, "no retry after a 400");
}

#[tokio::test]
async fn a_hanging_server_times_out_then_the_retry_succeeds() {
    let server = TranscriptionServer::start("after the hang").await.unwrap();
    server.push_reply(TranscriptionReply::Hang);
    let data = stt(&server, fast_retry(300))
        .recognize(one_second())
        .await
        .unwrap();
    assert_eq!(data.text, "after the hang");

    server.push_reply(TranscriptionReply::Hang);
    let err = stt(&server, RetryPolicy::no_retry(Duration::from_millis(200)))
        .recognize(one_second())
        .await
        .unwrap_err();
    assert!(
        matches!(err, VoiceError::Timeout { after, .. } if after == Duration::from_millis(200)),
        "{err}"
    );
}

#[tokio::test]
async fn unreachable_server_is_a_retryable_connection_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let stt = OpenAiStt::new(OpenAiSttOptions {
        base_url: format!("http://127.0.0.1:{port}/v1"),
        api_key: None,
        model: "whisper-1".into(),
        language: None,
        retry: RetryPolicy::no_retry(Duration::from_secs(2)),
    });
    let err = stt.recognize(one_second()).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
}

#[tokio::test]
async fn the_stream_adapter_turns_vad_segments_into_transcripts() {
    let server = TranscriptionServer::start("").await.unwrap();
    server.push_reply(TranscriptionReply::Text(
        "Hello, I would like to book a table.".into(),
    ));
    server.push_reply(TranscriptionReply::Text("My name is John.".into()));
    let adapter = vad_adapter(&server);
    assert!(adapter.capabilities().streaming && !adapter.capabilities().interim_results);
    let mut stream = adapter.stream().unwrap();
    let audio = read_wav(FIXTURE).unwrap();
    for chunk in audio.samples.chunks(320) {
        let frame = AudioFrame::new(chunk.to_vec(), 16_000, 1).unwrap();
        stream.input.send(SttInput::Audio(frame)).await.unwrap();
    }
    stream.input.send(SttInput::EndInput).await.unwrap();
    let events: Vec<_> = drain(&mut stream.events, Duration::from_secs(10))
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    use SpeechEventKind::*;
    let kinds: Vec<_> = events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        vec![
            StartOfSpeech,
            EndOfSpeech,
            FinalTranscript,
            StartOfSpeech,
            EndOfSpeech,
            FinalTranscript
        ]
    );
    assert_eq!(events[2].text(), "Hello, I would like to book a table.");
    assert_eq!(events[5].text(), "My name is John.");
    // End of speech is back-dated by the VAD's silence: close to the real ends (2.673 s, 4.805 s).
    let end1 = events[1].speech_end_time.unwrap().as_secs_f64();
    let end2 = events[4].speech_end_time.unwrap().as_secs_f64();
    assert!((end1 - 2.673).abs() < 0.15, "end 1 at {end1:.3}");
    assert!((end2 - 4.805).abs() < 0.15, "end 2 at {end2:.3}");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2, "one request per utterance");
    assert!(
        reqs[0].audio.duration() > Duration::from_secs(2),
        "utterance 1 with padding"
    );
    assert!(reqs[1].audio.duration() > Duration::from_millis(900));
}

#[tokio::test]
async fn an_empty_transcript_gives_no_final_event() {
    let server = TranscriptionServer::start("   ").await.unwrap();
    let adapter = vad_adapter(&server);
    let mut stream = adapter.stream().unwrap();
    let audio = read_wav(FIXTURE).unwrap();
    stream.input.send(SttInput::Audio(audio)).await.unwrap();
    drop(stream.input);
    let kinds: Vec<_> = drain(&mut stream.events, Duration::from_secs(10))
        .await
        .into_iter()
        .map(|ev| ev.unwrap().kind)
        .collect();
    assert!(!kinds.is_empty());
    assert!(
        !kinds.contains(&SpeechEventKind::FinalTranscript),
        "{kinds:?}"
    );
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn stream_outside_a_runtime_is_an_error_not_a_panic() {
    let stt = OpenAiStt::new(OpenAiSttOptions {
        base_url: "http://127.0.0.1:9/v1".into(),
        api_key: None,
        model: "whisper-1".into(),
        language: None,
        retry: RetryPolicy::default(),
    });
    let adapter = SttStreamAdapter::new(stt, Arc::new(EarshotVad::default()));
    let err = adapter.stream().err().expect("no runtime");
    assert!(err.to_string().contains("tokio runtime"), "{err}");
}
