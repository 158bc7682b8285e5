//! Memory accounting: a global allocator that counts allocations while switched on, resident
//! set size from `/proc`, and giving freed memory back to the OS before a baseline is read.
//!
//! Counting is off by default and switched on only around the short phases that report
//! allocation figures, so timed loops pay one relaxed atomic load per allocation.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};

/// The system allocator, counting while [`Counter`] is active.
pub struct CountingAlloc;

static ENABLED: AtomicBool = AtomicBool::new(false);
static ALLOCS: AtomicU64 = AtomicU64::new(0);
static ALLOC_BYTES: AtomicU64 = AtomicU64::new(0);
static NET_BYTES: AtomicI64 = AtomicI64::new(0);

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

// SAFETY: every call is forwarded unchanged to `System`; the counters have no effect on it.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if ENABLED.load(Ordering::Relaxed) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
            ALLOC_BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
            NET_BYTES.fetch_add(layout.size() as i64, Ordering::Relaxed);
        }
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if ENABLED.load(Ordering::Relaxed) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
            ALLOC_BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
            NET_BYTES.fetch_add(layout.size() as i64, Ordering::Relaxed);
        }
        // SAFETY: same contract as ours.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if ENABLED.load(Ordering::Relaxed) {
            NET_BYTES.fetch_sub(layout.size() as i64, Ordering::Relaxed);
        }
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if ENABLED.load(Ordering::Relaxed) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
            ALLOC_BYTES.fetch_add(new_size as u64, Ordering::Relaxed);
            NET_BYTES.fetch_add(new_size as i64 - layout.size() as i64, Ordering::Relaxed);
        }
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// What was allocated while a [`Counter`] was active.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counts {
    /// Number of allocations (reallocations included).
    pub allocs: u64,
    /// Bytes requested by them.
    pub bytes: u64,
    /// Bytes allocated minus bytes freed: what is still live (of what was counted).
    pub net_bytes: i64,
}

/// Counts allocations from `start` until `stop`. Counters are process-wide: run one at a time.
pub struct Counter {
    start: Counts,
}

fn now() -> Counts {
    Counts {
        allocs: ALLOCS.load(Ordering::Relaxed),
        bytes: ALLOC_BYTES.load(Ordering::Relaxed),
        net_bytes: NET_BYTES.load(Ordering::Relaxed),
    }
}

impl Counter {
    /// Switches counting on.
    pub fn start() -> Self {
        let start = now();
        ENABLED.store(true, Ordering::SeqCst);
        Counter { start }
    }

    /// Switches counting off and returns what was counted.
    pub fn stop(self) -> Counts {
        ENABLED.store(false, Ordering::SeqCst);
        let end = now();
        Counts {
            allocs: end.allocs - self.start.allocs,
            bytes: end.bytes - self.start.bytes,
            net_bytes: end.net_bytes - self.start.net_bytes,
        }
    }
}

/// Resident set size of this process in KiB (`VmRSS` of `/proc/self/status`), if readable.
pub fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Returns freed heap memory to the OS (glibc `malloc_trim`), so that an RSS baseline is not
/// hiding free memory that later allocations would reuse without growing the RSS.
pub fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}
