//! [`OpenAiTts`]: OpenAI-compatible speech synthesis, `POST {base}/audio/speech`, with
//! `response_format` `pcm` (24 kHz s16le mono, decoded as it streams in) or `wav`
//! (header parsed from the stream, then PCM). Works with OpenAI and local servers with
//! the same endpoint (Kokoro-FastAPI, openedai-speech, speaches, LocalAI).
//!
//! One attempt per call; retries and the between-chunks timeout are applied by
//! [`super::SentenceTtsAdapter`], which knows whether audio already went out.

use std::time::Duration;

use bytes::Bytes;
use futures::stream::{self, BoxStream};
use futures::StreamExt;
use serde_json::json;

use super::wav_stream::WavStreamDecoder;
use super::BatchTts;
use crate::audio::AudioFrame;
use crate::error::{check_status, from_reqwest, VoiceError, VoiceResult};

/// Audio container requested from the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenAiTtsFormat {
    /// Raw 24 kHz s16le mono.
    Pcm,
    /// WAV (any PCM16 rate; resampled by the adapter when it differs).
    Wav,
}

/// Settings of an [`OpenAiTts`].
#[derive(Clone, Debug)]
pub struct OpenAiTtsOptions {
    /// Base URL including the version path.
    pub base_url: String,
    /// Bearer token; `None` for local servers.
    pub api_key: Option<String>,
    /// Model (`tts-1`, `gpt-4o-mini-tts`, …).
    pub model: String,
    /// Voice (`alloy`).
    pub voice: String,
    /// Response format.
    pub format: OpenAiTtsFormat,
    /// Speaking speed (0.25–4.0), if set.
    pub speed: Option<f32>,
    /// Style instructions (gpt-4o-mini-tts only).
    pub instructions: Option<String>,
    /// Bound on connecting and receiving the response headers.
    pub request_timeout: Duration,
}

const LABEL: &str = "openai-tts";
/// Rate of OpenAI's `pcm` format.
pub const OPENAI_PCM_RATE: u32 = 24_000;

/// OpenAI-compatible batch TTS. Wrap it in [`super::SentenceTtsAdapter`] for streaming.
#[derive(Clone, Debug)]
pub struct OpenAiTts {
    opts: OpenAiTtsOptions,
    client: reqwest::Client,
}

impl OpenAiTts {
    /// A synthesiser with its own HTTP client.
    pub fn new(opts: OpenAiTtsOptions) -> Self {
        Self {
            opts,
            client: reqwest::Client::new(),
        }
    }

    /// The settings in use.
    pub fn options(&self) -> &OpenAiTtsOptions {
        &self.opts
    }

    async fn request(
        client: reqwest::Client,
        opts: OpenAiTtsOptions,
        text: String,
    ) -> VoiceResult<BoxStream<'static, reqwest::Result<Bytes>>> {
        let url = format!("{}/audio/speech", opts.base_url.trim_end_matches('/'));
        let mut body = json!({
            "model": opts.model,
            "voice": opts.voice,
            "input": text,
            "response_format": match opts.format { OpenAiTtsFormat::Pcm => "pcm", OpenAiTtsFormat::Wav => "wav" },
        });
        if let Some(speed) = opts.speed {
            body["speed"] = json!(speed);
        }
        if let Some(instr) = &opts.instructions {
            body["instructions"] = json!(instr);
        }
        let mut req = client.post(url).json(&body);
        if let Some(key) = &opts.api_key {
            req = req.bearer_auth(key);
        }
        let resp = match tokio::time::timeout(opts.request_timeout, req.send()).await {
            Ok(r) => r.map_err(|e| from_reqwest(LABEL, e))?,
            Err(_) => {
                return Err(VoiceError::Timeout {
                    provider: LABEL.into(),
                    after: opts.request_timeout,
                })
            }
        };
        let resp = check_status(LABEL, resp).await?;
        Ok(resp.bytes_stream().boxed())
    }
}

/// Decodes streamed bytes into frames.
enum Decoder {
    Pcm { carry: Option<u8> },
    Wav(WavStreamDecoder),
}

impl Decoder {
    fn push(&mut self, bytes: &[u8]) -> VoiceResult<Option<AudioFrame>> {
        match self {
            Decoder::Pcm { carry } => {
                let mut data = Vec::with_capacity(bytes.len() + 1);
                data.extend(carry.take());
                data.extend_from_slice(bytes);
                if data.len() % 2 == 1 {
                    *carry = data.pop();
                }
                if data.is_empty() {
                    return Ok(None);
                }
                Ok(Some(AudioFrame::from_s16le(&data, OPENAI_PCM_RATE, 1)?))
            }
            Decoder::Wav(d) => Ok(d.push(bytes)?),
        }
    }

    fn finish(&mut self) -> VoiceResult<()> {
        match self {
            Decoder::Pcm { carry: Some(_) } => Err(VoiceError::provider(
                LABEL,
                "PCM stream ended with an odd byte",
                false,
                None,
            )),
            Decoder::Pcm { carry: None } => Ok(()),
            Decoder::Wav(d) => Ok(d.finish()?),
        }
    }
}

impl BatchTts for OpenAiTts {
    fn sample_rate(&self) -> u32 {
        OPENAI_PCM_RATE
    }

    fn synthesize(&self, text: String) -> BoxStream<'static, VoiceResult<AudioFrame>> {
        let decoder = match self.opts.format {
            OpenAiTtsFormat::Pcm => Decoder::Pcm { carry: None },
            OpenAiTtsFormat::Wav => Decoder::Wav(WavStreamDecoder::default()),
        };
        let request = Self::request(self.client.clone(), self.opts.clone(), text);
        stream::once(request)
            .flat_map(move |r| match r {
                Ok(body) => decode(body, decoder.clone_empty()),
                Err(e) => stream::iter([Err(e)]).boxed(),
            })
            .boxed()
    }

    fn label(&self) -> &str {
        LABEL
    }
}

impl Decoder {
    fn clone_empty(&self) -> Self {
        match self {
            Decoder::Pcm { .. } => Decoder::Pcm { carry: None },
            Decoder::Wav(_) => Decoder::Wav(WavStreamDecoder::default()),
        }
    }
}

fn decode(
    body: BoxStream<'static, reqwest::Result<Bytes>>,
    decoder: Decoder,
) -> BoxStream<'static, VoiceResult<AudioFrame>> {
    stream::unfold(Some((body, decoder)), |state| async move {
        let (mut body, mut decoder) = state?;
        loop {
            match body.next().await {
                Some(Ok(bytes)) => match decoder.push(&bytes) {
                    Ok(Some(frame)) => return Some((Ok(frame), Some((body, decoder)))),
                    Ok(None) => continue,
                    Err(e) => return Some((Err(e), None)),
                },
                Some(Err(e)) => {
                    let mut err = from_reqwest(LABEL, e);
                    if let VoiceError::Provider { message, .. } = &mut err {
                        *message = format!("audio stream broke off: {message}");
                    }
                    return Some((Err(err), None));
                }
                None => {
                    return match decoder.finish() {
                        Ok(()) => None,
                        Err(e) => Some((Err(e), None)),
                    }
                }
            }
        }
    })
    .boxed()
}
