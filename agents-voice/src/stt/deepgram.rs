//! [`DeepgramStt`]: Deepgram's streaming recogniser over WebSocket
//! (`wss://api.deepgram.com/v1/listen`). Audio goes out as binary messages (linear16,
//! or 8 kHz μ-law straight from a phone line); `Results` messages come back with
//! `is_final` / `speech_final`. `KeepAlive` is sent while no audio flows, `Finalize` on
//! flush and `CloseStream` at end of input.
//!
//! Mapping (as the reference plugin): `SpeechStarted` or the first non-empty result →
//! start of speech; non-final results → interim; final results → final transcript;
//! `speech_final` or `UtteranceEnd` → end of speech.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

use super::{
    SpeechData, SpeechEvent, SpeechEventKind, Stt, SttCapabilities, SttInput, SttStream,
    STREAM_CAPACITY,
};
use crate::audio::{AudioFrame, MonoResampler};
use crate::error::{VoiceError, VoiceResult};
use crate::retry::RetryPolicy;
use crate::ws::{connect_ws, ws_error, WsStream};

/// Audio encoding sent to Deepgram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeepgramEncoding {
    /// 16-bit little-endian PCM.
    Linear16,
    /// G.711 μ-law (telephony, usually 8 kHz).
    Mulaw,
}

impl DeepgramEncoding {
    fn as_param(self) -> &'static str {
        match self {
            DeepgramEncoding::Linear16 => "linear16",
            DeepgramEncoding::Mulaw => "mulaw",
        }
    }
}

/// Settings of a [`DeepgramStt`].
#[derive(Clone, Debug)]
pub struct DeepgramOptions {
    /// WebSocket endpoint (`wss://api.deepgram.com/v1/listen`).
    pub url: String,
    /// API key (sent as `Authorization: Token …`).
    pub api_key: String,
    /// Model (`nova-3`).
    pub model: String,
    /// Language (`en-US`); `None` lets the model decide.
    pub language: Option<String>,
    /// Wire encoding.
    pub encoding: DeepgramEncoding,
    /// Wire sample rate; input frames at other rates are resampled to it.
    pub sample_rate: u32,
    /// Ask for interim results.
    pub interim_results: bool,
    /// Deepgram's own endpointing silence in ms (`None` = off).
    pub endpointing_ms: Option<u32>,
    /// Send `KeepAlive` after this long without audio.
    pub keepalive: Duration,
    /// Connection retries; `timeout` also bounds the wait for final results after `CloseStream`.
    pub retry: RetryPolicy,
}

impl DeepgramOptions {
    /// Defaults for `api_key`: nova-3, en-US, linear16 at 16 kHz, interims on, 25 ms endpointing.
    pub fn new(api_key: impl Into<String>) -> Self {
        Self {
            url: "wss://api.deepgram.com/v1/listen".into(),
            api_key: api_key.into(),
            model: "nova-3".into(),
            language: Some("en-US".into()),
            encoding: DeepgramEncoding::Linear16,
            sample_rate: 16_000,
            interim_results: true,
            endpointing_ms: Some(25),
            keepalive: Duration::from_secs(5),
            retry: RetryPolicy::default(),
        }
    }

    /// Telephony preset: 8 kHz μ-law.
    pub fn telephony(mut self) -> Self {
        self.encoding = DeepgramEncoding::Mulaw;
        self.sample_rate = 8_000;
        self
    }

    /// The full listen URL with query parameters.
    pub fn listen_url(&self) -> VoiceResult<String> {
        let mut url = reqwest::Url::parse(&self.url)
            .map_err(|e| VoiceError::Config(format!("invalid Deepgram URL {:?}: {e}", self.url)))?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("model", &self.model)
                .append_pair("encoding", self.encoding.as_param())
                .append_pair("sample_rate", &self.sample_rate.to_string())
                .append_pair("channels", "1")
                .append_pair(
                    "interim_results",
                    if self.interim_results {
                        "true"
                    } else {
                        "false"
                    },
                )
                .append_pair("punctuate", "true")
                .append_pair("smart_format", "true")
                .append_pair("vad_events", "true");
            match self.endpointing_ms {
                Some(ms) => q.append_pair("endpointing", &ms.to_string()),
                None => q.append_pair("endpointing", "false"),
            };
            if let Some(lang) = &self.language {
                q.append_pair("language", lang);
            }
        }
        Ok(url.into())
    }
}

