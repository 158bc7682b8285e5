//! RFC 4733 payload parsing and the de-duplicating receiver never panic; a parsed event
//! survives a round trip through its wire form, and every reported key maps back to an event.
#![no_main]

use agents_sip::rfc4733::{digit_to_event, EventReceiver, TelephoneEvent};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(ev) = TelephoneEvent::parse(data) {
        assert_eq!(TelephoneEvent::parse(&ev.to_bytes()), Ok(ev));
    }
    // Interpret the input as a stream of (ssrc, timestamp, payload) packets.
    let mut rx = EventReceiver::new();
    for chunk in data.chunks(12) {
        if chunk.len() < 8 {
            break;
        }
        let ssrc = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        let ts = u32::from_be_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]);
        if let Some(key) = rx.push(ssrc, ts, &chunk[8..]) {
            assert!(digit_to_event(key).is_ok());
        }
    }
});
