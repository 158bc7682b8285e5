//! The WebSocket protocol against a Rust client: audio both ways, barge-in, bad input,
//! disconnects, several sessions at once.

mod common;

use std::time::Duration;

use agents_voice::io::{AudioOutput, InputEvent, PlaybackFinished};
use agents_voice::AudioFrame;
use agents_web::{WebCall, WebConfig};
use common::*;
use futures::SinkExt;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

const RATE: u32 = 24_000;
const FRAME: usize = 480;

/// A handler that reports every input event as (session id, event).
fn recorder() -> (
    impl Fn(WebCall) -> futures::future::BoxFuture<'static, ()> + Send + Sync + 'static,
    mpsc::UnboundedReceiver<(u64, InputEvent)>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let handler = move |mut call: WebCall| {
        let tx = tx.clone();
        let fut: futures::future::BoxFuture<'static, ()> = Box::pin(async move {
            while let Some(ev) = call.input.recv().await {
                let end = ev == InputEvent::Hangup;
                let _ = tx.send((call.id, ev));
                if end {
                    break;
                }
            }
        });
        fut
    };
    (handler, rx)
}

async fn next_event(rx: &mut mpsc::UnboundedReceiver<(u64, InputEvent)>) -> (u64, InputEvent) {
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("input event in time")
        .expect("handler alive")
}

#[tokio::test]
async fn page_and_script_are_served() {
    let (handler, _rx) = recorder();
    let server = TestServer::start(
        WebConfig {
            title: "Demo <agent>".into(),
            ..WebConfig::default()
        },
        handler,
    )
    .await;
    for (path, needle) in [
        ("/", "<title>Demo &lt;agent&gt;</title>"),
        ("/app.js", "registerProcessor('player'"),
    ] {
        let mut s = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        s.write_all(req.as_bytes()).await.unwrap();
        let mut body = String::new();
        tokio::time::timeout(WAIT, s.read_to_string(&mut body))
            .await
            .unwrap()
            .unwrap();
        assert!(body.starts_with("HTTP/1.1 200"), "{path}: {}", &body[..40]);
        assert!(body.contains(needle), "{path} lacks {needle}");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn audio_and_digits_reach_the_handler_bit_exact_then_hangup() {
    let (handler, mut rx) = recorder();
    let server = TestServer::start(WebConfig::default(), handler).await;
    let (mut ws, hello) = start(server.addr, true).await;
    assert_eq!(hello["sample_rate"], RATE);
    assert_eq!(hello["channels"], 1);
    assert_eq!(hello["frame_ms"], 20);
    let sent = noise(FRAME * 50, 7);
    for (i, chunk) in sent.chunks(FRAME).enumerate() {
        send_audio(&mut ws, chunk).await;
        if i == 10 {
            send_json(&mut ws, json!({"type": "dtmf", "digit": "5"})).await;
        }
    }
    send_json(&mut ws, json!({"type": "dtmf", "digit": "#"})).await;
    ws.close(None).await.unwrap();

    let mut got = Vec::new();
    let mut digits = Vec::new();
    loop {
        match next_event(&mut rx).await.1 {
            InputEvent::Audio(f) => {
                assert_eq!((f.sample_rate, f.channels), (RATE, 1));
                assert_eq!(f.samples.len(), FRAME);
                if digits.is_empty() {
                    assert!(got.len() <= 11 * FRAME, "digit arrived out of order");
                }
                got.extend(f.samples);
            }
            InputEvent::Dtmf(d) => digits.push((d, got.len())),
            InputEvent::Hangup => break,
        }
    }
    assert_eq!(got, sent, "audio is bit-exact");
    assert_eq!(digits, vec![('5', 11 * FRAME), ('#', 50 * FRAME)]);
    server.shutdown().await;
}

/// Plays `frames` through the call's output, then reports how playout ended.
fn player(
    segment: Vec<i16>,
) -> (
    impl Fn(WebCall) -> futures::future::BoxFuture<'static, ()> + Send + Sync + 'static,
    mpsc::UnboundedReceiver<PlaybackFinished>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let handler = move |mut call: WebCall| {
        let tx = tx.clone();
        let segment = segment.clone();
        let fut: futures::future::BoxFuture<'static, ()> = Box::pin(async move {
            // Uneven frames: the output re-cuts them into 20 ms messages.
            for chunk in segment.chunks(1000) {
                let frame = AudioFrame::new(chunk.to_vec(), RATE, 1).unwrap();
                call.output.capture_frame(frame).await.unwrap();
            }
            call.output.flush();
            let fin = call.output.wait_for_playout().await;
            let _ = tx.send(fin);
            // Stay until the page leaves.
            while let Some(ev) = call.input.recv().await {
                if ev == InputEvent::Hangup {
                    break;
                }
            }
        });
        fut
    };
    (handler, rx)
}

