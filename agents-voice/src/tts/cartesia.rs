//! [`CartesiaTts`]: Cartesia's streaming WebSocket TTS (`wss://api.cartesia.ai/tts/websocket`).
//!
//! Each TTS segment is one Cartesia *context*: sentences are sent as they complete with
//! `continue: true`, a flush sends an empty transcript with `continue: false`. Output
//! is raw `pcm_s16le`, arriving as base64 `chunk` messages; `done` ends the context.
//! Contexts are played in order (audio of a later context is held until the earlier
//! one is done). A failure before any audio reconnects and replays the text (with the
//! retry policy's delays); after audio went out it ends the stream, not retryable.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine;
use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

use super::emitter::Emitter;
use super::{SynthesizedAudio, Tts, TtsInput, TtsStream, STREAM_CAPACITY};
use crate::error::{VoiceError, VoiceResult};
use crate::retry::RetryPolicy;
use crate::text::{SentenceSplitter, TtsTextFilter};
use crate::ws::{connect_ws, ws_error, WsStream};

/// Settings of a [`CartesiaTts`].
#[derive(Clone, Debug)]
pub struct CartesiaOptions {
    /// WebSocket endpoint.
    pub url: String,
    /// API key (`X-API-Key` header).
    pub api_key: String,
    /// API version (`Cartesia-Version` header).
    pub version: String,
    /// Model (`sonic-2`).
    pub model: String,
    /// Voice id.
    pub voice_id: String,
    /// Language code (`en`).
    pub language: String,
    /// Output rate.
    pub sample_rate: u32,
    /// Minimum sentence length sent per message.
    pub min_sentence_len: usize,
    /// Connection retries; `timeout` bounds silence while audio is owed.
    pub retry: RetryPolicy,
}

impl CartesiaOptions {
    /// Defaults for `api_key`: sonic-2, English, 24 kHz, a stock voice.
    pub fn new(api_key: impl Into<String>) -> Self {
        Self {
            url: "wss://api.cartesia.ai/tts/websocket".into(),
            api_key: api_key.into(),
            version: "2025-04-16".into(),
            model: "sonic-2".into(),
            voice_id: "f786b574-daa5-4673-aa0c-cbe3e8534c02".into(),
            language: "en".into(),
            sample_rate: 24_000,
            min_sentence_len: 20,
            retry: RetryPolicy::default(),
        }
    }
}

const LABEL: &str = "cartesia-tts";
static CONTEXTS: AtomicU64 = AtomicU64::new(0);

/// Cartesia streaming TTS.
#[derive(Clone, Debug)]
pub struct CartesiaTts {
    opts: CartesiaOptions,
}

impl CartesiaTts {
    /// A synthesiser with these settings.
    pub fn new(opts: CartesiaOptions) -> Self {
        Self { opts }
    }
}

impl Tts for CartesiaTts {
    fn sample_rate(&self) -> u32 {
        self.opts.sample_rate
    }

    fn stream(&self) -> VoiceResult<TtsStream> {
        let rt = crate::error::runtime(LABEL)?;
        let (input_tx, input_rx) = mpsc::channel(STREAM_CAPACITY);
        let (out_tx, out_rx) = mpsc::channel(STREAM_CAPACITY);
        rt.spawn(run(self.opts.clone(), input_rx, out_tx));
        Ok(TtsStream {
            input: input_tx,
            output: out_rx,
        })
    }

    fn label(&self) -> &str {
        LABEL
    }
}

struct Context {
    id: String,
    closed: bool,
    done: bool,
    held: Vec<i16>,
    /// Text not yet attached to emitted audio.
    text: String,
}

#[derive(Default)]
struct State {
    contexts: VecDeque<Context>,
    /// Messages of contexts not yet done, replayed after a reconnect.
    log: Vec<(String, String)>,
    input_open: bool,
    filter: TtsTextFilter,
    splitter: Option<SentenceSplitter>,
}

#[derive(Deserialize)]
struct ServerMsg {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    data: Option<String>,
    #[serde(default)]
    context_id: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    status_code: Option<u16>,
}

