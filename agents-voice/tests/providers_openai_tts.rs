//! OpenAI-compatible TTS (through the sentence adapter) against the in-process speech server.

mod provider_support;

use std::time::Duration;

use agents_voice::retry::RetryPolicy;
use agents_voice::testing::servers::{tone_for_text, SpeechReply, SpeechServer};
use agents_voice::tts::{
    OpenAiTts, OpenAiTtsFormat, OpenAiTtsOptions, SentenceTtsAdapter, SynthesizedAudio, Tts,
    TtsInput,
};
use agents_voice::{VoiceError, VoiceResult};
use provider_support::{is_provider_error, send_text, speak_in_chunks};

fn tts(
    server: &SpeechServer,
    format: OpenAiTtsFormat,
    timeout_ms: u64,
) -> SentenceTtsAdapter<OpenAiTts> {
    let provider = OpenAiTts::new(OpenAiTtsOptions {
        base_url: server.base_url().to_string(),
        api_key: Some("sk-test".into()),
        model: "tts-1".into(),
        voice: "alloy".into(),
        format,
        speed: None,
        instructions: None,
        request_timeout: Duration::from_millis(timeout_ms),
    });
    SentenceTtsAdapter::new(provider).with_retry(RetryPolicy {
        timeout: Duration::from_millis(timeout_ms),
        ..RetryPolicy::default()
    })
}

/// Streams `text` in 3-character chunks, ends; collects everything.
async fn speak(tts: &dyn Tts, text: &str) -> Vec<VoiceResult<SynthesizedAudio>> {
    speak_in_chunks(tts, &[text], 3, false).await
}

/// A sentence long enough to be sent on its own.
const SENTENCE: &str = "This sentence is long enough to send.";

/// Scripts `reply` for the next request, then speaks [`SENTENCE`] as PCM with this timeout.
async fn speak_sentence(
    server: &SpeechServer,
    reply: SpeechReply,
    timeout_ms: u64,
) -> Vec<VoiceResult<SynthesizedAudio>> {
    server.push_reply(reply);
    speak(&tts(server, OpenAiTtsFormat::Pcm, timeout_ms), SENTENCE).await
}

const TEXT: &str = "**Hello** there, this is the first sentence 😀. And here is the second one!";
const S1: &str = "Hello there, this is the first sentence .";
const S2: &str = "And here is the second one!";

fn samples(items: &[VoiceResult<SynthesizedAudio>]) -> usize {
    items
        .iter()
        .filter_map(|i| i.as_ref().ok())
        .map(|a| a.frame.samples.len())
        .sum()
}

#[tokio::test]
async fn pcm_is_streamed_per_sentence_with_markdown_and_emoji_removed() {
    let server = SpeechServer::start().await.unwrap();
    let tts = tts(&server, OpenAiTtsFormat::Pcm, 5_000);
    assert_eq!(tts.sample_rate(), 24_000);
    let out = speak(&tts, TEXT).await;
    let inputs: Vec<String> = server.requests().into_iter().map(|r| r.input).collect();
    assert_eq!(
        inputs,
        vec![S1, S2],
        "filtered, split into sentences, in order"
    );
    let req = &server.requests()[0];
    assert_eq!(
        (
            req.model.as_str(),
            req.voice.as_str(),
            req.response_format.as_str()
        ),
        ("tts-1", "alloy", "pcm")
    );
    assert!(out.iter().all(|i| i.is_ok()));
    assert_eq!(
        samples(&out),
        tone_for_text(S1, 24_000).len() + tone_for_text(S2, 24_000).len()
    );
    let audio: Vec<&SynthesizedAudio> = out.iter().map(|i| i.as_ref().unwrap()).collect();
    assert!(audio
        .iter()
        .all(|a| a.segment_id == 0 && a.frame.sample_rate == 24_000));
    assert!(audio.last().unwrap().is_final && audio.iter().filter(|a| a.is_final).count() == 1);
    assert!(audio
        .iter()
        .all(|a| a.frame.duration() <= Duration::from_millis(200)));
    let text: String = audio.iter().map(|a| a.delta_text.as_str()).collect();
    assert_eq!(text, format!("{S1}{S2}"));
    // The first sentence's audio starts with the tone, sample for sample.
    let first: Vec<i16> = audio
        .iter()
        .flat_map(|a| a.frame.samples.clone())
        .take(1000)
        .collect();
    assert_eq!(first, tone_for_text(S1, 24_000)[..1000]);
}

