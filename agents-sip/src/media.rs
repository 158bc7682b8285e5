//! One call's RTP media: a UDP socket from the port pool, a receive task (source check,
//! reorder window, G.711 decode, RFC 4733 or in-band DTMF) and a sender (20 ms paced G.711
//! from the playout queue, RFC 4733 digits) driven by the process's pacing threads.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use rtp_types::{RtpPacket, RtpPacketBuilder};
use socket2::SockRef;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::audio::{mono_8k, InputEvent};
use crate::codec::{self, SAMPLES_PER_PACKET};
use crate::error::SipError;
use crate::jitter::{Released, ReorderWindow};
use crate::pacer::{self, Paced};
use crate::playout::{CallOutput, Playout};
use crate::ports::PortLease;
use crate::rfc4733::{self, EventPacket, EventReceiver};
use crate::sdp::Negotiated;

/// Largest datagram accepted; bigger ones are dropped unread (G.711 at 20 ms is 172 bytes).
pub const MAX_RTP_PACKET: usize = 1500;
/// Silence on the socket after which held packets are released.
const IDLE_FLUSH: Duration = Duration::from_millis(60);
/// Packet interval.
pub const PTIME: Duration = Duration::from_millis(20);

/// Finds keypad tones in decoded audio (used when telephone-event was not negotiated).
pub type InbandDetector = Box<dyn FnMut(&[i16]) -> Vec<char> + Send>;

/// Counters of one call's media.
#[derive(Debug, Default)]
pub struct MediaStats {
    /// RTP packets sent.
    pub sent: AtomicU64,
    /// RTP packets accepted from the peer.
    pub received: AtomicU64,
    /// Datagrams dropped because they came from an address other than the negotiated one.
    pub wrong_source: AtomicU64,
    /// Datagrams dropped for exceeding [`MAX_RTP_PACKET`].
    pub oversized: AtomicU64,
    /// Datagrams that were not RTP.
    pub malformed: AtomicU64,
    /// Packets concealed as lost.
    pub lost: AtomicU64,
    /// Input events dropped because the consumer did not keep up.
    pub input_dropped: AtomicU64,
    /// Send ticks later than scheduled by more than 2 ms.
    pub late_ticks: AtomicU64,
    /// Packets the socket refused to send (dropped).
    pub send_failed: AtomicU64,
}

/// Options for a call's media.
#[derive(Default)]
pub struct MediaOptions {
    /// In-band DTMF detector, used only when telephone-event is not negotiated.
    pub inband: Option<InbandDetector>,
    /// Keep every send tick's lateness (microseconds) for benchmarks.
    pub record_send_timing: bool,
}

/// The socket and its port lease: owned by the receive task only (the paced sender holds
/// it weakly), so both are released as soon as the task ends, however long handles to the
/// session live.
#[derive(Debug)]
struct Io {
    socket: UdpSocket,
    _lease: Option<PortLease>,
}

/// State shared by the session handle and its tasks.
#[derive(Debug)]
struct Shared {
    /// Where to send: the SDP address until the first valid packet latches the real source.
    dest: Mutex<SocketAddr>,
    stats: MediaStats,
    send_timing: Mutex<Vec<u32>>,
    /// Set when the session stops: the pacer drops the sender at its next tick (a plain
    /// flag, read 50 times a second per call, where the token would take a lock).
    stopped: AtomicBool,
}

/// A running RTP session; stop it with [`MediaSession::stop`] (dropping it also stops it).
pub struct MediaSession {
    shared: Arc<Shared>,
    cancel: CancellationToken,
    negotiated: watch::Sender<Negotiated>,
    dtmf: mpsc::Sender<char>,
    playout: Arc<Playout>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    local: SocketAddr,
}

