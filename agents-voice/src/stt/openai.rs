//! [`OpenAiStt`]: OpenAI-compatible batch transcription, `POST {base}/audio/transcriptions`
//! (multipart: `file` = WAV, `model`, `response_format=json`). Works with OpenAI and
//! local servers that implement the same endpoint (faster-whisper-server / speaches,
//! whisper.cpp's `whisper-server` with its OpenAI path, LocalAI, vLLM).
//!
//! Each `recognize()` is retried and timed out per its [`RetryPolicy`].

use futures::future::BoxFuture;
use serde::Deserialize;

use super::{BatchStt, SpeechData};
use crate::audio::{wav_to_bytes, AudioFrame};
use crate::error::{check_status, from_reqwest, VoiceError, VoiceResult};
use crate::retry::RetryPolicy;

/// Settings of an [`OpenAiStt`].
#[derive(Clone, Debug)]
pub struct OpenAiSttOptions {
    /// Base URL including the version path, e.g. `https://api.openai.com/v1`.
    pub base_url: String,
    /// Bearer token; `None` for local servers that need none.
    pub api_key: Option<String>,
    /// Model name (`whisper-1`, `gpt-4o-transcribe`, or a local model id).
    pub model: String,
    /// Language hint (ISO-639-1), if known.
    pub language: Option<String>,
    /// Retries and timeout of each request.
    pub retry: RetryPolicy,
}

/// OpenAI-compatible batch STT. Wrap it in [`super::SttStreamAdapter`] for streaming.
#[derive(Clone, Debug)]
pub struct OpenAiStt {
    opts: OpenAiSttOptions,
    client: reqwest::Client,
}

#[derive(Deserialize)]
struct TranscriptionResponse {
    text: String,
    #[serde(default)]
    language: Option<String>,
}

const LABEL: &str = "openai-stt";

impl OpenAiStt {
    /// A recogniser with its own HTTP client.
    pub fn new(opts: OpenAiSttOptions) -> Self {
        Self {
            opts,
            client: reqwest::Client::new(),
        }
    }

    /// The settings in use.
    pub fn options(&self) -> &OpenAiSttOptions {
        &self.opts
    }

    fn url(&self) -> String {
        format!(
            "{}/audio/transcriptions",
            self.opts.base_url.trim_end_matches('/')
        )
    }

    async fn request_once(
        client: reqwest::Client,
        url: String,
        opts: OpenAiSttOptions,
        wav: Vec<u8>,
    ) -> VoiceResult<SpeechData> {
        let part = reqwest::multipart::Part::bytes(wav)
            .file_name("audio.wav")
            .mime_str("audio/wav")
            .map_err(|e| from_reqwest(LABEL, e))?;
        let mut form = reqwest::multipart::Form::new()
            .part("file", part)
            .text("model", opts.model.clone())
            .text("response_format", "json");
        if let Some(lang) = &opts.language {
            form = form.text("language", lang.clone());
        }
        let mut req = client.post(url).multipart(form);
        if let Some(key) = &opts.api_key {
            req = req.bearer_auth(key);
        }
        let resp = req.send().await.map_err(|e| from_reqwest(LABEL, e))?;
        let resp = check_status(LABEL, resp).await?;
        let body = resp.bytes().await.map_err(|e| from_reqwest(LABEL, e))?;
        let parsed: TranscriptionResponse = serde_json::from_slice(&body).map_err(|e| {
            VoiceError::provider(
                LABEL,
                format!("unexpected transcription response: {e}"),
                false,
                None,
            )
        })?;
        Ok(SpeechData {
            text: parsed.text.trim().to_string(),
            language: parsed.language.or(opts.language),
            confidence: 0.0,
            ..SpeechData::default()
        })
    }
}

impl BatchStt for OpenAiStt {
    fn recognize(&self, audio: AudioFrame) -> BoxFuture<'static, VoiceResult<SpeechData>> {
        let client = self.client.clone();
        let url = self.url();
        let opts = self.opts.clone();
        Box::pin(async move {
            let wav = wav_to_bytes(&audio)?;
            let retry = opts.retry.clone();
            retry
                .run(LABEL, || {
                    Self::request_once(client.clone(), url.clone(), opts.clone(), wav.clone())
                })
                .await
        })
    }

    fn label(&self) -> &str {
        LABEL
    }
}
