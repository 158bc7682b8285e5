//! A few OS threads (one per CPU) pace every call's outgoing RTP, instead of one tokio
//! timer per call.
//!
//! Each thread spreads its calls over [`SLOTS`] send slots, 0.5 ms apart inside the 20 ms
//! packet interval (calls fill a slot up to [`PACK`] before the next is used, then spread
//! evenly), so a thread wakes at most 2,000 times a second whatever the number of calls
//! (fewer with few calls: empty slots are slept through) and sends one slot's frames per
//! wake-up. It sleeps with the OS's high-resolution timers, so its
//! wake-ups are not rounded to tokio's 1 ms timer and are not held up by work (VAD, STT)
//! running on the runtime's workers. On a busy machine the threads still compete for CPU
//! with everything else: `SipConfig::realtime_pacing` gives them real-time priority.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use crate::media::PTIME;

/// Most pacing threads.
const MAX_THREADS: usize = 4;
/// Calls a slot takes before new calls go to another: a handful of sends per wake-up
/// (about 10 µs each) keeps the last one under about 0.1 ms late while few calls need few
/// wake-ups.
const PACK: usize = 8;
/// Send slots per packet interval.
pub const SLOTS: usize = 40;
/// Time between two slots (0.5 ms).
const SLOT: Duration = Duration::from_micros(PTIME.as_micros() as u64 / SLOTS as u64);
/// A tick later than this means the thread was stalled (machine overloaded): it skips
/// ahead instead of sending a burst of late frames.
const STALL: Duration = Duration::from_millis(200);

/// A call's sender, driven by the pacer thread once per packet interval.
pub(crate) trait Paced: Send {
    /// Sends the frame due at `due`; returns false once the call is over (the pacer then
    /// drops the sender).
    fn tick(&mut self, due: Instant) -> bool;
}

struct Pending {
    new: Vec<Box<dyn Paced>>,
    /// Raise the thread's priority at its next wake-up.
    realtime: bool,
}

/// One pacing thread's inbox: senders are handed over with [`register`].
struct Pacer {
    pending: Mutex<Pending>,
    wake: Condvar,
}

/// The pacing threads: one per CPU (at most [`MAX_THREADS`]), so pacing gets more than
/// one thread's share of a busy machine and the sends run in parallel.
fn pacers() -> &'static [Pacer] {
    static PACERS: OnceLock<&'static [Pacer]> = OnceLock::new();
    PACERS.get_or_init(|| {
        let n = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, MAX_THREADS);
        let all: &'static [Pacer] = Vec::leak(
            (0..n)
                .map(|_| Pacer {
                    pending: Mutex::new(Pending {
                        new: Vec::new(),
                        realtime: false,
                    }),
                    wake: Condvar::new(),
                })
                .collect(),
        );
        for (i, p) in all.iter().enumerate() {
            let spawned = std::thread::Builder::new()
                .name(format!("rtp-pacer-{i}"))
                .spawn(move || run(p));
            if let Err(e) = spawned {
                // Calls given to this pacer would send nothing; say so loudly.
                tracing::error!(error = %e, "cannot start an RTP pacing thread");
            }
        }
        all
    })
}

/// Hands a call's sender to a pacing thread (round robin); its first frame goes out within
/// 20 ms.
pub(crate) fn register(sender: Box<dyn Paced>) {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let all = pacers();
    let p = &all[NEXT.fetch_add(1, Ordering::Relaxed) % all.len()];
    lock(&p.pending).new.push(sender);
    p.wake.notify_one();
}

/// Asks for the pacing threads to run at real-time priority (see
/// `SipConfig::realtime_pacing`); applied once, by each thread itself.
pub(crate) fn request_realtime() {
    for p in pacers() {
        lock(&p.pending).realtime = true;
        p.wake.notify_one();
    }
}

