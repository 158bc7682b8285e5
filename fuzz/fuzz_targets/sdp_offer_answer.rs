//! SDP parsing and offer/answer never panic; an answer we build always parses back to the
//! same negotiated codec and telephone-event payload type.
#![no_main]

use agents_sip::sdp::{LocalMedia, SessionDescription};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(offer) = SessionDescription::parse(data) else {
        return;
    };
    let _ = offer.negotiated_from_answer();
    let local = LocalMedia {
        ip: "192.0.2.1".parse().unwrap(),
        port: 20000,
        session_id: 1,
        version: 1,
    };
    if let Ok((neg, answer)) = offer.answer(&local) {
        let back = SessionDescription::parse(answer.as_bytes()).expect("our answer parses");
        let again = back.negotiated_from_answer().expect("our answer is usable");
        assert_eq!(again.codec, neg.codec);
        assert_eq!(again.telephone_event, neg.telephone_event);
        assert_eq!(again.remote.port(), 20000);
    }
});
