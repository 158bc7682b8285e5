//! `web` mode: a browser voice playground. The page at `/` talks to the agent through the
//! microphone (a WebSocket carries the audio and the live transcript; `/?autostart=1` starts
//! without a click). Each connection is one conversation with a fresh agent and session (see
//! [`crate::conversation`]), with its own transcript. SIGTERM or Ctrl-C closes the
//! connections and exits.

use crate::cli::WebArgs;
use crate::conversation::{converse, Conversations, Ending, Observed, Observer};
use crate::runner::{Calls, Demo, Line};
use agents_core::console;
use agents_core::prelude::*;
use agents_web::{WebCall, WebConfig, WebServer};
use serde_json::json;
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

/// Runs `web`: serves the page until SIGTERM or Ctrl-C.
pub async fn run<A: Agent>(
    args: &WebArgs,
    name: &str,
    demo: fn() -> Demo,
    calls: Calls<A>,
) -> ExitCode {
    let conversations =
        match Conversations::new(calls, demo, &args.providers, args.transcript_dir.as_deref()) {
            Ok(c) => c,
            Err(e) => return console::fail(e),
        };
    let mut config = WebConfig::new(args.listen);
    config.title = format!("{name} — agent playground");
    let server = match WebServer::bind(config).await {
        Ok(s) => s,
        Err(e) => return console::fail(format!("cannot listen on {}: {e}", args.listen)),
    };
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "web: open {} (or {}?autostart=1); {}. Use headphones. SIGTERM or Ctrl-C stops.",
            server.url(),
            server.url(),
            conversations.describe(),
        );
        let _ = out.flush();
    }
    let conversations = Arc::new(conversations);
    let served = server
        .serve_with_shutdown(
            move |call| {
                let conversations = conversations.clone();
                async move { answer(&conversations, call).await }
            },
            stop_signal(),
        )
        .await;
    match served {
        Ok(()) => {
            let _ = writeln!(std::io::stdout(), "web: stopped");
            ExitCode::SUCCESS
        }
        Err(e) => console::fail(e),
    }
}

/// Resolves on SIGTERM or Ctrl-C.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "SIGTERM cannot be caught; Ctrl-C still stops");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

/// Serves one connection until the page leaves or the agent ends the session.
async fn answer<A: Agent>(conversations: &Conversations<A>, call: WebCall) {
    let id = call.id.to_string();
    let mut transcript = conversations.transcript(&id);
    transcript.call(
        "call_started",
        json!({ "connection": call.id, "peer": call.peer.to_string() }),
    );
    let events = call.events.clone();
    let mirror = {
        let events = events.clone();
        move |observed: Observed<'_>| {
            // A page that went away ends the conversation through its input.
            let _ = match observed {
                Observed::Session(ev) => events.send(ev),
                Observed::Voice(ev) => events.send(ev),
            };
        }
    };
    let gone = {
        let events = events.clone();
        move || events.is_closed()
    };
    let mut observer = Observer {
        transcript: &mut transcript,
        mirror: Some(&mirror),
    };
    let prepared = conversations.prepare(&mut Line::none());
    let ending = converse(prepared, call.input, call.output, &gone, &mut observer).await;
    if let Ending::Error(error) = &ending {
        tracing::warn!(connection = %id, %error, "conversation failed");
        transcript.call("call_error", json!({ "error": error }));
        let _ = events.send(&json!({ "type": "error", "content": error }));
    }
    transcript.call("call_ended", json!({ "reason": ending.reason() }));
    transcript.flush();
}
