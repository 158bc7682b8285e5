//! Tests of SDP parsing and offer/answer.
use super::*;

const SIPP_OFFER: &str = "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-11,16\r\n";

fn local() -> LocalMedia {
    LocalMedia {
        ip: "10.0.0.5".parse().unwrap(),
        port: 20000,
        session_id: 42,
        version: 1,
    }
}

#[test]
fn answers_sipp_offer_with_pcma_and_events() {
    let offer = SessionDescription::parse(SIPP_OFFER.as_bytes()).unwrap();
    let (neg, body) = offer.answer(&local()).unwrap();
    assert_eq!(neg.codec, Codec::Pcma);
    assert_eq!(neg.payload_type, 8);
    assert_eq!(neg.telephone_event, Some(101));
    assert_eq!(neg.remote, "127.0.0.1:6000".parse().unwrap());
    assert!(body.contains("c=IN IP4 10.0.0.5\r\n"));
    assert!(body.contains("m=audio 20000 RTP/AVP 8 101\r\n"));
    assert!(body.contains("a=rtpmap:101 telephone-event/8000"));
    assert!(body.contains("a=ptime:20"));
    assert!(body.contains("a=sendrecv"));
    // The answer parses back and yields the same choice.
    let back = SessionDescription::parse(body.as_bytes()).unwrap();
    let n2 = back.negotiated_from_answer().unwrap();
    assert_eq!((n2.codec, n2.telephone_event), (Codec::Pcma, Some(101)));
}

#[test]
fn prefers_offer_order_and_static_types_without_rtpmap() {
    let sdp = "v=0\nc=IN IP4 1.2.3.4\nm=audio 4000 RTP/AVP 18 0 8\n";
    let (neg, body) = SessionDescription::parse(sdp.as_bytes())
        .unwrap()
        .answer(&local())
        .unwrap();
    assert_eq!(neg.codec, Codec::Pcmu);
    assert_eq!(neg.telephone_event, None);
    assert!(!body.contains("telephone-event"));
}

#[test]
fn echoes_dynamic_event_payload_type() {
    let sdp = "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 0 96\r\na=rtpmap:96 telephone-event/8000\r\n";
    let (neg, body) = SessionDescription::parse(sdp.as_bytes())
        .unwrap()
        .answer(&local())
        .unwrap();
    assert_eq!(neg.telephone_event, Some(96));
    assert!(body.contains("m=audio 20000 RTP/AVP 0 96"));
}

#[test]
fn hold_directions_are_mirrored() {
    for (offer_dir, want) in [
        ("sendonly", Direction::RecvOnly),
        ("inactive", Direction::Inactive),
        ("recvonly", Direction::SendOnly),
        ("sendrecv", Direction::SendRecv),
    ] {
        let sdp = format!("v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 0\r\na={offer_dir}\r\n");
        let (neg, body) = SessionDescription::parse(sdp.as_bytes())
            .unwrap()
            .answer(&local())
            .unwrap();
        assert_eq!(neg.local_direction, want);
        assert!(body.contains(&format!("a={}\r\n", want.as_str())));
    }
    let sdp = "v=0\r\nc=IN IP4 0.0.0.0\r\nm=audio 4000 RTP/AVP 0\r\n";
    let (neg, _) = SessionDescription::parse(sdp.as_bytes())
        .unwrap()
        .answer(&local())
        .unwrap();
    assert!(!neg.we_send());
}

#[test]
fn unsupported_codecs_map_to_488() {
    let sdp = "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 9 18\r\na=rtpmap:9 G722/8000\r\n";
    let err = SessionDescription::parse(sdp.as_bytes())
        .unwrap()
        .answer(&local())
        .unwrap_err();
    assert_eq!(err, SdpError::NoCommonCodec);
    assert_eq!(err.sip_status(), 488);
    // PCMU at a wrong clock rate is not PCMU.
    let sdp = "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 96\r\na=rtpmap:96 PCMU/16000\r\n";
    let err = SessionDescription::parse(sdp.as_bytes())
        .unwrap()
        .answer(&local());
    assert_eq!(err.unwrap_err().sip_status(), 488);
    // Secure RTP only, or video only: no audio we can use.
    let sdp = "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/SAVP 0\r\nm=video 5000 RTP/AVP 96\r\n";
    let err = SessionDescription::parse(sdp.as_bytes())
        .unwrap()
        .answer(&local());
    assert_eq!(err.unwrap_err(), SdpError::NoAudio);
}

