//! WebSocket client plumbing shared by the streaming providers (tokio-tungstenite over
//! rustls with the webpki roots).

use tokio_tungstenite::tungstenite::{self, handshake::client::Request};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::error::{status_is_retryable, VoiceError, VoiceResult};

/// A connected client WebSocket.
pub(crate) type WsStream = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// Connects; handshake HTTP errors keep their status and retryability.
pub(crate) async fn connect_ws(provider: &str, request: Request) -> VoiceResult<WsStream> {
    let (ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .map_err(|e| ws_error(provider, e))?;
    Ok(ws)
}

/// Maps a WebSocket error: I/O and handshake 5xx/429 are retryable.
pub(crate) fn ws_error(provider: &str, e: tungstenite::Error) -> VoiceError {
    match e {
        tungstenite::Error::Http(resp) => {
            let code = resp.status().as_u16();
            let body = resp
                .body()
                .as_ref()
                .map(|b| {
                    String::from_utf8_lossy(b)
                        .chars()
                        .take(300)
                        .collect::<String>()
                })
                .unwrap_or_default();
            VoiceError::provider(
                provider,
                format!("handshake rejected (HTTP {code}): {body}"),
                status_is_retryable(code),
                Some(code),
            )
        }
        tungstenite::Error::Io(e) => VoiceError::provider(provider, e.to_string(), true, None),
        tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed => {
            VoiceError::provider(provider, "connection closed", true, None)
        }
        other => VoiceError::provider(provider, other.to_string(), false, None),
    }
}
