//! [`WebServer`]: binds the listen address, serves the page and the WebSocket, runs one
//! session per connection, and shuts down cleanly.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures::future::BoxFuture;
use futures::FutureExt;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::call::WebCall;
use crate::{page, WebConfig, WebError};

/// The handler as stored: one future per session.
pub(crate) type Handler = Arc<dyn Fn(WebCall) -> BoxFuture<'static, ()> + Send + Sync>;

/// State shared by all connections.
pub(crate) struct Shared {
    pub(crate) config: WebConfig,
    pub(crate) handler: Handler,
    pub(crate) next_id: AtomicU64,
    pub(crate) active: AtomicUsize,
    pub(crate) shutdown: CancellationToken,
    pub(crate) tracker: TaskTracker,
    page_html: String,
}

/// The browser playground server: `GET /` (the page), `GET /app.js` (its script),
/// `GET /ws` (the session WebSocket, see [`protocol`](crate::protocol)).
#[derive(Debug)]
pub struct WebServer {
    listener: TcpListener,
    local_addr: SocketAddr,
    config: WebConfig,
}

impl WebServer {
    /// Checks the configuration and binds the listen address (port 0 picks a free port).
    /// Listening beyond loopback logs a warning: anyone who reaches the port can talk to
    /// the agent, and browsers allow the microphone only on `https` or localhost pages.
    pub async fn bind(config: WebConfig) -> Result<Self, WebError> {
        config.check()?;
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|source| WebError::Bind {
                addr: config.listen,
                source,
            })?;
        let local_addr = listener.local_addr().map_err(WebError::Serve)?;
        if !local_addr.ip().is_loopback() {
            tracing::warn!(
                addr = %local_addr,
                "web playground listens beyond loopback: anyone who can reach {local_addr} can \
                 talk to the agent (and spend its API budget); browsers only allow the \
                 microphone on https or localhost pages"
            );
        }
        Ok(WebServer {
            listener,
            local_addr,
            config,
        })
    }

    /// The bound address (with the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The page's address, e.g. `http://127.0.0.1:8080/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.local_addr)
    }

    /// Serves until the process ends; see [`serve_with_shutdown`](Self::serve_with_shutdown).
    pub async fn serve<H, F>(self, handler: H) -> Result<(), WebError>
    where
        H: Fn(WebCall) -> F + Send + Sync + 'static,
        F: Future<Output = ()> + Send + 'static,
    {
        self.serve_with_shutdown(handler, futures::future::pending())
            .await
    }

    /// Serves, calling `handler` once per connection (concurrently), until `shutdown`
    /// resolves; then closes every session's connection (1001, their input gets `Hangup`)
    /// and waits up to [`WebConfig::drain_timeout`] for the handlers to return.
    pub async fn serve_with_shutdown<H, F, S>(self, handler: H, shutdown: S) -> Result<(), WebError>
    where
        H: Fn(WebCall) -> F + Send + Sync + 'static,
        F: Future<Output = ()> + Send + 'static,
        S: Future<Output = ()> + Send + 'static,
    {
        let handler: Handler = Arc::new(move |call| handler(call).boxed());
        let token = CancellationToken::new();
        let drain = self.config.drain_timeout;
        let shared = Arc::new(Shared {
            page_html: page::html(&self.config.title),
            config: self.config,
            handler,
            next_id: AtomicU64::new(0),
            active: AtomicUsize::new(0),
            shutdown: token.clone(),
            tracker: TaskTracker::new(),
        });
        let app = Router::new()
            .route("/", get(index))
            .route("/app.js", get(script))
            .route("/ws", get(upgrade))
            .with_state(shared.clone());
        tracing::info!(url = %self.local_addr, "web playground listening");
        let stop = token.clone();
        let served = axum::serve(
            self.listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            shutdown.await;
            stop.cancel();
        })
        .await;
        token.cancel();
        shared.tracker.close();
        if tokio::time::timeout(drain, shared.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!(?drain, "sessions still running at shutdown");
        }
        served.map_err(WebError::Serve)
    }
}

async fn index(State(shared): State<Arc<Shared>>) -> Html<String> {
    Html(shared.page_html.clone())
}

async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        page::SCRIPT,
    )
        .into_response()
}

/// Counts a session while it runs.
struct ActiveGuard(Arc<Shared>);

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::AcqRel);
    }
}

async fn upgrade(
    ws: WebSocketUpgrade,
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    // Over our own limit (up to 4x) the session gets a close frame saying so; beyond that
    // the WebSocket layer refuses to buffer the message at all.
    let hard_cap = shared.config.max_message_bytes.saturating_mul(4);
    ws.max_message_size(hard_cap)
        .max_frame_size(hard_cap)
        .on_upgrade(move |socket| {
            let admitted =
                shared.active.fetch_add(1, Ordering::AcqRel) < shared.config.max_sessions;
            let guard = ActiveGuard(shared.clone());
            let tracker = shared.tracker.clone();
            tracker.track_future(async move {
                crate::connection::run(socket, peer, shared, admitted).await;
                drop(guard);
            })
        })
}