/// Makes the calling thread real-time (`SCHED_FIFO`, low priority), or failing that raises
/// its nice level; logs what it got.
#[cfg(target_os = "linux")]
fn raise_priority() {
    // SAFETY: plain syscalls on the calling thread with a valid, initialised argument.
    let fifo = unsafe {
        // Zeroed first: some libcs give `sched_param` more fields than the priority.
        let mut param: libc::sched_param = std::mem::zeroed();
        param.sched_priority = 10;
        libc::sched_setscheduler(0, libc::SCHED_FIFO, &param) == 0
    };
    if fifo {
        tracing::info!("RTP pacing thread runs at real-time priority (SCHED_FIFO 10)");
        return;
    }
    // SAFETY: as above; `gettid` cannot fail.
    let niced = unsafe {
        let tid = libc::gettid() as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, -10) == 0
    };
    if niced {
        tracing::info!("RTP pacing thread runs at nice -10 (real-time priority refused)");
    } else {
        tracing::warn!(
            error = %std::io::Error::last_os_error(),
            "cannot raise the RTP pacing thread's priority; pacing may lag on a busy machine"
        );
    }
}

/// Thread priorities are only set on Linux.
#[cfg(not(target_os = "linux"))]
fn raise_priority() {
    tracing::warn!("real-time RTP pacing is only available on Linux");
}

fn lock(m: &Mutex<Pending>) -> MutexGuard<'_, Pending> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Which slot fires next and when.
struct Clock {
    epoch: Instant,
    /// Slot ticks since `epoch` (slot = tick % SLOTS).
    tick: u64,
}

impl Clock {
    fn due(&self) -> Instant {
        self.epoch + SLOT * (self.tick as u32)
    }

    fn slot(&self) -> usize {
        (self.tick % SLOTS as u64) as usize
    }

    /// Moves to the next slot.
    fn advance(&mut self) {
        self.tick += 1;
        self.rebase();
    }

    /// Moves to the first tick at or after `now` (after a stall or an idle period).
    fn catch_up(&mut self, now: Instant) {
        let ticks = now.saturating_duration_since(self.epoch).as_micros() / SLOT.as_micros();
        self.tick = self.tick.max(ticks as u64 + 1);
        self.rebase();
    }

    /// Keeps `tick` small (so `SLOT * tick` cannot overflow) by moving the epoch on by whole
    /// packet intervals, which keeps every slot's phase.
    fn rebase(&mut self) {
        const LIMIT: u64 = SLOTS as u64 * 1_000_000;
        if self.tick >= LIMIT {
            let whole = self.tick - self.tick % SLOTS as u64;
            self.epoch += SLOT * (whole as u32);
            self.tick -= whole;
        }
    }
}

/// The slot for a new call: the fullest slot still under [`PACK`] calls (few calls share
/// few wake-ups), else the emptiest; ties go to the slot that fires first from `first`.
fn pick_slot(slots: &[Vec<Box<dyn Paced>>], first: usize) -> usize {
    let order = (0..SLOTS).map(|i| (first + i) % SLOTS);
    let packed = order
        .clone()
        .filter(|&i| slots[i].len() < PACK)
        .max_by_key(|&i| {
            (
                slots[i].len(),
                std::cmp::Reverse((i + SLOTS - first) % SLOTS),
            )
        });
    packed
        .or_else(|| order.min_by_key(|&i| slots[i].len()))
        .unwrap_or(first)
}