impl MediaSession {
    /// Starts media on `socket` towards the negotiated peer; decoded audio and digits go to
    /// `events`. The lease (if any) is released when the receive task ended and the socket
    /// closed.
    pub fn start(
        socket: UdpSocket,
        lease: Option<PortLease>,
        negotiated: Negotiated,
        events: mpsc::Sender<InputEvent>,
        opts: MediaOptions,
    ) -> Result<Self, SipError> {
        let local = socket.local_addr()?;
        let io = Arc::new(Io {
            socket,
            _lease: lease,
        });
        let shared = Arc::new(Shared {
            dest: Mutex::new(negotiated.remote),
            stats: MediaStats::default(),
            send_timing: Mutex::new(Vec::new()),
            stopped: AtomicBool::new(false),
        });
        let cancel = CancellationToken::new();
        let (neg_tx, neg_rx) = watch::channel(negotiated);
        let (dtmf_tx, dtmf_rx) = mpsc::channel(64);
        let playout = Arc::new(Playout::default());
        let recv = tokio::spawn(recv_loop(
            io.clone(),
            shared.clone(),
            cancel.clone(),
            neg_rx.clone(),
            events,
            opts.inband,
        ));
        pacer::register(Box::new(Sender::new(
            &io,
            shared.clone(),
            neg_rx.clone(),
            dtmf_rx,
            playout.clone(),
            opts.record_send_timing,
        )));
        Ok(MediaSession {
            shared,
            cancel,
            negotiated: neg_tx,
            dtmf: dtmf_tx,
            playout,
            tasks: Mutex::new(vec![recv]),
            local,
        })
    }

    /// Our RTP address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Applies a new offer/answer (re-INVITE: hold, resume, new address).
    pub fn update(&self, negotiated: Negotiated) {
        let old = *self.negotiated.borrow();
        if old.remote != negotiated.remote {
            *self.shared.dest.lock().unwrap_or_else(|p| p.into_inner()) = negotiated.remote;
        }
        self.negotiated.send_replace(negotiated);
    }

    /// What is negotiated now.
    pub fn negotiated(&self) -> Negotiated {
        *self.negotiated.borrow()
    }

    /// The agent's audio output for this call.
    pub fn output(&self) -> CallOutput {
        CallOutput {
            playout: self.playout.clone(),
        }
    }

    /// Queues keypad digits to send as RFC 4733 events (100 ms each, 20 ms apart... as the
    /// sender paces them). Fails for a digit outside 0-9 * # A-D or when the peer did not
    /// negotiate telephone-event.
    pub fn send_dtmf(&self, digits: &str) -> Result<(), SipError> {
        if self.negotiated.borrow().telephone_event.is_none() {
            return Err(SipError::Config(
                "the peer did not negotiate telephone-event".into(),
            ));
        }
        for d in digits.chars() {
            rfc4733::digit_to_event(d).map_err(|_| SipError::BadDigit(d))?;
        }
        for d in digits.chars() {
            self.dtmf
                .try_send(d)
                .map_err(|_| SipError::Config("too many digits queued".into()))?;
        }
        Ok(())
    }

    /// The call's media counters.
    pub fn stats(&self) -> &MediaStats {
        &self.shared.stats
    }

    /// Lateness of each send tick in microseconds (only with `record_send_timing`).
    pub fn send_timing(&self) -> Vec<u32> {
        self.shared
            .send_timing
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Returns the recorded send lateness and starts a new recording.
    pub fn take_send_timing(&self) -> Vec<u32> {
        std::mem::take(
            &mut *self
                .shared
                .send_timing
                .lock()
                .unwrap_or_else(|p| p.into_inner()),
        )
    }

    /// Stops the receive task and the sender and waits for the task; the socket closes and
    /// the port returns.
    pub async fn stop(&self) {
        self.cancel.cancel();
        self.shared.stopped.store(true, Ordering::Relaxed);
        self.playout.close();
        let tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(|p| p.into_inner()));
        for t in tasks {
            let _ = t.await;
        }
    }
}