#[tokio::test]
async fn wav_responses_are_parsed_while_streaming() {
    let server = SpeechServer::start().await.unwrap();
    let out = speak(&tts(&server, OpenAiTtsFormat::Wav, 5_000), TEXT).await;
    assert!(out.iter().all(|i| i.is_ok()));
    assert_eq!(server.requests()[0].response_format, "wav");
    assert_eq!(
        samples(&out),
        tone_for_text(S1, 24_000).len() + tone_for_text(S2, 24_000).len()
    );
}

#[tokio::test]
async fn flush_starts_a_new_segment() {
    let server = SpeechServer::start().await.unwrap();
    let tts = tts(&server, OpenAiTtsFormat::Pcm, 5_000);
    let mut stream = tts.stream().unwrap();
    send_text(&stream.input, "Short one.").await;
    stream.input.send(TtsInput::Flush).await.unwrap();
    send_text(&stream.input, "Second segment here.").await;
    stream.input.send(TtsInput::EndInput).await.unwrap();
    let mut finals = Vec::new();
    while let Some(item) = stream.output.recv().await {
        let a = item.unwrap();
        if a.is_final {
            finals.push(a.segment_id);
        }
    }
    assert_eq!(finals, vec![0, 1], "one final frame per segment");
    let inputs: Vec<String> = server.requests().into_iter().map(|r| r.input).collect();
    assert_eq!(
        inputs,
        vec!["Short one.", "Second segment here."],
        "a flush sends short text too"
    );
}

#[tokio::test]
async fn a_500_before_audio_is_retried() {
    let server = SpeechServer::start().await.unwrap();
    let out = speak_sentence(&server, SpeechReply::Status(500), 5_000).await;
    assert!(out.iter().all(|i| i.is_ok()), "recovered by the retry");
    assert_eq!(server.requests().len(), 2);
    assert_eq!(samples(&out), tone_for_text(SENTENCE, 24_000).len());
}

#[tokio::test]
async fn a_400_fails_without_retry() {
    let server = SpeechServer::start().await.unwrap();
    let out = speak_sentence(&server, SpeechReply::Status(400), 5_000).await;
    let err = out.last().unwrap().as_ref().unwrap_err();
    assert!(is_provider_error(err, 400, false), "{err}");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_hanging_server_times_out() {
    let server = SpeechServer::start().await.unwrap();
    for _ in 0..4 {
        server.push_reply(SpeechReply::Hang);
    }
    let mut tts = tts(&server, OpenAiTtsFormat::Pcm, 200);
    tts = tts.with_retry(RetryPolicy {
        timeout: Duration::from_millis(200),
        max_retries: 1,
        ..RetryPolicy::default()
    });
    let out = speak(&tts, SENTENCE).await;
    assert_eq!(out.len(), 1);
    assert!(
        matches!(out[0], Err(VoiceError::Timeout { .. })),
        "{:?}",
        out[0]
    );
    assert_eq!(
        server.requests().len(),
        2,
        "one attempt and one retry, both hung"
    );
}

#[tokio::test]
async fn partial_audio_then_error_is_surfaced_and_not_retried() {
    let server = SpeechServer::start().await.unwrap();
    let out = speak_sentence(&server, SpeechReply::PartialThenError(9_602), 5_000).await;
    let (audio, errors): (Vec<_>, Vec<_>) = out.into_iter().partition(|i| i.is_ok());
    let got: usize = audio
        .iter()
        .map(|a| a.as_ref().unwrap().frame.samples.len())
        .sum();
    assert!(
        got > 0 && got <= 4_801,
        "the partial audio went out ({got} samples)"
    );
    assert_eq!(errors.len(), 1);
    let err = errors[0].as_ref().unwrap_err();
    assert!(
        !err.is_retryable(),
        "marked not retryable once audio went out: {err}"
    );
    assert_eq!(server.requests().len(), 1, "no retry after audio");
}

#[tokio::test]
async fn partial_audio_then_a_stall_times_out_without_retry() {
    let server = SpeechServer::start().await.unwrap();
    let out = speak_sentence(&server, SpeechReply::PartialThenHang(4_800), 300).await;
    assert!(out.first().unwrap().is_ok());
    let err = out.last().unwrap().as_ref().unwrap_err();
    assert!(
        !err.is_retryable() && err.to_string().contains("timed out"),
        "{err}"
    );
    assert_eq!(server.requests().len(), 1);
}
