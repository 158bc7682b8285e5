//! [`WebError`]: what can go wrong starting or running the playground server.

/// Errors of the web playground.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// The configuration is unusable.
    #[error("invalid web playground configuration: {0}")]
    Config(String),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The server failed while running.
    #[error("web playground server failed: {0}")]
    Serve(#[source] std::io::Error),
    /// The connection to the page is closed; nothing more can be sent.
    #[error("the page's connection is closed")]
    Closed,
    /// An event could not be turned into JSON.
    #[error("event is not serialisable as JSON: {0}")]
    Json(#[from] serde_json::Error),
}
