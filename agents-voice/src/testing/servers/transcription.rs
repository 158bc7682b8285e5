//! OpenAI-compatible `POST /v1/audio/transcriptions` test server: parses the multipart
//! form, checks that `file` is a readable WAV and `model` is present (else `400`, as
//! the API), records the request and answers from a script.

use std::time::Duration;

use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Json;
use serde_json::json;

use super::scripted::{ScriptedServer, SharedExchange};
use super::{lock, openai_error};
use crate::audio::{wav_from_bytes, AudioFrame};

/// One scripted answer.
#[derive(Clone, Debug)]
pub enum TranscriptionReply {
    /// `200` with this text.
    Text(String),
    /// An error status with a JSON error body.
    Status(u16),
    /// Never answer.
    Hang,
    /// Answer with this text after a delay.
    Delayed(Duration, String),
}

/// A request as the server saw it.
#[derive(Clone, Debug)]
pub struct TranscriptionRequest {
    /// `model` field.
    pub model: String,
    /// `response_format` field, if sent.
    pub response_format: Option<String>,
    /// `language` field, if sent.
    pub language: Option<String>,
    /// The decoded WAV upload.
    pub audio: AudioFrame,
    /// The `Authorization` header, if any.
    pub authorization: Option<String>,
}

/// The OpenAI-compatible transcription server; stops when dropped.
pub type TranscriptionServer = ScriptedServer<TranscriptionReply, TranscriptionRequest>;

impl TranscriptionServer {
    /// Starts on a free loopback port; unscripted requests get `default_text`.
    pub async fn start(default_text: impl Into<String>) -> std::io::Result<Self> {
        let fallback = TranscriptionReply::Text(default_text.into());
        Self::serve(fallback, "/v1/audio/transcriptions", post(handle)).await
    }
}

async fn handle(
    State(exchange): State<SharedExchange<TranscriptionReply, TranscriptionRequest>>,
    headers: HeaderMap,
    mut form: Multipart,
) -> Response {
    let mut file = None;
    let (mut model, mut response_format, mut language) = (None, None, None);
    loop {
        match form.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_string();
                let Ok(data) = field.bytes().await else {
                    return openai_error(StatusCode::BAD_REQUEST, "unreadable multipart field");
                };
                let text = || String::from_utf8_lossy(&data).to_string();
                match name.as_str() {
                    "file" => file = Some(data.clone()),
                    "model" => model = Some(text()),
                    "response_format" => response_format = Some(text()),
                    "language" => language = Some(text()),
                    _ => {}
                }
            }
            Ok(None) => break,
            Err(e) => {
                return openai_error(StatusCode::BAD_REQUEST, &format!("bad multipart body: {e}"))
            }
        }
    }
    let Some(model) = model else {
        return openai_error(
            StatusCode::BAD_REQUEST,
            "you must provide a model parameter",
        );
    };
    let Some(file) = file else {
        return openai_error(StatusCode::BAD_REQUEST, "you must provide a file");
    };
    let audio = match wav_from_bytes(&file) {
        Ok(a) => a,
        Err(e) => {
            return openai_error(
                StatusCode::BAD_REQUEST,
                &format!("invalid file format: {e}"),
            )
        }
    };
    let reply = lock(&exchange).answer(TranscriptionRequest {
        model,
        response_format,
        language,
        audio,
        authorization: headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(String::from),
    });
    match reply {
        TranscriptionReply::Text(text) => Json(json!({"text": text})).into_response(),
        TranscriptionReply::Delayed(d, text) => {
            tokio::time::sleep(d).await;
            Json(json!({"text": text})).into_response()
        }
        TranscriptionReply::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            openai_error(status, "scripted failure")
        }
        TranscriptionReply::Hang => futures::future::pending().await,
    }
}
