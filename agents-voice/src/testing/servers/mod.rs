//! In-process servers speaking the STT/TTS wire protocols, for testing the providers
//! over real loopback connections (as `agents_core::testing::ChatCompletionsServer`
//! does for chat): an OpenAI-compatible transcription server, an OpenAI-compatible
//! speech server, a Deepgram-like streaming STT server and a Cartesia-like streaming
//! TTS server. Each can be scripted with replies and faults (errors, hangs, delays,
//! audio that breaks off) and records what it received. A server stops when dropped.

mod cartesia;
mod deepgram;
mod scripted;
mod speech;
mod transcription;

pub use cartesia::{CartesiaFault, CartesiaServer};
pub use deepgram::{DeepgramServer, DeepgramStep};
pub use scripted::ScriptedServer;
pub use speech::{SpeechReply, SpeechRequest, SpeechServer};
pub use transcription::{TranscriptionReply, TranscriptionRequest, TranscriptionServer};

use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Audio the fake TTS servers produce per character of input text.
pub const AUDIO_PER_CHAR: Duration = Duration::from_millis(10);

/// Deterministic "speech" for `text`: a 440 Hz tone lasting [`AUDIO_PER_CHAR`] per character.
pub fn tone_for_text(text: &str, sample_rate: u32) -> Vec<i16> {
    let n = (text.chars().count() as f64 * AUDIO_PER_CHAR.as_secs_f64() * f64::from(sample_rate))
        .round() as usize;
    (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(sample_rate);
            ((t * 440.0 * std::f64::consts::TAU).sin() * 8000.0) as i16
        })
        .collect()
}

/// Binds a loopback listener on a free port.
pub(crate) async fn bind() -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind("127.0.0.1:0").await
}

/// A running server: its URL, the state its handlers share with the test, and its task
/// (aborted when this is dropped, which stops the server).
pub(crate) struct Running<S> {
    url: String,
    state: Arc<Mutex<S>>,
    _task: Task,
}

impl<S: Send + 'static> Running<S> {
    /// Serves the router `app` builds over the shared `state` on a free loopback port; the
    /// URL is the server's `/v1` base URL.
    pub(crate) async fn http(
        state: S,
        app: impl FnOnce(Arc<Mutex<S>>) -> axum::Router,
    ) -> std::io::Result<Self> {
        let state = Arc::new(Mutex::new(state));
        let listener = bind().await?;
        let url = format!("http://{}/v1", listener.local_addr()?);
        let app = app(state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            url,
            state,
            _task: Task(task),
        })
    }

    /// Accepts TCP connections on a free loopback port and hands each, with the shared
    /// `state`, to `serve` on its own task; the URL is the `ws://` URL of `path` there.
    pub(crate) async fn ws<F, Fut>(path: &str, state: S, serve: F) -> std::io::Result<Self>
    where
        F: Fn(tokio::net::TcpStream, Arc<Mutex<S>>) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let state = Arc::new(Mutex::new(state));
        let listener = bind().await?;
        let url = format!("ws://{}{path}", listener.local_addr()?);
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                tokio::spawn(serve(tcp, shared.clone()));
            }
        });
        Ok(Self {
            url,
            state,
            _task: Task(task),
        })
    }

    /// The server's URL.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// The shared state, locked.
    pub(crate) fn state(&self) -> std::sync::MutexGuard<'_, S> {
        lock(&self.state)
    }
}

/// Locks, recovering from poisoning: a panicking handler must not wedge the test's checks.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// An error response in the OpenAI API's JSON shape.
pub(crate) fn openai_error(
    status: axum::http::StatusCode,
    message: &str,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        status,
        axum::Json(
            serde_json::json!({"error": {"message": message, "type": "invalid_request_error"}}),
        ),
    )
        .into_response()
}

/// Aborts the server task when dropped.
#[derive(Debug)]
pub(crate) struct Task(pub(crate) tokio::task::JoinHandle<()>);

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}