async fn run(
    opts: CartesiaOptions,
    mut input_rx: mpsc::Receiver<TtsInput>,
    out_tx: mpsc::Sender<VoiceResult<SynthesizedAudio>>,
) {
    let mut emitter = Emitter::new(out_tx.clone(), opts.sample_rate, 1);
    let mut st = State {
        input_open: true,
        splitter: Some(SentenceSplitter::new(opts.min_sentence_len)),
        ..State::default()
    };
    let mut attempt = 0;
    loop {
        let connect = || {
            let opts = opts.clone();
            async move {
                let mut req = opts
                    .url
                    .as_str()
                    .into_client_request()
                    .map_err(|e| ws_error(LABEL, e))?;
                let key = HeaderValue::from_str(&opts.api_key).map_err(|_| {
                    VoiceError::Config(
                        "CARTESIA_API_KEY holds characters not allowed in a header".into(),
                    )
                })?;
                let version = HeaderValue::from_str(&opts.version)
                    .map_err(|_| VoiceError::Config("invalid Cartesia API version".into()))?;
                req.headers_mut().insert("X-API-Key", key);
                req.headers_mut().insert("Cartesia-Version", version);
                connect_ws(LABEL, req).await
            }
        };
        let result = match opts.retry.run(LABEL, connect).await {
            Ok(ws) => session(ws, &opts, &mut st, &mut input_rx, &mut emitter).await,
            Err(e) => Err(e),
        };
        let err = match result {
            Ok(()) => return,
            Err(e) => e,
        };
        if emitter.emitted_any {
            let _ = out_tx.send(Err(err.into_non_retryable())).await;
            return;
        }
        match opts.retry.attempt_delay(attempt) {
            Some(delay) if err.is_retryable() => {
                tracing::warn!(error = %err, retry = attempt + 1, ?delay, "Cartesia failed before audio; reconnecting");
                tokio::time::sleep(delay).await;
                attempt += 1;
            }
            _ => {
                let _ = out_tx.send(Err(err)).await;
                return;
            }
        }
    }
}

fn message(opts: &CartesiaOptions, ctx: &str, transcript: &str, cont: bool) -> String {
    json!({
        "model_id": opts.model,
        "transcript": transcript,
        "voice": {"mode": "id", "id": opts.voice_id},
        "language": opts.language,
        "context_id": ctx,
        "output_format": {"container": "raw", "encoding": "pcm_s16le", "sample_rate": opts.sample_rate},
        "continue": cont,
    })
    .to_string()
}