#[test]
fn extra_streams_are_refused_with_port_zero() {
    let sdp = "v=0\r\nc=IN IP4 1.2.3.4\r\nm=video 5000 RTP/AVP 96\r\nm=audio 4000 RTP/AVP 0\r\n";
    let (_, body) = SessionDescription::parse(sdp.as_bytes())
        .unwrap()
        .answer(&local())
        .unwrap();
    let video = body.find("m=video 0 RTP/AVP 96").unwrap();
    let audio = body.find("m=audio 20000").unwrap();
    assert!(video < audio, "m-line order kept");
}

#[test]
fn media_level_connection_overrides_session() {
    let sdp = "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 0\r\nc=IN IP4 5.6.7.8\r\n";
    let (neg, _) = SessionDescription::parse(sdp.as_bytes())
        .unwrap()
        .answer(&local())
        .unwrap();
    assert_eq!(neg.remote, "5.6.7.8:4000".parse().unwrap());
    let sdp = "v=0\r\nm=audio 4000 RTP/AVP 0\r\n";
    let err = SessionDescription::parse(sdp.as_bytes())
        .unwrap()
        .answer(&local());
    assert_eq!(err.unwrap_err(), SdpError::NoConnection);
}

#[test]
fn malformed_input_is_an_error() {
    let bad: &[&[u8]] = &[
        b"",
        b"hello",
        b"o=- 1 1 IN IP4 1.1.1.1\r\nv=0\r\n",
        b"v=1\r\n",
        b"v=0\r\nc=IN IP4 999.1.1.1\r\n",
        b"v=0\r\nc=IN IP6 1.2.3.4\r\n",
        b"v=0\r\nm=audio\r\n",
        b"v=0\r\nm=audio 70000 RTP/AVP 0\r\n",
        b"v=0\r\nm=audio 4000 RTP/AVP\r\n",
        b"v=0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:300 PCMU/8000\r\n",
        b"v=0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/x\r\n",
        b"v=0\r\nm=audio 4000 RTP/AVP 0\r\na=ptime:abc\r\n",
        b"v=0\r\n\xff\xfe\r\n",
        b"v=0\r\nX=1\r\n",
    ];
    for b in bad {
        let err = SessionDescription::parse(b).unwrap_err();
        assert_eq!(err.sip_status(), 400, "{:?}", String::from_utf8_lossy(b));
    }
    let huge = vec![b'a'; MAX_SDP_LEN + 1];
    assert_eq!(SessionDescription::parse(&huge), Err(SdpError::TooLarge));
}

#[test]
fn offer_round_trips() {
    let offer = build_offer(&local(), Direction::SendOnly);
    let parsed = SessionDescription::parse(offer.as_bytes()).unwrap();
    let (neg, answer) = parsed.answer(&local()).unwrap();
    assert_eq!(neg.codec, Codec::Pcmu);
    assert_eq!(neg.telephone_event, Some(OFFER_TELEPHONE_EVENT_PT));
    assert_eq!(neg.local_direction, Direction::RecvOnly);
    assert!(answer.contains("a=recvonly"));
}

#[test]
fn mutated_offers_never_panic() {
    // A light in-tree version of the fuzz target: random edits of a valid offer.
    let seed = SIPP_OFFER.as_bytes();
    let mut rng = fastrand::Rng::with_seed(7);
    for _ in 0..20_000 {
        let mut b = seed.to_vec();
        for _ in 0..rng.usize(1..8) {
            let i = rng.usize(..b.len());
            match rng.u8(..3) {
                0 => b[i] = rng.u8(..),
                1 => {
                    b.remove(i);
                }
                _ => b.insert(i, *rng.choice(b" =:/\r\n0123456789".iter()).unwrap()),
            }
            if b.is_empty() {
                break;
            }
        }
        if let Ok(sdp) = SessionDescription::parse(&b) {
            if let Ok((neg, answer)) = sdp.answer(&local()) {
                let back = SessionDescription::parse(answer.as_bytes()).unwrap();
                assert_eq!(back.negotiated_from_answer().unwrap().codec, neg.codec);
            }
        }
    }
}