#[tokio::test]
async fn agent_audio_reaches_the_page_paced_by_its_playout_reports() {
    let segment = tone(RATE as usize, RATE, 440.0, 8000.0); // 1 s
    let (handler, mut done) = player(segment.clone());
    let server = TestServer::start(WebConfig::default(), handler).await;
    let (mut ws, _) = start(server.addr, true).await;

    // Without playout reports the server stops at the lead (500 ms) plus one frame of slack.
    let mut got: Vec<i16> = Vec::new();
    while let Ok(Some(Message::Binary(b))) =
        tokio::time::timeout(Duration::from_millis(300), next(&mut ws)).await
    {
        assert!(b.len() <= FRAME * 2, "message longer than 20 ms");
        got.extend(bytes_to_samples(&b));
    }
    assert!(
        got.len() >= RATE as usize / 2 && got.len() <= RATE as usize / 2 + 1000 + FRAME,
        "sent {} samples ahead of playback",
        got.len()
    );
    // "Play" everything received so far, report, and receive the rest.
    while got.len() < segment.len() {
        let head = got.len();
        send_json(
            &mut ws,
            json!({"type":"playout","head":head,"played":head,"queued":0}),
        )
        .await;
        match next(&mut ws).await {
            Some(Message::Binary(b)) => got.extend(bytes_to_samples(&b)),
            other => panic!("expected audio, got {other:?}"),
        }
    }
    assert_eq!(got, segment, "agent audio arrives bit-exact");
    let fin_wait = tokio::time::timeout(Duration::from_millis(200), done.recv()).await;
    assert!(
        fin_wait.is_err(),
        "playout must not end before the page played it all"
    );
    let head = got.len();
    send_json(
        &mut ws,
        json!({"type":"playout","head":head,"played":head,"queued":0}),
    )
    .await;
    let fin = tokio::time::timeout(WAIT, done.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        fin,
        PlaybackFinished {
            playback_position: Duration::from_secs(1),
            interrupted: false
        }
    );
    server.shutdown().await;
}