/// Runs one connection until the stream is finished (`Ok`) or fails.
async fn session(
    ws: WsStream,
    opts: &CartesiaOptions,
    st: &mut State,
    input_rx: &mut mpsc::Receiver<TtsInput>,
    emitter: &mut Emitter,
) -> VoiceResult<()> {
    let (mut sink, mut stream) = ws.split();
    for (_, msg) in &st.log {
        sink.send(Message::text(msg.clone()))
            .await
            .map_err(|e| ws_error(LABEL, e))?;
    }
    let idle = tokio::time::sleep(opts.retry.timeout);
    tokio::pin!(idle);
    loop {
        if !st.input_open && st.contexts.is_empty() {
            let _ = sink.close().await;
            return Ok(());
        }
        let owed = st.contexts.iter().any(|c| c.closed);
        tokio::select! {
            input = input_rx.recv(), if st.input_open => {
                let (text, end_segment) = match input {
                    Some(TtsInput::Text(t)) => (st.filter.push(&t), false),
                    Some(TtsInput::Flush) => (st.filter.finish(), true),
                    Some(TtsInput::EndInput) | None => {
                        st.input_open = false;
                        (st.filter.finish(), true)
                    }
                };
                let splitter = st.splitter.get_or_insert_with(|| SentenceSplitter::new(opts.min_sentence_len));
                let mut sentences = splitter.push(&text);
                if end_segment {
                    sentences.extend(splitter.flush());
                }
                let mut outgoing = Vec::new();
                for s in sentences {
                    if st.contexts.back().is_none_or(|c| c.closed) {
                        let n = CONTEXTS.fetch_add(1, Ordering::Relaxed);
                        st.contexts.push_back(Context { id: format!("ctx-{}-{n}", std::process::id()), closed: false, done: false, held: Vec::new(), text: String::new() });
                    }
                    if let Some(ctx) = st.contexts.back_mut() {
                        ctx.text.push_str(&s);
                        ctx.text.push(' ');
                    }
                    let Some(ctx) = st.contexts.back() else { continue };
                    outgoing.push((ctx.id.clone(), message(opts, &ctx.id, &format!("{s} "), true)));
                }
                if end_segment {
                    if let Some(ctx) = st.contexts.back_mut().filter(|c| !c.closed) {
                        ctx.closed = true;
                        outgoing.push((ctx.id.clone(), message(opts, &ctx.id, "", false)));
                    }
                }
                for (ctx, msg) in outgoing {
                    sink.send(Message::text(msg.clone())).await.map_err(|e| ws_error(LABEL, e))?;
                    st.log.push((ctx, msg));
                }
                if !owed {
                    idle.as_mut().reset(tokio::time::Instant::now() + opts.retry.timeout);
                }
            }
            _ = &mut idle, if owed => {
                return Err(VoiceError::Timeout { provider: LABEL.into(), after: opts.retry.timeout });
            }
            msg = stream.next() => {
                idle.as_mut().reset(tokio::time::Instant::now() + opts.retry.timeout);
                let text = match msg {
                    None | Some(Ok(Message::Close(_))) => {
                        return Err(VoiceError::provider(LABEL, "connection closed by the server", true, None));
                    }
                    Some(Err(e)) => return Err(ws_error(LABEL, e)),
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(_)) => continue,
                };
                if !handle(text.as_str(), st, emitter).await? {
                    return Ok(());
                }
            }
        }
    }
}

/// Applies one server message. `Ok(false)`: the consumer is gone.
async fn handle(text: &str, st: &mut State, emitter: &mut Emitter) -> VoiceResult<bool> {
    let msg: ServerMsg = serde_json::from_str(text).map_err(|e| {
        VoiceError::provider(LABEL, format!("unexpected message: {e}"), false, None)
    })?;
    let ctx_id = msg.context_id.unwrap_or_default();
    match msg.kind.as_str() {
        "chunk" => {
            let b64 = msg.data.unwrap_or_default();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64.as_bytes())
                .map_err(|e| {
                    VoiceError::provider(LABEL, format!("bad base64 audio: {e}"), false, None)
                })?;
            let frame = crate::audio::AudioFrame::from_s16le(&bytes, 1, 1)?;
            match st.contexts.iter().position(|c| c.id == ctx_id) {
                Some(0) => {
                    let t = std::mem::take(&mut st.contexts[0].text);
                    emitter.add_text(t.trim_end());
                    if !emitter.push(&frame.samples).await {
                        return Ok(false);
                    }
                }
                Some(i) => st.contexts[i].held.extend_from_slice(&frame.samples),
                None => tracing::debug!(
                    context = ctx_id,
                    "audio for an unknown Cartesia context ignored"
                ),
            }
        }
        "done" => {
            if let Some(c) = st.contexts.iter_mut().find(|c| c.id == ctx_id) {
                c.done = true;
            }
            while st.contexts.front().is_some_and(|c| c.done) {
                if let Some(done) = st.contexts.pop_front() {
                    st.log.retain(|(id, _)| *id != done.id);
                }
                if !emitter.end_segment().await {
                    return Ok(false);
                }
                if let Some(next) = st.contexts.front_mut() {
                    let held = std::mem::take(&mut next.held);
                    if !held.is_empty() {
                        let t = std::mem::take(&mut next.text);
                        emitter.add_text(t.trim_end());
                    }
                    if !held.is_empty() && !emitter.push(&held).await {
                        return Ok(false);
                    }
                }
            }
        }
        "error" => {
            let status = msg.status_code;
            let retryable = status.is_none_or(crate::error::status_is_retryable);
            return Err(VoiceError::provider(
                LABEL,
                msg.error.unwrap_or_else(|| text.to_string()),
                retryable,
                status,
            ));
        }
        _ => {}
    }
    Ok(true)
}
