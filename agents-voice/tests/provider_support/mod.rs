//! Helpers shared by the provider tests: driving STT/TTS streams and checking their errors.
#![allow(dead_code)]

use std::fmt::Debug;
use std::time::Duration;

use agents_voice::tts::{SynthesizedAudio, Tts, TtsInput};
use agents_voice::{VoiceError, VoiceResult};
use tokio::sync::mpsc;

/// Receives until the sender side closes. Each wait is bounded by `limit`, so a stream that
/// hangs fails the test instead of wedging it.
pub async fn drain<T>(rx: &mut mpsc::Receiver<T>, limit: Duration) -> Vec<T> {
    let mut out = Vec::new();
    while let Some(item) = tokio::time::timeout(limit, rx.recv()).await.unwrap() {
        out.push(item);
    }
    out
}

/// Sends one piece of text to a TTS stream.
pub async fn send_text(input: &mpsc::Sender<TtsInput>, text: impl Into<String>) {
    input.send(TtsInput::Text(text.into())).await.unwrap();
}

/// Streams each segment to `tts` in `chunk`-character pieces (followed by a flush when
/// `flush_each`), ends input and collects everything the stream produces.
pub async fn speak_in_chunks(
    tts: &dyn Tts,
    segments: &[&str],
    chunk: usize,
    flush_each: bool,
) -> Vec<VoiceResult<SynthesizedAudio>> {
    let mut stream = tts.stream().unwrap();
    for seg in segments {
        let chars: Vec<char> = seg.chars().collect();
        for c in chars.chunks(chunk) {
            send_text(&stream.input, c.iter().collect::<String>()).await;
        }
        if flush_each {
            stream.input.send(TtsInput::Flush).await.unwrap();
        }
    }
    stream.input.send(TtsInput::EndInput).await.unwrap();
    drain(&mut stream.output, Duration::from_secs(20)).await
}

/// Whether `err` is a provider error with HTTP `status` and this retryability.
pub fn is_provider_error(err: &VoiceError, status: u16, retryable: bool) -> bool {
    matches!(
        err,
        VoiceError::Provider { status: s, retryable: r, .. } if *s == Some(status) && *r == retryable
    )
}

/// Checks that a stream's whole output is one non-retryable provider error with `status`.
pub fn assert_only_rejection<T: Debug>(out: &[VoiceResult<T>], status: u16) {
    match out {
        [Err(e)] if is_provider_error(e, status, false) => {}
        other => panic!("expected one {status} error, got {other:?}"),
    }
}
