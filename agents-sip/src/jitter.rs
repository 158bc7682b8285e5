//! A small reorder window for received RTP (not a full adaptive jitter buffer).
//!
//! Packets are released in sequence order. A packet that arrives ahead of a gap waits until
//! the gap fills, the window holds more than [`REORDER_WINDOW`] packets, or the caller flushes
//! after a short silence on the socket; the packets still missing are then reported so the
//! receiver can fill them with silence. Late packets (behind what was released) and
//! duplicates are dropped. A new SSRC starts a new stream (what is held is released first).
//! A window rather than a timed playout buffer, because the consumer (VAD and STT) cares
//! about order and duration, not about smooth real-time playout.

/// Packets held at most while waiting for a missing one (80 ms of audio).
pub const REORDER_WINDOW: usize = 4;
/// Gaps longer than this are not filled with silence (a pause in sending, not loss).
pub const MAX_CONCEALED: u16 = 10;

/// An item released by the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Released<T> {
    /// The next packet in order.
    Packet(T),
    /// This many packets were lost before the next one.
    Lost(u16),
}

/// Reorders packets of one stream at a time.
#[derive(Debug)]
pub struct ReorderWindow<T> {
    ssrc: Option<u32>,
    /// Next expected sequence number once started.
    next: Option<u16>,
    /// Packets ahead of `next` (at most `REORDER_WINDOW + 1`).
    held: Vec<(u16, T)>,
}

impl<T> Default for ReorderWindow<T> {
    fn default() -> Self {
        Self {
            ssrc: None,
            next: None,
            held: Vec::new(),
        }
    }
}

impl<T> ReorderWindow<T> {
    /// An empty window.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether nothing is held (no packet waits for a missing one).
    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// Adds a packet; returns what can be released now, in order.
    pub fn push(&mut self, ssrc: u32, seq: u16, item: T) -> Vec<Released<T>> {
        let mut out = Vec::new();
        if self.ssrc != Some(ssrc) {
            self.release(&mut out, true);
            self.ssrc = Some(ssrc);
            self.next = Some(seq);
        }
        let next = self.next.unwrap_or(seq);
        let off = i32::from(seq.wrapping_sub(next) as i16);
        if !(0..=1000).contains(&off) {
            if off < 0 && off > -1000 {
                // Late or duplicate of something released.
                return out;
            }
            // A far jump either way: the sender restarted; resynchronise.
            self.release(&mut out, true);
            self.next = Some(seq);
        }
        if self.held.iter().any(|(s, _)| *s == seq) {
            return out;
        }
        self.held.push((seq, item));
        self.release(&mut out, false);
        out
    }

    /// Releases everything held (call after a short silence on the socket).
    pub fn flush(&mut self) -> Vec<Released<T>> {
        let mut out = Vec::new();
        self.release(&mut out, true);
        out
    }

    fn release(&mut self, out: &mut Vec<Released<T>>, force: bool) {
        while let Some(next) = self.next {
            let Some(idx) = (0..self.held.len()).min_by_key(|&i| self.held[i].0.wrapping_sub(next))
            else {
                return;
            };
            let gap = self.held[idx].0.wrapping_sub(next);
            if gap != 0 && !force && self.held.len() <= REORDER_WINDOW {
                return;
            }
            let (seq, item) = self.held.swap_remove(idx);
            if gap != 0 && gap <= MAX_CONCEALED {
                out.push(Released::Lost(gap));
            }
            out.push(Released::Packet(item));
            self.next = Some(seq.wrapping_add(1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seqs(rel: Vec<Released<u16>>) -> Vec<i32> {
        rel.into_iter()
            .map(|r| match r {
                Released::Packet(s) => i32::from(s),
                Released::Lost(n) => -i32::from(n),
            })
            .collect()
    }

    #[test]
    fn in_order_passes_straight_through() {
        let mut w = ReorderWindow::new();
        for s in 0..5u16 {
            assert_eq!(seqs(w.push(1, s, s)), vec![i32::from(s)]);
        }
    }

    #[test]
    fn swapped_packets_are_put_back_in_order() {
        let mut w = ReorderWindow::new();
        assert_eq!(seqs(w.push(1, 10, 10)), vec![10]);
        assert!(w.push(1, 12, 12).is_empty());
        assert_eq!(seqs(w.push(1, 11, 11)), vec![11, 12]);
        // Late duplicate dropped.
        assert!(w.push(1, 11, 11).is_empty());
    }

    #[test]
    fn loss_is_reported_when_the_window_overflows_or_flushes() {
        let mut w = ReorderWindow::new();
        w.push(1, 0, 0);
        for s in 2..6u16 {
            assert!(w.push(1, s, s).is_empty(), "held while waiting for 1");
        }
        assert_eq!(seqs(w.push(1, 6, 6)), vec![-1, 2, 3, 4, 5, 6]);
        assert!(w.push(1, 8, 8).is_empty());
        assert_eq!(seqs(w.flush()), vec![-1, 8]);
    }

    #[test]
    fn wraps_around_and_follows_ssrc_changes() {
        let mut w = ReorderWindow::new();
        assert_eq!(seqs(w.push(1, 65534, 65534)), vec![65534]);
        assert!(w.push(1, 0, 0).is_empty());
        assert_eq!(seqs(w.push(1, 65535, 65535)), vec![65535, 0]);
        // New SSRC with unrelated numbering: released at once.
        assert_eq!(seqs(w.push(2, 9000, 9000)), vec![9000]);
        assert_eq!(seqs(w.push(2, 9001, 9001)), vec![9001]);
        // A big gap (sender paused) is not concealed.
        assert!(w.push(2, 9100, 9100).is_empty());
        assert_eq!(seqs(w.flush()), vec![9100]);
    }
}