const LABEL: &str = "deepgram-stt";

/// Deepgram streaming STT.
#[derive(Clone, Debug)]
pub struct DeepgramStt {
    opts: DeepgramOptions,
}

impl DeepgramStt {
    /// A recogniser with these settings.
    pub fn new(opts: DeepgramOptions) -> Self {
        Self { opts }
    }
}

impl Stt for DeepgramStt {
    fn capabilities(&self) -> SttCapabilities {
        SttCapabilities {
            streaming: true,
            interim_results: self.opts.interim_results,
        }
    }

    fn stream(&self) -> VoiceResult<SttStream> {
        let rt = crate::error::runtime(LABEL)?;
        let url = self.opts.listen_url()?;
        let (input_tx, input_rx) = mpsc::channel(STREAM_CAPACITY);
        let (event_tx, event_rx) = mpsc::channel(STREAM_CAPACITY);
        let opts = self.opts.clone();
        rt.spawn(async move {
            let auth = format!("Token {}", opts.api_key);
            let connect = || {
                let url = url.clone();
                let auth = auth.clone();
                async move {
                    let mut req = url
                        .as_str()
                        .into_client_request()
                        .map_err(|e| ws_error(LABEL, e))?;
                    let value = HeaderValue::from_str(&auth).map_err(|_| {
                        VoiceError::Config(
                            "DEEPGRAM_API_KEY holds characters not allowed in a header".into(),
                        )
                    })?;
                    req.headers_mut().insert("Authorization", value);
                    connect_ws(LABEL, req).await
                }
            };
            let ws = match opts.retry.run(LABEL, connect).await {
                Ok(ws) => ws,
                Err(e) => {
                    let _ = event_tx.send(Err(e)).await;
                    return;
                }
            };
            if let Err(e) = run_session(ws, &opts, input_rx, &event_tx).await {
                let _ = event_tx.send(Err(e)).await;
            }
        });
        Ok(SttStream {
            input: input_tx,
            events: event_rx,
        })
    }

    fn label(&self) -> &str {
        LABEL
    }
}

#[derive(Deserialize)]
struct DgMessage {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    is_final: bool,
    #[serde(default)]
    speech_final: bool,
    #[serde(default)]
    start: f64,
    #[serde(default)]
    duration: f64,
    /// An object with alternatives in `Results`; an index array in other messages.
    #[serde(default)]
    channel: Option<serde_json::Value>,
    #[serde(default)]
    last_word_end: Option<f64>,
}

#[derive(Deserialize)]
struct DgChannel {
    alternatives: Vec<DgAlternative>,
}

#[derive(Deserialize)]
struct DgAlternative {
    transcript: String,
    #[serde(default)]
    confidence: f32,
    #[serde(default)]
    languages: Vec<String>,
}

/// Converts a frame to the wire format (mono, wire rate, encoding).
struct Encoder {
    to_wire_rate: MonoResampler,
    encoding: DeepgramEncoding,
}

impl Encoder {
    fn encode(&mut self, frame: &AudioFrame) -> VoiceResult<Vec<u8>> {
        let wire = self.to_wire_rate.process(frame)?;
        Ok(match self.encoding {
            DeepgramEncoding::Linear16 => wire.to_s16le(),
            DeepgramEncoding::Mulaw => wire
                .samples
                .iter()
                .map(|&s| audio_codec_algorithms::encode_ulaw(s))
                .collect(),
        })
    }
}