#[tokio::test]
async fn without_reports_playout_follows_the_server_clock() {
    let segment = tone(RATE as usize * 3 / 10, RATE, 300.0, 5000.0); // 300 ms
    let (handler, mut done) = player(segment.clone());
    let server = TestServer::start(WebConfig::default(), handler).await;
    let t0 = std::time::Instant::now();
    let (mut ws, _) = start(server.addr, false).await;
    let mut got = Vec::new();
    while got.len() < segment.len() {
        match next(&mut ws).await {
            Some(Message::Binary(b)) => got.extend(bytes_to_samples(&b)),
            other => panic!("expected audio, got {other:?}"),
        }
    }
    let fin = tokio::time::timeout(WAIT, done.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(
        t0.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t0.elapsed()
    );
    assert_eq!(fin.playback_position, Duration::from_millis(300));
    assert!(!fin.interrupted);
    server.shutdown().await;
}

/// Barge-in: the handler clears mid-reply; the page is told at once, answers with its
/// playhead, and the pipeline learns exactly how much was heard.
#[tokio::test]
async fn clear_flushes_and_reports_what_was_heard() {
    let (tx, mut done) = mpsc::unbounded_channel();
    let handler = move |mut call: WebCall| {
        let tx = tx.clone();
        async move {
            let reports = call.playout_reports();
            let old = AudioFrame::new(vec![1111; FRAME * 10], RATE, 1).unwrap();
            // Capture until the page says it played 300 ms, then barge in.
            loop {
                call.output.capture_frame(old.clone()).await.unwrap();
                if reports.borrow().played >= 7_200 {
                    break;
                }
            }
            call.output.clear_buffer();
            let fin = call.output.wait_for_playout().await;
            // The next reply is distinguishable.
            let new = AudioFrame::new(vec![2222; FRAME * 5], RATE, 1).unwrap();
            call.output.capture_frame(new).await.unwrap();
            call.output.flush();
            let _ = tx.send(fin);
            while let Some(ev) = call.input.recv().await {
                if ev == InputEvent::Hangup {
                    break;
                }
            }
        }
    };
    let server = TestServer::start(WebConfig::default(), handler).await;
    let (mut ws, _) = start(server.addr, true).await;
    let mut received = 0u64;
    let mut reported = false;
    let seq = loop {
        match next(&mut ws).await {
            Some(Message::Binary(b)) => {
                assert!(b
                    .chunks_exact(2)
                    .all(|c| i16::from_le_bytes([c[0], c[1]]) == 1111));
                received += (b.len() / 2) as u64;
                if !reported && received >= 7_200 {
                    reported = true;
                    send_json(
                        &mut ws,
                        json!({"type":"playout","head":7200,"played":7200,"queued":received-7200}),
                    )
                    .await;
                }
            }
            Some(Message::Text(t)) => {
                let v: serde_json::Value = serde_json::from_str(&t).unwrap();
                assert_eq!(v["type"], "clear", "{v}");
                break v["seq"].as_u64().unwrap();
            }
            other => panic!("unexpected {other:?}"),
        }
    };
    assert_eq!(seq, 1);
    // The page played 9 600 samples (400 ms) when it dropped its queue.
    send_json(&mut ws, json!({"type":"cleared","seq":seq,"head":9600})).await;
    let fin = tokio::time::timeout(WAIT, done.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        fin,
        PlaybackFinished {
            playback_position: Duration::from_millis(400),
            interrupted: true
        }
    );
    // Everything after the clear belongs to the new reply.
    let mut new = 0;
    while new < FRAME * 5 {
        match next(&mut ws).await {
            Some(Message::Binary(b)) => {
                let s = bytes_to_samples(&b);
                assert!(s.iter().all(|&x| x == 2222), "old audio after clear");
                new += s.len();
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    server.shutdown().await;
}

#[tokio::test]
async fn a_page_that_vanishes_hangs_up_its_session_only() {
    let (handler, mut rx) = recorder();
    let server = TestServer::start(WebConfig::default(), handler).await;
    let (mut a, hello_a) = start(server.addr, true).await;
    let (mut b, hello_b) = start(server.addr, true).await;
    let (id_a, id_b) = (
        hello_a["session"].as_u64().unwrap(),
        hello_b["session"].as_u64().unwrap(),
    );
    assert_ne!(id_a, id_b);
    send_audio(&mut a, &noise(FRAME, 1)).await;
    assert_eq!(next_event(&mut rx).await.0, id_a);
    // Drop A's TCP connection without a close handshake.
    drop(a);
    assert_eq!(next_event(&mut rx).await, (id_a, InputEvent::Hangup));
    let samples = noise(FRAME, 2);
    send_audio(&mut b, &samples).await;
    let (id, ev) = next_event(&mut rx).await;
    assert_eq!(id, id_b);
    assert_eq!(
        ev,
        InputEvent::Audio(AudioFrame::new(samples, RATE, 1).unwrap())
    );
    b.close(None).await.unwrap();
    assert_eq!(next_event(&mut rx).await, (id_b, InputEvent::Hangup));
    server.shutdown().await;
}

/// Each bad message closes its connection with a clear code and reason, the session gets
/// `Hangup`, and a bystander session carries on.
#[tokio::test]
async fn bad_messages_close_only_their_connection() {
    let (handler, mut rx) = recorder();
    let config = WebConfig::default();
    let max = config.max_message_bytes;
    let server = TestServer::start(config, handler).await;
    let (mut bystander, hello) = start(server.addr, true).await;
    let bystander_id = hello["session"].as_u64().unwrap();

    let cases: Vec<(&str, Message, u16, &str)> = vec![
        (
            "not json",
            Message::Text("{nope".into()),
            1007,
            "malformed message",
        ),
        (
            "unknown type",
            Message::Text(r#"{"type":"launch"}"#.into()),
            1007,
            "unknown variant",
        ),
        (
            "bad digit",
            Message::Text(r#"{"type":"dtmf","digit":"x"}"#.into()),
            1007,
            "dtmf digit",
        ),
        (
            "odd audio",
            Message::Binary(vec![0u8; 3].into()),
            1007,
            "not whole 16-bit samples",
        ),
        (
            "empty audio",
            Message::Binary(Vec::new().into()),
            1007,
            "not whole 16-bit samples",
        ),
        (
            "big audio",
            Message::Binary(vec![0u8; max + 2].into()),
            1009,
            "exceeds the limit",
        ),
        (
            "big text",
            Message::Text(format!(r#"{{"type":"stop","pad":"{}"}}"#, "x".repeat(max)).into()),
            1009,
            "exceeds the limit",
        ),
        (
            "huge audio",
            Message::Binary(vec![0u8; max * 8].into()),
            1009,
            "too long",
        ),
        (
            "head beyond sent",
            Message::Text(r#"{"type":"playout","head":10,"played":10,"queued":0}"#.into()),
            1008,
            "beyond",
        ),
        (
            "unanswered clear",
            Message::Text(r#"{"type":"cleared","seq":3,"head":0}"#.into()),
            1008,
            "answers no clear",
        ),
        (
            "second start",
            Message::Text(r#"{"type":"start"}"#.into()),
            1008,
            "start sent twice",
        ),
    ];
    for (name, msg, code, reason) in cases {
        let (mut ws, hello) = start(server.addr, true).await;
        let id = hello["session"].as_u64().unwrap();
        ws.send(msg).await.unwrap();
        let (got_code, got_reason) = expect_close(&mut ws).await;
        assert_eq!(got_code, code, "{name}: {got_reason}");
        assert!(got_reason.contains(reason), "{name}: reason {got_reason:?}");
        assert_eq!(
            next_event(&mut rx).await,
            (id, InputEvent::Hangup),
            "{name}"
        );
        // The bystander is unaffected.
        let s = noise(FRAME, id as u32);
        send_audio(&mut bystander, &s).await;
        assert_eq!(
            next_event(&mut rx).await,
            (
                bystander_id,
                InputEvent::Audio(AudioFrame::new(s, RATE, 1).unwrap())
            ),
            "{name}"
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn the_handshake_is_enforced() {
    let (handler, mut rx) = recorder();
    let server = TestServer::start(
        WebConfig {
            start_timeout: Duration::from_millis(300),
            ..WebConfig::default()
        },
        handler,
    )
    .await;
    let (mut ws, _) = connect(server.addr).await;
    send_audio(&mut ws, &[1, 2, 3]).await;
    assert_eq!(
        expect_close(&mut ws).await,
        (1008, "expected a start message before audio".into())
    );
    let (mut ws, _) = connect(server.addr).await;
    let (code, reason) = expect_close(&mut ws).await;
    assert_eq!(code, 1008);
    assert!(reason.contains("no start message"), "{reason}");
    // No session was started for either.
    assert!(rx.try_recv().is_err());
    server.shutdown().await;
}

#[tokio::test]
async fn sessions_beyond_the_limit_are_refused_and_ends_are_clean() {
    let (tx, mut ended) = mpsc::unbounded_channel();
    let handler = move |mut call: WebCall| {
        let tx = tx.clone();
        async move {
            // Ends on its own after a digit; otherwise runs until hangup.
            while let Some(ev) = call.input.recv().await {
                match ev {
                    InputEvent::Dtmf(_) => {
                        let _ = tx.send((call.id, "handler done"));
                        return;
                    }
                    InputEvent::Hangup => {
                        let _ = tx.send((call.id, "hangup"));
                        return;
                    }
                    InputEvent::Audio(_) => {}
                }
            }
        }
    };
    let server = TestServer::start(
        WebConfig {
            max_sessions: 2,
            ..WebConfig::default()
        },
        handler,
    )
    .await;
    let (mut a, _) = start(server.addr, true).await;
    let (mut b, hb) = start(server.addr, true).await;
    let (mut c, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", server.addr))
        .await
        .unwrap();
    let (code, reason) = expect_close(&mut c).await;
    assert_eq!(code, 1013);
    assert!(reason.contains("server busy"), "{reason}");
    // The handler returning closes its connection normally.
    send_json(&mut a, json!({"type":"dtmf","digit":"1"})).await;
    let (code, reason) = expect_close(&mut a).await;
    assert_eq!((code, reason.as_str()), (1000, "session ended"));
    assert_eq!(
        tokio::time::timeout(WAIT, ended.recv())
            .await
            .unwrap()
            .unwrap()
            .1,
        "handler done"
    );
    // Shutdown closes the rest with 1001 and their handlers see a hangup.
    server.shutdown().await;
    let (code, _) = expect_close(&mut b).await;
    assert_eq!(code, 1001);
    let (id, why) = tokio::time::timeout(WAIT, ended.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((id, why), (hb["session"].as_u64().unwrap(), "hangup"));
}

#[tokio::test]
async fn a_failing_handler_closes_only_its_connection() {
    let handler = |mut call: WebCall| async move {
        if let Some(InputEvent::Dtmf('9')) = call.input.recv().await {
            panic!("handler bug");
        }
        while let Some(ev) = call.input.recv().await {
            if let InputEvent::Dtmf(d) = ev {
                let _ = call
                    .events
                    .send(&json!({"type": "dtmf", "digits": d.to_string()}));
            }
        }
    };
    let server = TestServer::start(WebConfig::default(), handler).await;
    let (mut bad, _) = start(server.addr, true).await;
    let (mut good, _) = start(server.addr, true).await;
    send_json(&mut bad, json!({"type":"dtmf","digit":"9"})).await;
    assert_eq!(
        expect_close(&mut bad).await,
        (1011, "session failed".into())
    );
    send_json(&mut good, json!({"type":"dtmf","digit":"1"})).await;
    send_json(&mut good, json!({"type":"dtmf","digit":"2"})).await;
    let ev = next_json(&mut good).await;
    assert_eq!(
        ev,
        json!({"type":"event","event":{"type":"dtmf","digits":"2"}})
    );
    server.shutdown().await;
}

/// A paused output holds playback (its clock stops) and tells the page; resume continues.
#[tokio::test]
async fn pause_holds_playback_until_resume() {
    let (tx, mut done) = mpsc::unbounded_channel();
    let handler = move |mut call: WebCall| {
        let tx = tx.clone();
        async move {
            assert!(call.output.can_pause());
            let frame = AudioFrame::new(tone(RATE as usize * 6 / 10, RATE, 200.0, 4000.0), RATE, 1);
            call.output.capture_frame(frame.unwrap()).await.unwrap();
            call.output.flush();
            tokio::time::sleep(Duration::from_millis(100)).await;
            call.output.pause();
            tokio::time::sleep(Duration::from_millis(400)).await;
            call.output.resume();
            let t = std::time::Instant::now();
            let fin = call.output.wait_for_playout().await;
            let _ = tx.send((fin, t.elapsed()));
            while let Some(ev) = call.input.recv().await {
                if ev == InputEvent::Hangup {
                    break;
                }
            }
        }
    };
    let server = TestServer::start(WebConfig::default(), handler).await;
    let (mut ws, _) = start(server.addr, false).await;
    let mut controls = Vec::new();
    while controls.len() < 2 {
        if let Some(Message::Text(t)) = next(&mut ws).await {
            let v: serde_json::Value = serde_json::from_str(&t).unwrap();
            controls.push(v["type"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(controls, ["pause", "resume"]);
    let (fin, after_resume) = tokio::time::timeout(WAIT, done.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(fin.playback_position, Duration::from_millis(600));
    assert!(!fin.interrupted);
    // About 400 ms were left when it paused; without the hold it would have ended already.
    assert!(
        after_resume >= Duration::from_millis(300),
        "{after_resume:?}"
    );
    server.shutdown().await;
}

/// A page whose connection stays open but which no longer answers (network loss) is
/// dropped after three keepalive intervals; its session gets `Hangup`.
#[tokio::test]
async fn a_silent_page_is_dropped_by_keepalive() {
    let (handler, mut rx) = recorder();
    let server = TestServer::start(
        WebConfig {
            keepalive: Duration::from_millis(100),
            ..WebConfig::default()
        },
        handler,
    )
    .await;
    let (mut quiet, hq) = start(server.addr, true).await;
    let (mut alive, ha) = start(server.addr, true).await;
    // `alive` reads (and so answers pings); `quiet` never reads again.
    let reader = tokio::spawn(async move {
        let t = std::time::Instant::now();
        while t.elapsed() < Duration::from_millis(800) {
            let _ = tokio::time::timeout(Duration::from_millis(50), next(&mut alive)).await;
        }
        alive
    });
    let (id, ev) = next_event(&mut rx).await;
    assert_eq!(
        (id, ev),
        (hq["session"].as_u64().unwrap(), InputEvent::Hangup)
    );
    let mut alive = reader.await.unwrap();
    let s = noise(FRAME, 3);
    send_audio(&mut alive, &s).await;
    let (id, ev) = next_event(&mut rx).await;
    assert_eq!(id, ha["session"].as_u64().unwrap());
    assert_eq!(ev, InputEvent::Audio(AudioFrame::new(s, RATE, 1).unwrap()));
    let (code, reason) = expect_close(&mut quiet).await;
    assert_eq!((code, reason.as_str()), (1001, "page stopped responding"));
    server.shutdown().await;
}