fn run(p: &'static Pacer) {
    let mut slots: Vec<Vec<Box<dyn Paced>>> = (0..SLOTS).map(|_| Vec::new()).collect();
    let mut clock = Clock {
        epoch: Instant::now(),
        tick: 0,
    };
    let mut live = 0usize;
    loop {
        // Take new senders; wait for one when idle, else until the next slot is due.
        {
            let mut pending = lock(&p.pending);
            if std::mem::take(&mut pending.realtime) {
                raise_priority();
            }
            while live == 0 && pending.new.is_empty() {
                pending = p.wake.wait(pending).unwrap_or_else(|e| e.into_inner());
                clock.catch_up(Instant::now());
            }
            loop {
                for s in pending.new.drain(..) {
                    let best = pick_slot(&slots, clock.slot());
                    slots[best].push(s);
                    live += 1;
                }
                let now = Instant::now();
                let due = clock.due();
                if now >= due {
                    break;
                }
                pending = p
                    .wake
                    .wait_timeout(pending, due - now)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
        }
        let due = clock.due();
        let slot = &mut slots[clock.slot()];
        let before = slot.len();
        slot.retain_mut(|s| s.tick(due));
        live -= before - slot.len();
        clock.advance();
        // Sleep through empty slots.
        for _ in 0..SLOTS {
            if live == 0 || !slots[clock.slot()].is_empty() {
                break;
            }
            clock.advance();
        }
        let now = Instant::now();
        if now.saturating_duration_since(clock.due()) > STALL {
            clock.catch_up(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    struct Counter {
        ticks: Arc<AtomicUsize>,
        dues: Arc<Mutex<Vec<Instant>>>,
        stop_after: usize,
    }

    impl Paced for Counter {
        fn tick(&mut self, due: Instant) -> bool {
            self.dues.lock().unwrap().push(due);
            self.ticks.fetch_add(1, Ordering::SeqCst) + 1 < self.stop_after
        }
    }

    #[test]
    fn ticks_every_packet_interval_until_the_sender_stops() {
        let ticks = Arc::new(AtomicUsize::new(0));
        let dues = Arc::new(Mutex::new(Vec::new()));
        register(Box::new(Counter {
            ticks: ticks.clone(),
            dues: dues.clone(),
            stop_after: 5,
        }));
        let start = Instant::now();
        while ticks.load(Ordering::SeqCst) < 5 && start.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(10));
        }
        // A dropped sender is never ticked again.
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(
            ticks.load(Ordering::SeqCst),
            5,
            "dropped after returning false"
        );
        let dues = dues.lock().unwrap();
        for w in dues.windows(2) {
            assert_eq!(w[1] - w[0], PTIME);
        }
    }

    struct Idle;

    impl Paced for Idle {
        fn tick(&mut self, _: Instant) -> bool {
            true
        }
    }

    #[test]
    fn calls_fill_a_slot_then_spread() {
        let mut slots: Vec<Vec<Box<dyn Paced>>> = (0..SLOTS).map(|_| Vec::new()).collect();
        let mut add = |first: usize| {
            let i = pick_slot(&slots, first);
            slots[i].push(Box::new(Idle));
            i
        };
        // The first PACK calls share the slot that fires first.
        for _ in 0..PACK {
            assert_eq!(add(5), 5);
        }
        // Then the next slot in firing order starts filling.
        assert_eq!(add(5), 6);
        // With every slot full to PACK, calls go to the emptiest.
        for slot in &mut slots {
            while slot.len() < PACK {
                slot.push(Box::new(Idle));
            }
        }
        slots[30].pop();
        assert_eq!(pick_slot(&slots, 0), 30);
        slots[30].push(Box::new(Idle));
        slots[12].push(Box::new(Idle));
        assert_ne!(pick_slot(&slots, 0), 12);
    }

    #[test]
    fn clock_catches_up_after_a_stall() {
        let epoch = Instant::now();
        let mut c = Clock { epoch, tick: 3 };
        assert_eq!(c.due(), epoch + SLOT * 3);
        c.catch_up(epoch + Duration::from_millis(101));
        assert!(c.due() > epoch + Duration::from_millis(101));
        assert!(c.due() <= epoch + Duration::from_millis(101) + SLOT);
        assert_eq!(c.slot(), (c.tick % SLOTS as u64) as usize);
        // A rebase keeps the slot and the time.
        let mut far = Clock {
            epoch,
            tick: SLOTS as u64 * 1_000_000 - 1 + 7,
        };
        let (slot, due) = (far.slot(), far.due());
        far.advance();
        assert_eq!(far.slot(), (slot + 1) % SLOTS);
        assert_eq!(far.due(), due + SLOT);
        assert!(far.tick < SLOTS as u64);
    }
}