impl Drop for MediaSession {
    fn drop(&mut self) {
        self.cancel.cancel();
        self.shared.stopped.store(true, Ordering::Relaxed);
        self.playout.close();
    }
}

fn emit(events: &mpsc::Sender<InputEvent>, stats: &MediaStats, ev: InputEvent) {
    if events.try_send(ev).is_err() && !events.is_closed() {
        stats.input_dropped.fetch_add(1, Ordering::Relaxed);
    }
}

struct Receiver {
    shared: Arc<Shared>,
    events: mpsc::Sender<InputEvent>,
    inband: Option<InbandDetector>,
    window: ReorderWindow<Vec<i16>>,
    dtmf: EventReceiver,
}

impl Receiver {
    fn deliver(&mut self, released: Vec<Released<Vec<i16>>>, neg: &Negotiated) {
        for r in released {
            let samples = match r {
                Released::Packet(pcm) => pcm,
                Released::Lost(n) => {
                    self.shared
                        .stats
                        .lost
                        .fetch_add(u64::from(n), Ordering::Relaxed);
                    vec![0; usize::from(n) * SAMPLES_PER_PACKET]
                }
            };
            if neg.telephone_event.is_none() {
                if let Some(det) = self.inband.as_mut() {
                    for d in det(&samples) {
                        emit(&self.events, &self.shared.stats, InputEvent::Dtmf(d));
                    }
                }
            }
            emit(
                &self.events,
                &self.shared.stats,
                InputEvent::Audio(mono_8k(samples)),
            );
        }
    }

    fn packet(&mut self, data: &[u8], neg: &Negotiated) {
        let stats = &self.shared.stats;
        let Ok(pkt) = RtpPacket::parse(data) else {
            stats.malformed.fetch_add(1, Ordering::Relaxed);
            return;
        };
        if pkt.version() != 2 {
            stats.malformed.fetch_add(1, Ordering::Relaxed);
            return;
        }
        stats.received.fetch_add(1, Ordering::Relaxed);
        let pt = pkt.payload_type();
        if pt == neg.payload_type {
            // Decoded on arrival: the frame handed on is this buffer, no second copy.
            let mut pcm = Vec::with_capacity(pkt.payload_len());
            codec::decode(neg.codec, pkt.payload(), &mut pcm);
            let rel = self.window.push(pkt.ssrc(), pkt.sequence_number(), pcm);
            self.deliver(rel, neg);
        } else if Some(pt) == neg.telephone_event {
            if let Some(d) = self.dtmf.push(pkt.ssrc(), pkt.timestamp(), pkt.payload()) {
                emit(&self.events, stats, InputEvent::Dtmf(d));
            }
        }
    }
}

