//! [`ScriptedServer`]: an HTTP test server answering from a script of replies and recording
//! the requests it parsed. The OpenAI-compatible speech and transcription servers are this
//! type with their own reply and request types (see their `start`).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::routing::MethodRouter;
use axum::Router;

use super::Running;

/// What a scripted server's handler shares with the test: queued replies, the reply given
/// when none is queued, and the requests seen so far.
pub(crate) struct Exchange<R, Q> {
    script: VecDeque<R>,
    fallback: R,
    requests: Vec<Q>,
}

impl<R: Clone, Q> Exchange<R, Q> {
    /// Records `request` and takes the reply for it (the next queued one, else the fallback).
    pub(crate) fn answer(&mut self, request: Q) -> R {
        self.requests.push(request);
        self.script
            .pop_front()
            .unwrap_or_else(|| self.fallback.clone())
    }
}

/// The exchange as the handlers receive it (axum state).
pub(crate) type SharedExchange<R, Q> = Arc<Mutex<Exchange<R, Q>>>;

/// An HTTP server on a free loopback port answering from a script of `R` replies and
/// recording the `Q` requests it received. Stops when dropped.
pub struct ScriptedServer<R, Q>(Running<Exchange<R, Q>>);

impl<R, Q> ScriptedServer<R, Q>
where
    R: Clone + Send + 'static,
    Q: Clone + Send + 'static,
{
    /// Serves `route` at `path` over the shared exchange; unscripted requests get `fallback`.
    pub(crate) async fn serve(
        fallback: R,
        path: &str,
        route: MethodRouter<SharedExchange<R, Q>>,
    ) -> std::io::Result<Self> {
        let exchange = Exchange {
            script: VecDeque::new(),
            fallback,
            requests: Vec::new(),
        };
        let app = |state| Router::new().route(path, route).with_state(state);
        Running::http(exchange, app).await.map(Self)
    }

    /// Base URL to configure the client with (`http://127.0.0.1:PORT/v1`).
    pub fn base_url(&self) -> &str {
        self.0.url()
    }

    /// Queues the answer for the next unanswered request.
    pub fn push_reply(&self, reply: R) {
        self.0.state().script.push_back(reply);
    }

    /// Requests received so far (those that parsed, including ones answered with an error).
    pub fn requests(&self) -> Vec<Q> {
        self.0.state().requests.clone()
    }
}
