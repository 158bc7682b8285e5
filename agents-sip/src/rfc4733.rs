//! RFC 4733 telephone events (keypad digits carried in RTP): the 4-byte payload, the digit
//! mapping, a receiver that reports each key once, and the packet sequence a sender emits.
//!
//! A sender repeats a digit's packets (updates while the key is held, then three copies of the
//! end packet), all with the same RTP timestamp; the receiver reports a key at its first end
//! packet and ignores the repeats by remembering (SSRC, timestamp).

use std::collections::VecDeque;

/// Why an event payload was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// Fewer than 4 bytes.
    #[error("telephone-event payload too short ({0} bytes)")]
    TooShort(usize),
    /// Event code outside 0-15 (we only handle DTMF keys).
    #[error("event code {0} is not a DTMF key")]
    NotDtmf(u8),
    /// A character that is not one of 0-9, *, #, A-D.
    #[error("{0:?} is not a DTMF key")]
    BadDigit(char),
}

/// One telephone-event payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// Event code (0-9 digits, 10 `*`, 11 `#`, 12-15 `A`-`D`).
    pub event: u8,
    /// End bit: the key was released.
    pub end: bool,
    /// Volume in -dBm0 (0-63).
    pub volume: u8,
    /// Duration so far, in timestamp units (samples at 8 kHz).
    pub duration: u16,
}

impl TelephoneEvent {
    /// Parses the first 4 bytes of an RTP payload (extra bytes, e.g. redundancy, are ignored).
    pub fn parse(payload: &[u8]) -> Result<Self, EventError> {
        if payload.len() < 4 {
            return Err(EventError::TooShort(payload.len()));
        }
        Ok(TelephoneEvent {
            event: payload[0],
            end: payload[1] & 0x80 != 0,
            volume: payload[1] & 0x3f,
            duration: u16::from_be_bytes([payload[2], payload[3]]),
        })
    }

    /// The 4-byte wire form.
    pub fn to_bytes(self) -> [u8; 4] {
        let d = self.duration.to_be_bytes();
        [
            self.event,
            (u8::from(self.end) << 7) | (self.volume & 0x3f),
            d[0],
            d[1],
        ]
    }

    /// The key this event stands for.
    pub fn digit(self) -> Result<char, EventError> {
        event_to_digit(self.event)
    }
}

/// Maps an event code to its key character.
pub fn event_to_digit(event: u8) -> Result<char, EventError> {
    const KEYS: &[u8; 16] = b"0123456789*#ABCD";
    KEYS.get(usize::from(event))
        .map(|&b| b as char)
        .ok_or(EventError::NotDtmf(event))
}

/// Maps a key character (case-insensitive letters) to its event code.
pub fn digit_to_event(digit: char) -> Result<u8, EventError> {
    match digit {
        '0'..='9' => Ok(digit as u8 - b'0'),
        '*' => Ok(10),
        '#' => Ok(11),
        'A'..='D' => Ok(digit as u8 - b'A' + 12),
        'a'..='d' => Ok(digit as u8 - b'a' + 12),
        other => Err(EventError::BadDigit(other)),
    }
}

/// How many recent (SSRC, timestamp) pairs the receiver remembers.
const REMEMBERED: usize = 32;

/// Turns a stream of event packets into key presses, each reported once.
#[derive(Debug, Default)]
pub struct EventReceiver {
    seen: VecDeque<(u32, u32)>,
}

impl EventReceiver {
    /// A receiver that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one packet's payload; returns the key when this is the first end packet of an
    /// event (update packets and repeated end packets return `None`).
    pub fn push(&mut self, ssrc: u32, timestamp: u32, payload: &[u8]) -> Option<char> {
        let ev = TelephoneEvent::parse(payload).ok()?;
        if !ev.end {
            return None;
        }
        let digit = ev.digit().ok()?;
        if self.seen.contains(&(ssrc, timestamp)) {
            return None;
        }
        if self.seen.len() == REMEMBERED {
            self.seen.pop_front();
        }
        self.seen.push_back((ssrc, timestamp));
        Some(digit)
    }
}

