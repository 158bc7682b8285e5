//! `web` mode end to end: an example binary serves the playground page and its WebSocket on
//! 127.0.0.1; a test client plays the page's part (`start`, keypad digits, `stop`) against a
//! `--scripted` agent, so no key or network is needed.

mod support;

use std::io::{Read, Write};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use support::{assert_keypad_call, temp_dir, Worker};
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Reads messages until `pred` holds on a JSON `event`; returns the agent audio bytes seen.
async fn until_event(ws: &mut Ws, pred: impl Fn(&Value) -> bool) -> usize {
    let mut audio = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .expect("the event came in time")
            .expect("the connection is open")
            .unwrap();
        match msg {
            Message::Binary(b) => audio += b.len(),
            Message::Text(t) => {
                let v: Value = serde_json::from_str(&t).unwrap();
                if v["type"] == "event" && pred(&v["event"]) {
                    return audio;
                }
            }
            _ => {}
        }
    }
}

fn http_get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_is_served_and_a_connection_is_a_conversation_with_a_transcript() {
    let dir = temp_dir("web-dtmf");
    let mut worker = Worker::spawn_web(env!("CARGO_BIN_EXE_dtmf"), &dir);

    let page = http_get(worker.addr, "/?autostart=1");
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("<html"), "{page}");

    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", worker.addr))
        .await
        .unwrap();
    let hello: Value = match ws.next().await.unwrap().unwrap() {
        Message::Text(t) => serde_json::from_str(&t).unwrap(),
        other => panic!("expected hello, got {other:?}"),
    };
    assert_eq!(hello["type"], "hello");
    let session = hello["session"].as_u64().unwrap();
    ws.send(Message::Text(json!({"type": "start"}).to_string().into()))
        .await
        .unwrap();

    // The greeting: its message in the live transcript, then its audio as PCM until the
    // pipeline reports it played (voice events reach the page too).
    let mut audio = until_event(&mut ws, |e| {
        e["type"] == "message" && e["content"].as_str().unwrap_or("").contains("Welcome")
    })
    .await;
    audio += until_event(&mut ws, |e| e["type"] == "playback_finished").await;
    assert!(
        audio > 24_000 * 2,
        "less than a second of greeting ({audio} bytes)"
    );
    // Keypad digits from the page reach the session.
    for digit in ["4", "0", "#"] {
        ws.send(Message::Text(
            json!({"type": "dtmf", "digit": digit}).to_string().into(),
        ))
        .await
        .unwrap();
    }
    // The reply's own audio (the greeting's is counted above): at least half a second.
    let mut reply = until_event(&mut ws, |e| {
        e["type"] == "message"
            && e["content"]
                .as_str()
                .unwrap_or("")
                .contains("You entered 2 digits")
    })
    .await;
    reply += until_event(&mut ws, |e| e["type"] == "playback_finished").await;
    assert!(reply > 24_000, "no spoken reply ({reply} bytes)");
    ws.send(Message::Text(json!({"type": "stop"}).to_string().into()))
        .await
        .unwrap();

    let transcript = worker.transcript(&session.to_string()).await;
    assert_keypad_call(&transcript, "40#");

    worker.terminate();
    let status = tokio::task::spawn_blocking(move || worker.wait_exit(Duration::from_secs(20)))
        .await
        .unwrap()
        .expect("the server stopped after SIGTERM");
    assert!(status.success(), "{status:?}");
}
