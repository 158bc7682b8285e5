//! In-process servers speaking the STT/TTS wire protocols, for testing the providers
//! over real loopback connections (as `agents_core::testing::ChatCompletionsServer`
//! does for chat): an OpenAI-compatible transcription server, an OpenAI-compatible
//! speech server, a Deepgram-like streaming STT server and a Cartesia-like streaming
//! TTS server. Each can be scripted with replies and faults (errors, hangs, delays,
//! audio that breaks off) and records what it received. A server stops when dropped.

mod cartesia;
mod deepgram;
mod speech;
mod transcription;

pub use cartesia::{CartesiaFault, CartesiaServer};
pub use deepgram::{DeepgramServer, DeepgramStep};
pub use speech::{SpeechReply, SpeechRequest, SpeechServer};
pub use transcription::{TranscriptionReply, TranscriptionRequest, TranscriptionServer};

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

/// Serves `app` on a free loopback port: the server's `/v1` base URL and its task.
pub(crate) async fn serve_http(app: axum::Router) -> std::io::Result<(String, Task)> {
    let listener = bind().await?;
    let base_url = format!("http://{}/v1", listener.local_addr()?);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((base_url, Task(task)))
}

/// Accepts TCP connections on a free loopback port and hands each to `serve` on its own
/// task: the `ws://` URL of `path` there, and the accept loop's task.
pub(crate) async fn serve_tcp<F, Fut>(path: &str, serve: F) -> std::io::Result<(String, Task)>
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = bind().await?;
    let url = format!("ws://{}{path}", listener.local_addr()?);
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(serve(tcp));
        }
    });
    Ok((url, Task(task)))
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