/// One packet of an outgoing digit: payload plus RTP marker bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventPacket {
    /// The 4-byte payload.
    pub payload: [u8; 4],
    /// Set on the first packet of the event.
    pub marker: bool,
}

/// The packets for one key press of `duration_ms` (sent every 20 ms, all with the event's
/// start timestamp): updates with a growing duration, then the end packet three times.
pub fn digit_packets(digit: char, duration_ms: u32) -> Result<Vec<EventPacket>, EventError> {
    let event = digit_to_event(digit)?;
    let steps = (duration_ms / 20).clamp(2, 100);
    let mut out = Vec::with_capacity(steps as usize + 2);
    for i in 1..=steps {
        let end = i == steps;
        let ev = TelephoneEvent {
            event,
            end,
            volume: 10,
            duration: (i * 160).min(u32::from(u16::MAX)) as u16,
        };
        let copies = if end { 3 } else { 1 };
        for _ in 0..copies {
            out.push(EventPacket {
                payload: ev.to_bytes(),
                marker: i == 1,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_all_keys() {
        for (code, key) in "0123456789*#ABCD".chars().enumerate() {
            assert_eq!(digit_to_event(key), Ok(code as u8));
            assert_eq!(event_to_digit(code as u8), Ok(key));
        }
        assert_eq!(digit_to_event('b'), Ok(13));
        assert_eq!(digit_to_event('x'), Err(EventError::BadDigit('x')));
        assert_eq!(event_to_digit(16), Err(EventError::NotDtmf(16)));
    }

    #[test]
    fn parses_wire_format() {
        // RFC 4733 §2.3: event 5, E=1, volume 10, duration 800.
        let ev = TelephoneEvent::parse(&[5, 0x8a, 0x03, 0x20]).unwrap();
        assert_eq!(
            ev,
            TelephoneEvent {
                event: 5,
                end: true,
                volume: 10,
                duration: 800
            }
        );
        assert_eq!(ev.to_bytes(), [5, 0x8a, 0x03, 0x20]);
        // The reserved bit is ignored.
        assert!(!TelephoneEvent::parse(&[1, 0x4a, 0, 0]).unwrap().end);
        assert_eq!(
            TelephoneEvent::parse(&[1, 2, 3]),
            Err(EventError::TooShort(3))
        );
    }

    #[test]
    fn receiver_reports_each_key_once() {
        let mut rx = EventReceiver::new();
        let mut keys = String::new();
        for (ts, key) in [(1000u32, '1'), (2000, '#'), (3000, '1')] {
            for p in digit_packets(key, 100).unwrap() {
                keys.extend(rx.push(7, ts, &p.payload));
            }
        }
        assert_eq!(keys, "1#1");
        // Same timestamp but another SSRC is another event.
        let end = TelephoneEvent {
            event: 2,
            end: true,
            volume: 0,
            duration: 800,
        }
        .to_bytes();
        assert_eq!(rx.push(8, 3000, &end), Some('2'));
        assert_eq!(rx.push(8, 3000, &end), None);
        // Non-DTMF events and short payloads are ignored.
        let flash = TelephoneEvent {
            event: 16,
            end: true,
            volume: 0,
            duration: 1,
        }
        .to_bytes();
        assert_eq!(rx.push(8, 4000, &flash), None);
        assert_eq!(rx.push(8, 5000, &[1]), None);
    }

    #[test]
    fn sender_sequence_shape() {
        let p = digit_packets('9', 100).unwrap();
        assert_eq!(p.len(), 4 + 3);
        assert!(p[0].marker && !p[1].marker);
        let last = TelephoneEvent::parse(&p[6].payload).unwrap();
        assert!(last.end);
        assert_eq!(last.duration, 800);
        assert_eq!(p[4], p[5]);
        assert!(digit_packets('z', 100).is_err());
    }
}
