//! End-to-end calls over 127.0.0.1: the call simulator (and hand-written SIP) against a
//! server running the echo handler.

mod common;

use std::time::Duration;

use agents_sip::error::SipError;
use agents_sip::testing::CallSimulator;
use common::*;

fn level(s: &[i16]) -> u64 {
    s.iter().map(|x| u64::from(x.unsigned_abs())).sum::<u64>() / s.len().max(1) as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_echoes_audio_and_bye_from_caller_frees_everything() {
    let (addr, handle, _task) = start_server(|_| {}, 31000..=31099).await;
    let sim = CallSimulator::with_rtp_ports(32000..=32099).await.unwrap();
    let mut call = sim.call(addr).await.unwrap();
    assert_eq!(handle.stats().active_calls, 1);
    assert_eq!(handle.stats().rtp_ports_in_use, 1);
    call.play(&tone(400, 8000.0)).await.unwrap();
    assert!(
        call.wait_for_agent_turn(Duration::from_millis(100), Duration::from_secs(3))
            .await
    );
    let rec = call.recorded();
    // The echo carries the tone back (G.711 twice keeps its level within a few percent).
    let loud: Vec<&[i16]> = rec.chunks(160).filter(|c| level(c) > 2000).collect();
    assert!(loud.len() >= 15, "echoed {} loud frames", loud.len());
    let neg = call.control().media().negotiated();
    assert_eq!(neg.telephone_event, Some(101));
    call.hangup().await;
    assert_clean(&handle).await;
    let s = sim.stats();
    assert_eq!((s.active_calls, s.rtp_ports_in_use), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digits_go_both_ways_and_agent_hangs_up() {
    let (addr, handle, _task) = start_server(|_| {}, 31100..=31199).await;
    let sim = CallSimulator::with_rtp_ports(32100..=32199).await.unwrap();
    let call = sim.call(addr).await.unwrap();
    call.send_digits("12#0").unwrap();
    // The echo handler answers each digit with the same digit, then hangs up after "#0".
    assert_eq!(
        call.wait_for_digits(4, Duration::from_secs(5)).await,
        "12#0"
    );
    assert!(
        call.wait_for_hangup(Duration::from_secs(5)).await,
        "agent sent BYE"
    );
    assert!(call.send_digits("1").is_err());
    assert_clean(&handle).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn options_then_503_beyond_max_calls_and_while_draining() {
    let (addr, handle, task) = start_server(|c| c.max_calls = 1, 31200..=31299).await;
    let raw = RawUa::new(addr).await;
    let opt = |b: &'static str| Req {
        method: "OPTIONS",
        call_id: b,
        cseq: 1,
        branch: b,
        to_tag: None,
        body: "",
        contact: false,
    };
    raw.send(&raw.build(&opt("o1"))).await;
    let r = raw.until_final("OPTIONS").await;
    assert_eq!(status(r.last().unwrap()), 200);

    let sim = CallSimulator::with_rtp_ports(32200..=32299).await.unwrap();
    let first = sim.call(addr).await.unwrap();
    match sim.call(addr).await {
        Err(SipError::Rejected { status: 503 }) => {}
        other => panic!("second call: {:?}", other.map(|c| c.call_id().to_owned())),
    }
    // Retry-After is given; OPTIONS says full too.
    let inv = Req {
        method: "INVITE",
        call_id: "full-1",
        cseq: 1,
        branch: "i1",
        to_tag: None,
        body: PCMA_OFFER,
        contact: true,
    };
    raw.send(&raw.build(&inv)).await;
    let r = raw.until_final("INVITE").await;
    let last = r.last().unwrap();
    assert_eq!(status(last), 503);
    assert_eq!(header(last, "Retry-After").as_deref(), Some("5"));
    raw.send(&raw.build(&opt("o2"))).await;
    assert_eq!(
        status(raw.until_final("OPTIONS").await.last().unwrap()),
        503
    );

    // Draining: serve keeps running while the call is up, then returns.
    handle.shutdown();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!task.is_finished(), "serve waits for the call in progress");
    first.hangup().await;
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("serve returned")
        .unwrap();
    assert_clean(&handle).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_before_answer_gets_487() {
    let (addr, handle, _task) =
        start_server(|c| c.answer_delay = Duration::from_secs(3), 31300..=31399).await;
    let raw = RawUa::new(addr).await;
    let inv = Req {
        method: "INVITE",
        call_id: "cancel-1",
        cseq: 1,
        branch: "c1",
        to_tag: None,
        body: PCMA_OFFER,
        contact: true,
    };
    raw.send(&raw.build(&inv)).await;
    // 100 Trying and 180 Ringing arrive first.
    let mut seen = Vec::new();
    while let Some(m) = raw.recv(Duration::from_secs(2)).await {
        seen.push(status(&m));
        if status(&m) == 180 {
            break;
        }
    }
    assert!(seen.contains(&180), "{seen:?}");
    assert_eq!(handle.stats().active_calls, 1);
    let cancel = Req {
        method: "CANCEL",
        body: "",
        contact: false,
        ..inv
    };
    raw.send(&raw.build(&cancel)).await;
    let mut cancel_ok = false;
    let mut invite_487 = false;
    while let Some(m) = raw.recv(Duration::from_secs(2)).await {
        let cseq = header(&m, "CSeq").unwrap_or_default();
        if cseq.ends_with("CANCEL") && status(&m) == 200 {
            cancel_ok = true;
        }
        if cseq.ends_with("INVITE") && status(&m) == 487 {
            invite_487 = true;
            let tag = to_tag(&m);
            let ack = Req {
                method: "ACK",
                to_tag: tag.as_deref(),
                body: "",
                contact: false,
                ..inv
            };
            raw.send(&raw.build(&ack)).await;
        }
        if cancel_ok && invite_487 {
            break;
        }
    }
    assert!(
        cancel_ok && invite_487,
        "cancel 200: {cancel_ok}, invite 487: {invite_487}"
    );
    assert_clean(&handle).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_offers_get_488_or_400() {
    let (addr, handle, _task) = start_server(|_| {}, 31400..=31499).await;
    let raw = RawUa::new(addr).await;
    let cases: [(&str, &str, bool, u16); 4] = [
        ("g722", G722_OFFER, true, 488),
        ("garbage", "this is not sdp", true, 400),
        ("no-offer", "", true, 488),
        ("no-contact", PCMA_OFFER, false, 400),
    ];
    for (i, (name, body, contact, want)) in cases.into_iter().enumerate() {
        let branch = format!("bad{i}");
        let inv = Req {
            method: "INVITE",
            call_id: name,
            cseq: 1,
            branch: &branch,
            to_tag: None,
            body,
            contact,
        };
        raw.send(&raw.build(&inv)).await;
        let r = raw.until_final("INVITE").await;
        assert_eq!(status(r.last().unwrap()), want, "{name}");
    }
    // Requests we do not serve.
    let reg = Req {
        method: "REGISTER",
        call_id: "reg",
        cseq: 1,
        branch: "reg1",
        to_tag: None,
        body: "",
        contact: true,
    };
    raw.send(&raw.build(&reg)).await;
    assert_eq!(
        status(raw.until_final("REGISTER").await.last().unwrap()),
        405
    );
    let bye = Req {
        method: "BYE",
        call_id: "nope",
        cseq: 2,
        branch: "bye1",
        to_tag: Some("x"),
        body: "",
        contact: false,
    };
    raw.send(&raw.build(&bye)).await;
    assert_eq!(status(raw.until_final("BYE").await.last().unwrap()), 481);
    // Unparseable datagrams are dropped and the server keeps serving.
    raw.sock.send_to(b"\x00\x01garbage", addr).await.unwrap();
    // A request the SIP parser refuses, with the headers a response needs, gets a 400 that
    // matches it (instead of silence and the caller's retransmissions).
    let broken = raw
        .build(&Req {
            method: "INVITE",
            call_id: "broken-1",
            cseq: 1,
            branch: "broken1",
            to_tag: None,
            body: "",
            contact: true,
        })
        .replacen(&format!("sip:agent@{addr}"), "sip:agent@127.0.0.1:99999", 1);
    raw.send(&broken).await;
    let answered = raw.until_final("INVITE").await;
    let last = answered.last().expect("an answer to the broken INVITE");
    assert_eq!(status(last), 400, "{last}");
    assert_eq!(
        header(last, "Call-ID").as_deref(),
        Some("broken-1"),
        "{last}"
    );
    assert!(to_tag(last).is_some(), "{last}");
    let opt = Req {
        method: "OPTIONS",
        call_id: "o",
        cseq: 1,
        branch: "o9",
        to_tag: None,
        body: "",
        contact: false,
    };
    raw.send(&raw.build(&opt)).await;
    assert_eq!(
        status(raw.until_final("OPTIONS").await.last().unwrap()),
        200
    );
    assert_clean(&handle).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reinvite_hold_and_resume_are_answered() {
    let (addr, handle, _task) = start_server(|_| {}, 31500..=31599).await;
    let raw = RawUa::new(addr).await;
    let inv = Req {
        method: "INVITE",
        call_id: "hold-1",
        cseq: 1,
        branch: "h1",
        to_tag: None,
        body: PCMA_OFFER,
        contact: true,
    };
    raw.send(&raw.build(&inv)).await;
    let r = raw.until_final("INVITE").await;
    let ok = r.last().unwrap();
    assert_eq!(status(ok), 200);
    assert_eq!(
        header(ok, "Content-Type").as_deref(),
        Some("application/sdp")
    );
    assert!(body(ok).contains("c=IN IP4 127.0.0.1"));
    assert!(body(ok).contains("a=sendrecv"));
    let tag = to_tag(ok).unwrap();
    let ack = Req {
        method: "ACK",
        to_tag: Some(&tag),
        body: "",
        contact: false,
        branch: "h1a",
        ..inv
    };
    raw.send(&raw.build(&ack)).await;
    for (cseq, dir, want) in [
        (2, "sendonly", "a=recvonly"),
        (3, "inactive", "a=inactive"),
        (4, "sendrecv", "a=sendrecv"),
    ] {
        let sdp = format!("{PCMA_OFFER}a={dir}\r\n");
        let branch = format!("h{cseq}");
        let re = Req {
            method: "INVITE",
            cseq,
            branch: &branch,
            to_tag: Some(&tag),
            body: &sdp,
            contact: true,
            ..inv
        };
        raw.send(&raw.build(&re)).await;
        let r = raw.until_final("INVITE").await;
        let resp = r.last().unwrap();
        assert_eq!(status(resp), 200, "re-INVITE {dir}");
        assert!(body(resp).contains(want), "{dir}: {}", body(resp));
        let ack_branch = format!("{branch}a");
        let ack = Req {
            method: "ACK",
            cseq,
            branch: &ack_branch,
            to_tag: Some(&tag),
            body: "",
            contact: false,
            ..inv
        };
        raw.send(&raw.build(&ack)).await;
    }
    // A re-INVITE with codecs we do not speak is refused and the call continues.
    let re = Req {
        method: "INVITE",
        cseq: 5,
        branch: "h5",
        to_tag: Some(&tag),
        body: G722_OFFER,
        contact: true,
        ..inv
    };
    raw.send(&raw.build(&re)).await;
    assert_eq!(status(raw.until_final("INVITE").await.last().unwrap()), 488);
    assert_eq!(handle.stats().active_calls, 1);
    let bye = Req {
        method: "BYE",
        cseq: 6,
        branch: "h6",
        to_tag: Some(&tag),
        body: "",
        contact: false,
        ..inv
    };
    raw.send(&raw.build(&bye)).await;
    assert_eq!(status(raw.until_final("BYE").await.last().unwrap()), 200);
    assert_clean(&handle).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rtp_from_a_stranger_is_ignored() {
    let (addr, handle, _task) = start_server(|_| {}, 31600..=31699).await;
    let sim = CallSimulator::with_rtp_ports(32600..=32699).await.unwrap();
    let mut call = sim.call(addr).await.unwrap();
    let server_rtp = call.control().media().negotiated().remote;
    // The caller's own audio latches the server onto the caller's address first.
    call.play(&tone(100, 8000.0)).await.unwrap();
    // A stranger floods loud PCMU audio at the server's RTP port.
    let stranger = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    for seq in 0..50u16 {
        let mut pkt = vec![0x80, 0, (seq >> 8) as u8, seq as u8, 0, 0, 0, 0, 1, 2, 3, 4];
        pkt.extend(std::iter::repeat_n(0x80u8, 160)); // μ-law full scale
        stranger.send_to(&pkt, server_rtp).await.unwrap();
    }
    // And an oversized datagram.
    stranger
        .send_to(&vec![0x80; 4000], server_rtp)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    let rec = call.recorded();
    let max = rec.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
    assert!(
        max < 12000,
        "stranger's full-scale audio was echoed (peak {max})"
    );
    assert!(max > 4000, "the caller's own tone was echoed (peak {max})");
    call.hangup().await;
    assert_clean(&handle).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_sequential_and_parallel_calls_leave_nothing_behind() {
    let (addr, handle, _task) = start_server(|c| c.max_calls = 20, 31700..=31799).await;
    let sim = CallSimulator::with_rtp_ports(32700..=32799).await.unwrap();
    for _ in 0..3 {
        let mut calls = Vec::new();
        for _ in 0..10 {
            calls.push(sim.call(addr).await.unwrap());
        }
        assert_eq!(handle.stats().active_calls, 10);
        for c in &mut calls {
            c.play(&tone(40, 4000.0)).await.unwrap();
        }
        for c in calls {
            c.hangup().await;
        }
        assert_clean(&handle).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caller_puts_agent_on_hold_and_back() {
    let (addr, handle, _task) = start_server(|_| {}, 31800..=31899).await;
    let sim = CallSimulator::with_rtp_ports(32800..=32899).await.unwrap();
    let call = sim.call(addr).await.unwrap();
    let ctl = call.control();
    assert!(
        call.wait_for_audio(1600, Duration::from_secs(2)).await,
        "agent sends (silence)"
    );
    ctl.hold(true).await.unwrap();
    // The agent answered recvonly: it stops sending.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let before = call.recorded().len();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(call.recorded().len() - before <= 160, "no audio while held");
    ctl.hold(false).await.unwrap();
    let resumed = call.recorded().len();
    assert!(
        call.wait_for_audio(resumed + 1600, Duration::from_secs(2))
            .await,
        "audio after resume"
    );
    call.hangup().await;
    assert_clean(&handle).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_request_uri_and_record_route_are_honoured() {
    // The agent hangs up on its own shortly after answering.
    let (addr, handle, _task) = start_server_with(31900..=31999, |_call| async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
    })
    .await;
    // "proxy" is where Record-Route points; "raw" is the caller's Contact.
    let proxy = RawUa::new(addr).await;
    let raw = RawUa::new(addr).await;
    let proxy_addr = proxy.sock.local_addr().unwrap();
    let inv = Req {
        method: "INVITE",
        call_id: "rr-1",
        cseq: 1,
        branch: "rr1",
        to_tag: None,
        body: PCMA_OFFER,
        contact: true,
    };
    // A Request-URI naming the proxy (as a dispatcher forwards it), and a Record-Route.
    let text = raw
        .build(&inv)
        .replace(
            &format!("INVITE sip:agent@{addr} "),
            "INVITE sip:service@192.0.2.10:5060 ",
        )
        .replace(
            "Max-Forwards: 70\r\n",
            &format!("Max-Forwards: 70\r\nRecord-Route: <sip:{proxy_addr};lr>\r\n"),
        );
    raw.send(&text).await;
    let ok = raw.until_final("INVITE").await.pop().unwrap();
    assert_eq!(status(&ok), 200);
    assert!(
        header(&ok, "Record-Route").is_some_and(|r| r.contains(&proxy_addr.to_string())),
        "{ok}"
    );
    let tag = to_tag(&ok).unwrap();
    let ack = Req {
        method: "ACK",
        to_tag: Some(&tag),
        body: "",
        contact: false,
        branch: "rr1a",
        ..inv
    };
    raw.send(&raw.build(&ack)).await;
    // The agent's BYE goes through the proxy, with the route set.
    let bye = proxy
        .recv(Duration::from_secs(3))
        .await
        .expect("BYE via the proxy");
    assert!(bye.starts_with("BYE "), "{bye}");
    assert!(
        header(&bye, "Route").is_some_and(|r| r.contains(&proxy_addr.to_string())),
        "{bye}"
    );
    // Answer it as the caller would (the proxy relays the 200 back).
    let via = header(&bye, "Via").unwrap();
    let resp = format!(
        "SIP/2.0 200 OK\r\nVia: {via}\r\nFrom: {}\r\nTo: {}\r\nCall-ID: rr-1\r\nCSeq: {}\r\nContent-Length: 0\r\n\r\n",
        header(&bye, "From").unwrap(),
        header(&bye, "To").unwrap(),
        header(&bye, "CSeq").unwrap()
    );
    proxy.sock.send_to(resp.as_bytes(), addr).await.unwrap();
    assert_clean(&handle).await;
}

/// Answers `req` (a request received on `ua`) with `code`.
async fn answer(ua: &RawUa, req: &str, code: u16, reason: &str) {
    let mut resp = format!("SIP/2.0 {code} {reason}\r\n");
    for name in ["Via", "From", "To", "Call-ID", "CSeq"] {
        resp.push_str(&format!("{name}: {}\r\n", header(req, name).unwrap()));
    }
    resp.push_str("Content-Length: 0\r\n\r\n");
    ua.send(&resp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blind_transfer_with_refer() {
    let (result_tx, mut result_rx) = tokio::sync::mpsc::unbounded_channel();
    let (addr, handle, _task) = start_server_with(34000..=34099, move |call| {
        let result_tx = result_tx.clone();
        async move {
            let r = call.refer("sip:human@192.0.2.7:5060").await;
            let _ = result_tx.send(r.map_err(|e| e.to_string()));
        }
    })
    .await;
    let raw = RawUa::new(addr).await;
    let inv = Req {
        method: "INVITE",
        call_id: "refer-1",
        cseq: 1,
        branch: "rf1",
        to_tag: None,
        body: PCMA_OFFER,
        contact: true,
    };
    raw.send(&raw.build(&inv)).await;
    let ok = raw.until_final("INVITE").await.pop().unwrap();
    let tag = to_tag(&ok).unwrap();
    let ack = Req {
        method: "ACK",
        to_tag: Some(&tag),
        body: "",
        contact: false,
        branch: "rf1a",
        ..inv
    };
    raw.send(&raw.build(&ack)).await;
    let refer = loop {
        let m = raw.recv(Duration::from_secs(3)).await.expect("REFER");
        if m.starts_with("REFER ") {
            break m;
        }
    };
    assert!(header(&refer, "Refer-To")
        .unwrap()
        .contains("sip:human@192.0.2.7:5060"));
    answer(&raw, &refer, 202, "Accepted").await;
    // The transfer target answered: report it with a NOTIFY carrying a sipfrag.
    let frag = "SIP/2.0 200 OK\r\n";
    let notify = Req {
        method: "NOTIFY",
        cseq: 2,
        branch: "rf2",
        to_tag: Some(&tag),
        body: frag,
        contact: true,
        ..inv
    };
    let text = raw
        .build(&notify)
        .replace("Content-Type: application/sdp\r\n", "Content-Type: message/sipfrag\r\nEvent: refer\r\nSubscription-State: terminated;reason=noresource\r\n");
    raw.send(&text).await;
    let mut notify_ok = false;
    let mut bye = None;
    while let Some(m) = raw.recv(Duration::from_secs(3)).await {
        if m.starts_with("SIP/2.0 200") && header(&m, "CSeq").is_some_and(|c| c.ends_with("NOTIFY"))
        {
            notify_ok = true;
        }
        if m.starts_with("BYE ") {
            bye = Some(m);
        }
        if notify_ok && bye.is_some() {
            break;
        }
    }
    assert!(notify_ok, "NOTIFY answered");
    let bye = bye.expect("the agent leaves after the transfer");
    answer(&raw, &bye, 200, "OK").await;
    assert_eq!(result_rx.recv().await.unwrap(), Ok(()));
    assert_clean(&handle).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inband_digits_are_detected_without_telephone_event() {
    let (addr, handle, _task) = start_server(|_| {}, 34100..=34199).await;
    let raw = RawUa::new(addr).await;
    let rtp = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let offer = format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {} RTP/AVP 0\r\n",
        rtp.local_addr().unwrap().port()
    );
    let inv = Req {
        method: "INVITE",
        call_id: "inband-1",
        cseq: 1,
        branch: "ib1",
        to_tag: None,
        body: &offer,
        contact: true,
    };
    raw.send(&raw.build(&inv)).await;
    let ok = raw.until_final("INVITE").await.pop().unwrap();
    assert_eq!(status(&ok), 200);
    assert!(!body(&ok).contains("telephone-event"));
    let port: u16 = body(&ok)
        .lines()
        .find_map(|l| l.strip_prefix("m=audio "))
        .and_then(|l| l.split(' ').next())
        .and_then(|p| p.parse().ok())
        .unwrap();
    let tag = to_tag(&ok).unwrap();
    let ack = Req {
        method: "ACK",
        to_tag: Some(&tag),
        body: "",
        contact: false,
        branch: "ib1a",
        ..inv
    };
    raw.send(&raw.build(&ack)).await;
    // "#" then "0" as dual tones (the echo handler hangs up after "#0").
    let tone = |lo: f64, hi: f64, ms: usize| -> Vec<i16> {
        (0..ms * 8)
            .map(|n| {
                let t = n as f64 / 8000.0;
                ((2.0 * std::f64::consts::PI * lo * t).sin() * 6000.0
                    + (2.0 * std::f64::consts::PI * hi * t).sin() * 6000.0) as i16
            })
            .collect()
    };
    let mut pcm = tone(941.0, 1477.0, 120);
    pcm.extend(vec![0; 800]);
    pcm.extend(tone(941.0, 1336.0, 120));
    pcm.extend(vec![0; 2400]);
    let to = std::net::SocketAddr::new("127.0.0.1".parse().unwrap(), port);
    for (i, chunk) in pcm.chunks(160).enumerate() {
        let mut payload = Vec::new();
        agents_sip::codec::encode(agents_sip::sdp::Codec::Pcmu, chunk, &mut payload);
        let seq = i as u16;
        let ts = (i * 160) as u32;
        let mut pkt = vec![0x80, 0, (seq >> 8) as u8, seq as u8];
        pkt.extend(ts.to_be_bytes());
        pkt.extend([9, 9, 9, 9]);
        pkt.extend(payload);
        rtp.send_to(&pkt, to).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut bye = None;
    while let Some(m) = raw.recv(Duration::from_secs(3)).await {
        if m.starts_with("BYE ") {
            bye = Some(m);
            break;
        }
    }
    let bye = bye.expect("the in-band #0 reached the handler, which hung up");
    answer(&raw, &bye, 200, "OK").await;
    assert_clean(&handle).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_dials_a_human_and_bridges_the_caller() {
    use agents_sip::outbound::DialOptions;
    use agents_sip::server::{SipConfig, SipServer};
    // The "human": an echo server.
    let (human, human_handle, _t) = start_server(|_| {}, 34200..=34299).await;
    // The agent's server: on each call, dial the human and bridge.
    let mut cfg = SipConfig::new("127.0.0.1:0".parse().unwrap());
    cfg.rtp_ports = 34300..=34399;
    let server = SipServer::bind(cfg).await.unwrap();
    let addr = server.local_addr();
    let handle = server.handle();
    let dialer = handle.clone();
    tokio::spawn(server.serve(move |mut call| {
        let dialer = dialer.clone();
        async move {
            let target = format!("sip:human@{human}");
            let mut consult = dialer
                .dial(&target, DialOptions::default())
                .await
                .expect("human answers");
            agents_sip::bridge::bridge(&mut call, &mut consult)
                .await
                .unwrap();
        }
    }));
    let sim = CallSimulator::with_rtp_ports(34400..=34499).await.unwrap();
    let mut call = sim.call(addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(human_handle.stats().active_calls, 1, "consult leg up");
    call.play(&tone(300, 8000.0)).await.unwrap();
    // Caller → agent → human (echo) → agent → caller.
    assert!(
        call.wait_for_agent_turn(Duration::from_millis(100), Duration::from_secs(3))
            .await
    );
    let loud = call
        .recorded()
        .chunks(160)
        .filter(|c| level(c) > 2000)
        .count();
    assert!(
        loud >= 10,
        "heard own voice through the bridge: {loud} loud frames"
    );
    call.hangup().await;
    assert_clean(&handle).await;
    assert_clean(&human_handle).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dialing_a_busy_or_absent_peer_fails_with_its_status() {
    let (busy, handle, _t) = start_server(|c| c.max_calls = 1, 34500..=34599).await;
    let sim = CallSimulator::with_rtp_ports(34600..=34699).await.unwrap();
    let first = sim.call(busy).await.unwrap();
    let err = sim.call(busy).await.err().unwrap();
    assert!(matches!(err, SipError::Rejected { status: 503 }), "{err}");
    first.hangup().await;
    // Nobody answers: a server ringing past the caller's ring timeout gets a CANCEL.
    let (slow, slow_handle, _t2) =
        start_server(|c| c.answer_delay = Duration::from_secs(5), 34700..=34799).await;
    let mut sim = sim;
    sim.set_ring_timeout(Duration::from_millis(500));
    let err = sim.call(slow).await.err().unwrap();
    assert!(matches!(err, SipError::Timeout(_)), "{err}");
    assert_clean(&handle).await;
    assert_clean(&slow_handle).await;
    let s = sim.stats();
    assert_eq!((s.active_calls, s.rtp_ports_in_use), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_still_hangs_up() {
    let (addr, handle, _task) = start_server_with(34800..=34899, |_call| async move {
        panic!("handler bug");
    })
    .await;
    let sim = CallSimulator::with_rtp_ports(34900..=34999).await.unwrap();
    let call = sim.call(addr).await.unwrap();
    assert!(
        call.wait_for_hangup(Duration::from_secs(3)).await,
        "BYE after the panic"
    );
    assert_clean(&handle).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulator_plays_wav_files() {
    let dir = std::env::temp_dir().join(format!("agents-sip-wav-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, rate: u32| {
        let path = dir.join(name);
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(&path, spec).unwrap();
        for s in tone(300, 8000.0) {
            w.write_sample(s).unwrap();
        }
        w.finalize().unwrap();
        path
    };
    let good = write("caller.wav", 8000);
    let wide = write("wide.wav", 16000);
    let broken = dir.join("broken.wav");
    std::fs::write(&broken, b"RIFF, but not really").unwrap();
    let (addr, handle, _task) = start_server(|_| {}, 35000..=35099).await;
    let sim = CallSimulator::with_rtp_ports(35100..=35199).await.unwrap();
    let mut call = sim.call(addr).await.unwrap();
    assert!(
        call.play_wav(&broken).await.is_err(),
        "a broken WAV is refused"
    );
    // A 16 kHz WAV is converted to the call's 8 kHz: half as many samples.
    let converted = agents_sip::testing::read_wav_8k(&wide).unwrap();
    assert_eq!(converted.len(), tone(300, 8000.0).len() / 2);
    call.play_wav(&good).await.unwrap();
    assert!(
        call.wait_for_agent_turn(Duration::from_millis(100), Duration::from_secs(3))
            .await
    );
    let loud = call
        .recorded()
        .chunks(160)
        .filter(|c| level(c) > 2000)
        .count();
    assert!(loud >= 10, "{loud}");
    call.hangup().await;
    assert_clean(&handle).await;
    let _ = std::fs::remove_dir_all(&dir);
}