async fn run_session(
    ws: WsStream,
    opts: &DeepgramOptions,
    mut input_rx: mpsc::Receiver<SttInput>,
    events: &mpsc::Sender<VoiceResult<SpeechEvent>>,
) -> VoiceResult<()> {
    let (mut sink, mut stream) = ws.split();
    let mut encoder = Encoder {
        to_wire_rate: MonoResampler::new(opts.sample_rate),
        encoding: opts.encoding,
    };
    let mut speaking = false;
    let mut input_open = true;
    let mut keepalive = tokio::time::interval(opts.keepalive);
    keepalive.reset();
    let close_deadline = tokio::time::sleep(Duration::MAX / 4);
    tokio::pin!(close_deadline);
    loop {
        tokio::select! {
            input = input_rx.recv(), if input_open => match input {
                Some(SttInput::Audio(frame)) => {
                    let bytes = encoder.encode(&frame)?;
                    if !bytes.is_empty() {
                        sink.send(Message::binary(bytes)).await.map_err(|e| ws_error(LABEL, e))?;
                        keepalive.reset();
                    }
                }
                Some(SttInput::Flush) => {
                    sink.send(Message::text(r#"{"type":"Finalize"}"#)).await.map_err(|e| ws_error(LABEL, e))?;
                }
                Some(SttInput::EndInput) | None => {
                    input_open = false;
                    sink.send(Message::text(r#"{"type":"CloseStream"}"#)).await.map_err(|e| ws_error(LABEL, e))?;
                    close_deadline.as_mut().reset(tokio::time::Instant::now() + opts.retry.timeout);
                }
            },
            _ = keepalive.tick(), if input_open => {
                sink.send(Message::text(r#"{"type":"KeepAlive"}"#)).await.map_err(|e| ws_error(LABEL, e))?;
            }
            _ = &mut close_deadline => {
                return Err(VoiceError::Timeout { provider: LABEL.into(), after: opts.retry.timeout });
            }
            msg = stream.next() => match msg {
                None | Some(Ok(Message::Close(_))) => {
                    if input_open {
                        return Err(VoiceError::provider(LABEL, "connection closed by the server", true, None));
                    }
                    return Ok(());
                }
                Some(Err(e)) => return Err(ws_error(LABEL, e)),
                Some(Ok(Message::Text(text))) => {
                    for ev in handle_message(text.as_str(), &mut speaking)? {
                        if events.send(Ok(ev)).await.is_err() {
                            return Ok(());
                        }
                    }
                }
                Some(Ok(_)) => {}
            },
        }
    }
}

/// Maps one server message to speech events.
fn handle_message(text: &str, speaking: &mut bool) -> VoiceResult<Vec<SpeechEvent>> {
    let msg: DgMessage = serde_json::from_str(text).map_err(|e| {
        VoiceError::provider(
            LABEL,
            format!("unexpected message {text:?}: {e}"),
            false,
            None,
        )
    })?;
    let mut out = Vec::new();
    match msg.kind.as_str() {
        "SpeechStarted" if !*speaking => {
            *speaking = true;
            out.push(SpeechEvent::bare(SpeechEventKind::StartOfSpeech));
        }
        "Results" => {
            let alternatives: Vec<SpeechData> = msg
                .channel
                .and_then(|c| serde_json::from_value::<DgChannel>(c).ok())
                .map(|c| c.alternatives)
                .unwrap_or_default()
                .into_iter()
                .map(|a| SpeechData {
                    text: a.transcript,
                    language: a.languages.into_iter().next(),
                    confidence: a.confidence,
                    start_time: Duration::from_secs_f64(msg.start.max(0.0)),
                    end_time: Duration::from_secs_f64((msg.start + msg.duration).max(0.0)),
                })
                .collect();
            let has_text = alternatives
                .first()
                .is_some_and(|a| !a.text.trim().is_empty());
            if has_text {
                if !*speaking {
                    *speaking = true;
                    out.push(SpeechEvent::bare(SpeechEventKind::StartOfSpeech));
                }
                let kind = if msg.is_final {
                    SpeechEventKind::FinalTranscript
                } else {
                    SpeechEventKind::InterimTranscript
                };
                out.push(SpeechEvent {
                    kind,
                    alternatives,
                    speech_end_time: None,
                });
            }
            if msg.speech_final && *speaking {
                *speaking = false;
                let mut eos = SpeechEvent::bare(SpeechEventKind::EndOfSpeech);
                eos.speech_end_time =
                    Some(Duration::from_secs_f64((msg.start + msg.duration).max(0.0)));
                out.push(eos);
            }
        }
        "UtteranceEnd" if *speaking => {
            *speaking = false;
            let mut eos = SpeechEvent::bare(SpeechEventKind::EndOfSpeech);
            eos.speech_end_time = msg
                .last_word_end
                .map(|t| Duration::from_secs_f64(t.max(0.0)));
            out.push(eos);
        }
        "Error" => {
            return Err(VoiceError::provider(LABEL, text.to_string(), false, None));
        }
        _ => {}
    }
    Ok(out)
}
