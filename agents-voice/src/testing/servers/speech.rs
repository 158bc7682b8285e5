//! OpenAI-compatible `POST /v1/audio/speech` test server: checks the JSON body, records
//! it, and streams [`tone_for_text`](super::tone_for_text) audio as `pcm` (24 kHz s16le)
//! or `wav`, in odd-sized chunks so clients must carry half samples. Faults: error
//! statuses, hangs, delays, and audio that breaks off mid-stream.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use futures::StreamExt;
use serde_json::Value;

use super::scripted::{ScriptedServer, SharedExchange};
use super::{lock, openai_error, tone_for_text};
use crate::audio::{wav_to_bytes, AudioFrame};

/// Rate of the `pcm` format.
const PCM_RATE: u32 = 24_000;
/// Bytes per streamed chunk (odd on purpose).
const CHUNK: usize = 4_801;

/// One scripted answer.
#[derive(Clone, Debug)]
pub enum SpeechReply {
    /// Stream the audio for the text.
    Audio,
    /// Wait, then stream the audio.
    Delayed(Duration),
    /// An error status with a JSON error body.
    Status(u16),
    /// Never answer.
    Hang,
    /// Send the first `bytes` of audio, then break the connection.
    PartialThenError(usize),
    /// Send the first `bytes` of audio, then stall forever.
    PartialThenHang(usize),
}

/// A request as the server saw it.
#[derive(Clone, Debug)]
pub struct SpeechRequest {
    /// `model`.
    pub model: String,
    /// `voice`.
    pub voice: String,
    /// `input` text.
    pub input: String,
    /// `response_format`.
    pub response_format: String,
}

/// The OpenAI-compatible speech server; stops when dropped.
pub type SpeechServer = ScriptedServer<SpeechReply, SpeechRequest>;

impl SpeechServer {
    /// Starts on a free loopback port; unscripted requests get [`SpeechReply::Audio`].
    pub async fn start() -> std::io::Result<Self> {
        Self::serve(SpeechReply::Audio, "/v1/audio/speech", post(handle)).await
    }
}

async fn handle(
    State(exchange): State<SharedExchange<SpeechReply, SpeechRequest>>,
    body: Bytes,
) -> Response {
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return openai_error(StatusCode::BAD_REQUEST, "body is not JSON");
    };
    let field = |k: &str| v.get(k).and_then(Value::as_str).map(String::from);
    let (Some(model), Some(input), Some(voice)) = (field("model"), field("input"), field("voice"))
    else {
        return openai_error(
            StatusCode::BAD_REQUEST,
            "model, input and voice are required",
        );
    };
    let format = field("response_format").unwrap_or_else(|| "mp3".into());
    if format != "pcm" && format != "wav" {
        return openai_error(
            StatusCode::BAD_REQUEST,
            "this test server streams only pcm and wav",
        );
    }
    let reply = lock(&exchange).answer(SpeechRequest {
        model,
        voice,
        input: input.clone(),
        response_format: format.clone(),
    });
    let pcm = AudioFrame {
        samples: tone_for_text(&input, PCM_RATE),
        sample_rate: PCM_RATE,
        channels: 1,
    };
    let bytes = if format == "wav" {
        match wav_to_bytes(&pcm) {
            Ok(b) => b,
            Err(e) => return openai_error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
        }
    } else {
        pcm.to_s16le()
    };
    let (limit, then) = match reply {
        SpeechReply::Audio => (bytes.len(), Ending::Complete),
        SpeechReply::Delayed(d) => {
            tokio::time::sleep(d).await;
            (bytes.len(), Ending::Complete)
        }
        SpeechReply::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return openai_error(status, "scripted failure");
        }
        SpeechReply::Hang => futures::future::pending().await,
        SpeechReply::PartialThenError(n) => (n.min(bytes.len()), Ending::Error),
        SpeechReply::PartialThenHang(n) => (n.min(bytes.len()), Ending::Hang),
    };
    let chunks: Vec<Result<Bytes, std::io::Error>> = bytes[..limit]
        .chunks(CHUNK)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let tail = futures::stream::once(async move {
        match then {
            Ending::Complete => None,
            Ending::Error => {
                // Let the partial audio reach the client before the connection breaks.
                tokio::time::sleep(Duration::from_millis(100)).await;
                Some(Err(std::io::Error::other("scripted break-off")))
            }
            Ending::Hang => futures::future::pending().await,
        }
    })
    .filter_map(futures::future::ready);
    let stream = futures::stream::iter(chunks).chain(tail);
    let content_type = if format == "wav" {
        "audio/wav"
    } else {
        "audio/pcm"
    };
    ([("content-type", content_type)], Body::from_stream(stream)).into_response()
}

enum Ending {
    Complete,
    Error,
    Hang,
}