async fn recv_loop(
    io: Arc<Io>,
    shared: Arc<Shared>,
    cancel: CancellationToken,
    mut neg_rx: watch::Receiver<Negotiated>,
    events: mpsc::Sender<InputEvent>,
    inband: Option<InbandDetector>,
) {
    let mut rx = Receiver {
        shared: shared.clone(),
        events,
        inband,
        window: ReorderWindow::new(),
        dtmf: EventReceiver::new(),
    };
    let mut buf = vec![0u8; MAX_RTP_PACKET + 1];
    // The peer address we accept packets from, once latched, and the SDP address it was
    // latched against (a re-INVITE to a new address unlatches).
    let mut latched: Option<(SocketAddr, SocketAddr)> = None;
    let cancelled = cancel.cancelled();
    tokio::pin!(cancelled);
    loop {
        let neg = *neg_rx.borrow_and_update();
        // The idle timer runs only while the window holds packets: in-order audio (the
        // usual case) costs no timer at all.
        let got = if rx.window.is_empty() {
            tokio::select! {
                _ = &mut cancelled => return,
                r = io.socket.recv_from(&mut buf) => Ok(r),
            }
        } else {
            tokio::select! {
                _ = &mut cancelled => return,
                r = tokio::time::timeout(IDLE_FLUSH, io.socket.recv_from(&mut buf)) => r,
            }
        };
        let (len, src) = match got {
            Err(_) => {
                let rel = rx.window.flush();
                rx.deliver(rel, &neg);
                continue;
            }
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "rtp receive error");
                continue;
            }
            Ok(Ok(v)) => v,
        };
        if len > MAX_RTP_PACKET {
            shared.stats.oversized.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        match latched {
            Some((addr, sdp)) if sdp == neg.remote => {
                if src != addr {
                    shared.stats.wrong_source.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
            }
            _ => {
                // Symmetric RTP: latch the first packet from the SDP's IP only.
                if src.ip() != neg.remote.ip() {
                    shared.stats.wrong_source.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                latched = Some((src, neg.remote));
                *shared.dest.lock().unwrap_or_else(|p| p.into_inner()) = src;
            }
        }
        rx.packet(&buf[..len], &neg);
    }
}

/// A call's RTP sender, driven every 20 ms by one of the process's pacing threads
/// ([`crate::pacer`]): the next 20 ms of playout (or silence) as G.711, or an RFC 4733
/// event packet.
struct Sender {
    /// Weak so that the socket and its port go as soon as the receive task ends.
    io: Weak<Io>,
    shared: Arc<Shared>,
    neg_rx: watch::Receiver<Negotiated>,
    dtmf_rx: mpsc::Receiver<char>,
    playout: Arc<Playout>,
    record: bool,
    ssrc: u32,
    seq: u16,
    ts: u32,
    marker: bool,
    pcm: [i16; SAMPLES_PER_PACKET],
    payload: Vec<u8>,
    packet: Vec<u8>,
    event: VecDeque<EventPacket>,
    event_ts: u32,
}

impl Sender {
    fn new(
        io: &Arc<Io>,
        shared: Arc<Shared>,
        neg_rx: watch::Receiver<Negotiated>,
        dtmf_rx: mpsc::Receiver<char>,
        playout: Arc<Playout>,
        record: bool,
    ) -> Self {
        Sender {
            io: Arc::downgrade(io),
            shared,
            neg_rx,
            dtmf_rx,
            playout,
            record,
            ssrc: fastrand::u32(..),
            seq: fastrand::u16(..),
            ts: fastrand::u32(..),
            marker: true,
            pcm: [0; SAMPLES_PER_PACKET],
            payload: Vec::with_capacity(SAMPLES_PER_PACKET),
            packet: Vec::with_capacity(SAMPLES_PER_PACKET + 12),
            event: VecDeque::new(),
            event_ts: 0,
        }
    }

    fn record_lateness(&self, due: Instant) {
        let late = Instant::now().saturating_duration_since(due);
        if late > Duration::from_millis(2) {
            self.shared.stats.late_ticks.fetch_add(1, Ordering::Relaxed);
        }
        if self.record {
            let us = late.as_micros().min(u128::from(u32::MAX)) as u32;
            self.shared
                .send_timing
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(us);
        }
    }

    /// Builds the next packet into `self.packet`; false when nothing is to be sent.
    fn build(&mut self) -> bool {
        let neg = *self.neg_rx.borrow();
        if self.event.is_empty() {
            if let (Ok(d), Some(_)) = (self.dtmf_rx.try_recv(), neg.telephone_event) {
                if let Ok(p) = rfc4733::digit_packets(d, 100) {
                    self.event.extend(p);
                    self.event_ts = self.ts;
                }
            }
        }
        self.payload.clear();
        let (pt, stamp, mark) =
            if let (Some(p), Some(te)) = (self.event.pop_front(), neg.telephone_event) {
                self.payload.extend_from_slice(&p.payload);
                (te, self.event_ts, p.marker)
            } else {
                if !self.playout.take_packet(&mut self.pcm) {
                    self.pcm.fill(0);
                }
                codec::encode(neg.codec, &self.pcm, &mut self.payload);
                let m = self.marker;
                self.marker = false;
                (neg.payload_type, self.ts, m)
            };
        self.ts = self.ts.wrapping_add(SAMPLES_PER_PACKET as u32);
        if !neg.we_send() {
            return false;
        }
        self.packet.clear();
        let builder = RtpPacketBuilder::<&[u8], &[u8]>::new()
            .payload_type(pt)
            .sequence_number(self.seq)
            .timestamp(stamp)
            .ssrc(self.ssrc)
            .marker_bit(mark)
            .payload(self.payload.as_slice());
        if builder.write_into_vec(&mut self.packet).is_err() {
            return false;
        }
        self.seq = self.seq.wrapping_add(1);
        true
    }
}

impl Paced for Sender {
    fn tick(&mut self, due: Instant) -> bool {
        if self.shared.stopped.load(Ordering::Relaxed) {
            return false;
        }
        let Some(io) = self.io.upgrade() else {
            return false;
        };
        self.record_lateness(due);
        if !self.build() {
            return true;
        }
        let dest = *self.shared.dest.lock().unwrap_or_else(|p| p.into_inner());
        // A direct non-blocking send: this thread is outside the runtime.
        match SockRef::from(&io.socket).send_to(&self.packet, &dest.into()) {
            Ok(_) => {
                self.shared.stats.sent.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                self.shared
                    .stats
                    .send_failed
                    .fetch_add(1, Ordering::Relaxed);
                tracing::debug!(error = %e, %dest, "rtp send failed");
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::AudioOutput;
    use crate::sdp::{Codec, Direction};

    fn neg(remote: SocketAddr) -> Negotiated {
        Negotiated {
            codec: Codec::Pcmu,
            payload_type: 0,
            telephone_event: Some(101),
            remote,
            local_direction: Direction::SendRecv,
        }
    }

    fn rtp(pt: u8, seq: u16, ts: u32, ssrc: u32, payload: &[u8]) -> Vec<u8> {
        RtpPacketBuilder::<&[u8], &[u8]>::new()
            .payload_type(pt)
            .sequence_number(seq)
            .timestamp(ts)
            .ssrc(ssrc)
            .payload(payload)
            .write_vec()
            .unwrap()
    }

    async fn next_event(rx: &mut mpsc::Receiver<InputEvent>) -> InputEvent {
        tokio::time::timeout(Duration::from_secs(2), rx.recv())
            .await
            .expect("event in time")
            .expect("channel open")
    }

    #[tokio::test]
    async fn receives_audio_and_digits_and_ignores_strangers() {
        let peer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let stranger = UdpSocket::bind("127.0.0.2:0").await.unwrap();
        let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let (tx, mut rx) = mpsc::channel(64);
        let media = MediaSession::start(
            sock,
            None,
            neg(peer.local_addr().unwrap()),
            tx,
            MediaOptions::default(),
        )
        .unwrap();
        let to = media.local_addr();
        // A stranger's packet first: must not be latched or delivered.
        stranger
            .send_to(&rtp(0, 1, 0, 9, &[0x7f; 160]), to)
            .await
            .unwrap();
        peer.send_to(&rtp(0, 10, 0, 5, &[0xff; 160]), to)
            .await
            .unwrap();
        match next_event(&mut rx).await {
            InputEvent::Audio(f) => assert_eq!(f.samples.len(), 160),
            other => panic!("{other:?}"),
        }
        // Oversized datagram dropped.
        peer.send_to(&vec![0x80; 2000], to).await.unwrap();
        // A digit: updates then 3 end packets → one event.
        for p in rfc4733::digit_packets('7', 60).unwrap() {
            peer.send_to(&rtp(101, 11, 160, 5, &p.payload), to)
                .await
                .unwrap();
        }
        assert_eq!(next_event(&mut rx).await, InputEvent::Dtmf('7'));
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(rx.try_recv().is_err(), "end packets de-duplicated");
        assert_eq!(media.stats().wrong_source.load(Ordering::Relaxed), 1);
        assert_eq!(media.stats().oversized.load(Ordering::Relaxed), 1);
        media.stop().await;
    }

    #[tokio::test]
    async fn sends_paced_audio_and_events() {
        let peer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let (tx, _rx) = mpsc::channel(64);
        let media = MediaSession::start(
            sock,
            None,
            neg(peer.local_addr().unwrap()),
            tx,
            MediaOptions::default(),
        )
        .unwrap();
        let mut out = media.output();
        out.capture_frame(mono_8k(vec![1000; 800])).await.unwrap();
        media.send_dtmf("1").unwrap();
        assert!(media.send_dtmf("x").is_err());
        let mut buf = [0u8; 2048];
        let mut events = 0;
        let mut voice = 0;
        let mut audio = 0;
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(400) {
            let (n, _) = tokio::time::timeout(Duration::from_secs(1), peer.recv_from(&mut buf))
                .await
                .unwrap()
                .unwrap();
            let p = RtpPacket::parse(&buf[..n]).unwrap();
            match p.payload_type() {
                101 => events += 1,
                0 => {
                    assert_eq!(p.payload_len(), 160);
                    audio += 1;
                    if p.payload()[0] != codec_silence() {
                        voice += 1;
                    }
                }
                other => panic!("pt {other}"),
            }
        }
        assert_eq!(events, 4 + 3);
        assert_eq!(voice, 5);
        // Paced: one 20 ms packet per tick, so about 20 in 400 ms (ticks carrying an event
        // send no audio) — a sender running ahead would flood the window with silence.
        assert!(
            (10..=21).contains(&audio),
            "{audio} audio packets in 400 ms"
        );
        let fin = out.wait_for_playout().await;
        assert_eq!(fin.playback_position, Duration::from_millis(100));
        media.stop().await;
    }

    #[tokio::test]
    async fn reordered_packets_and_ssrc_changes_arrive_in_order() {
        let peer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let (tx, mut rx) = mpsc::channel(64);
        let media = MediaSession::start(
            sock,
            None,
            neg(peer.local_addr().unwrap()),
            tx,
            MediaOptions::default(),
        )
        .unwrap();
        let to = media.local_addr();
        // Payload byte n decodes to a distinct level, so order is visible after decoding.
        let level = |n: u8| {
            let mut v = Vec::new();
            codec::decode(Codec::Pcmu, &[n], &mut v);
            v[0]
        };
        for (seq, ssrc, byte) in [
            (100u16, 1u32, 0x10u8),
            (102, 1, 0x12),
            (101, 1, 0x11),
            (7, 2, 0x20),
            (8, 2, 0x21),
        ] {
            peer.send_to(&rtp(0, seq, u32::from(seq) * 160, ssrc, &[byte; 160]), to)
                .await
                .unwrap();
        }
        let mut got = Vec::new();
        while got.len() < 5 {
            match next_event(&mut rx).await {
                InputEvent::Audio(f) => got.push(f.samples[0]),
                other => panic!("{other:?}"),
            }
        }
        let want: Vec<i16> = [0x10, 0x11, 0x12, 0x20, 0x21]
            .into_iter()
            .map(level)
            .collect();
        assert_eq!(got, want);
        // A gap is concealed with silence once the window gives up waiting.
        peer.send_to(&rtp(0, 10, 0, 2, &[0x22; 160]), to)
            .await
            .unwrap();
        let mut lens = Vec::new();
        for _ in 0..2 {
            match next_event(&mut rx).await {
                InputEvent::Audio(f) => lens.push((f.samples.len(), f.samples[0])),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(lens, vec![(160, 0), (160, level(0x22))]);
        assert_eq!(media.stats().lost.load(Ordering::Relaxed), 1);
        media.stop().await;
    }

    fn codec_silence() -> u8 {
        let mut v = Vec::new();
        codec::encode(Codec::Pcmu, &[0], &mut v);
        v[0]
    }
}
