//! Extra headers on an outbound INVITE: sent as given to the callee (here a hand-written UAS
//! on 127.0.0.1 that answers 486), and refused before anything is sent when one could inject
//! other headers.

mod common;

use std::time::Duration;

use agents_sip::error::SipError;
use agents_sip::outbound::DialOptions;
use common::*;

/// The value of header `name` in a SIP message's text (first occurrence).
fn header<'a>(msg: &'a str, name: &str) -> Option<&'a str> {
    msg.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// A "486 Busy Here" answering `invite`.
fn busy_response(invite: &str) -> String {
    let copy = |name: &str| format!("{name}: {}\r\n", header(invite, name).unwrap_or(""));
    format!(
        "SIP/2.0 486 Busy Here\r\n{}{}{};tag=uas1\r\n{}{}Content-Length: 0\r\n\r\n",
        copy("Via"),
        copy("From"),
        copy("To"),
        copy("Call-ID"),
        copy("CSeq"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extra_headers_reach_the_callee_and_bad_ones_are_refused() {
    let (_addr, handle, _task) = start_server(|_| {}, 31900..=31949).await;
    let uas = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let target = format!("sip:human@{}", uas.local_addr().unwrap());

    let opts = DialOptions {
        ring_timeout: Duration::from_secs(5),
        headers: vec![
            ("X-Account".into(), "42".into()),
            ("X-Reason".into(), "billing question".into()),
        ],
        ..DialOptions::default()
    };
    let dialing = tokio::spawn({
        let handle = handle.clone();
        let target = target.clone();
        async move { handle.dial(&target, opts).await.map(|_| ()) }
    });
    let mut buf = vec![0u8; 8192];
    let (n, from) = tokio::time::timeout(Duration::from_secs(5), uas.recv_from(&mut buf))
        .await
        .expect("the INVITE came")
        .unwrap();
    let invite = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(invite.starts_with("INVITE "), "{invite}");
    assert_eq!(header(&invite, "X-Account"), Some("42"), "{invite}");
    assert_eq!(
        header(&invite, "X-Reason"),
        Some("billing question"),
        "{invite}"
    );
    uas.send_to(busy_response(&invite).as_bytes(), from)
        .await
        .unwrap();
    let result = tokio::time::timeout(Duration::from_secs(5), dialing)
        .await
        .expect("dial ended")
        .unwrap();
    assert!(
        matches!(result, Err(SipError::Rejected { status: 486 })),
        "{result:?}"
    );

    // A value with a line break would add a header of the caller's choosing, and a header the
    // stack writes itself would contradict it: refused, and no INVITE leaves.
    for headers in [
        vec![("X-Note".to_string(), "hi\r\nX-Injected: 1".to_string())],
        vec![("X Note".to_string(), "hi".to_string())],
        vec![(String::new(), "hi".to_string())],
        vec![("content-length".to_string(), "0".to_string())],
        vec![("i".to_string(), "another-call-id".to_string())],
    ] {
        let opts = DialOptions {
            headers,
            ..DialOptions::default()
        };
        let err = handle.dial(&target, opts).await.map(|_| ()).unwrap_err();
        assert!(matches!(err, SipError::Config(_)), "{err:?}");
    }
    let quiet = tokio::time::timeout(Duration::from_millis(300), uas.recv_from(&mut buf)).await;
    // Only retransmissions of the first call's ACK may arrive; never a new INVITE.
    if let Ok(Ok((n, _))) = quiet {
        let msg = String::from_utf8_lossy(&buf[..n]);
        assert!(!msg.starts_with("INVITE "), "{msg}");
    }
    assert_clean(&handle).await;
}
