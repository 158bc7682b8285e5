//! `parked_sessions`: start N sessions, each parked mid-`TaskGroup` (the group's first task has
//! greeted the user through the LLM and waits for an answer); resident memory per session and
//! the time to start them.
//!
//! Runtime: tokio multi-thread with 2 workers (this machine's core count), the sessions
//! started one after another from a spawned task. Memory is the growth of `VmRSS` across the
//! starts, after giving freed heap back to the OS (`malloc_trim`) so that reused free memory
//! does not hide growth; the live heap per session, from a counting allocator in a separate pass,
//! backs it up without page-granularity noise.

use crate::alloc::{self, Counter};
use crate::fixtures::{InstantLlm, IntakeAgent, GREETING};
use crate::{multi_thread_runtime, Config, Figure};
use agents_core::llm::Llm;
use agents_core::session::AgentSession;
use std::sync::Arc;
use std::time::Instant;

const BENCH: &str = "parked_sessions";
/// The target per session.
const TARGET_KIB: f64 = 32.0;
const RUNTIME: &str = "multi_thread(2)";

/// Starts `n` sessions and returns them (still parked) with the time it took.
async fn start_all(n: usize, llm: Arc<dyn Llm>) -> (Vec<AgentSession>, f64) {
    let mut sessions = Vec::with_capacity(n);
    let t = Instant::now();
    for i in 0..n {
        let session = AgentSession::builder_shared(llm.clone()).build();
        let started = session.start(IntakeAgent).await.unwrap();
        if i == 0 {
            assert!(
                started.assistant_text().contains(GREETING),
                "the task did not greet: {started:?}"
            );
        }
        sessions.push(session);
    }
    (sessions, t.elapsed().as_secs_f64())
}

async fn close_all(sessions: Vec<AgentSession>) -> f64 {
    let t = Instant::now();
    futures::future::join_all(sessions.iter().map(|s| s.close())).await;
    t.elapsed().as_secs_f64()
}

/// Runs the workload.
pub fn run(cfg: &Config) -> Vec<Figure> {
    let counts: &[usize] = if cfg.quick { &[100] } else { &[1_000, 10_000] };
    let mut out = Vec::new();
    for &n in counts {
        let rt = multi_thread_runtime(2);
        let llm: Arc<dyn Llm> = Arc::new(InstantLlm::default());
        // A first session outside the measurement: lazy statics, the runtime's own buffers.
        rt.block_on(rt.spawn(start_all(1, llm.clone()))).unwrap();
        alloc::trim();
        let before = alloc::rss_kib();
        let (sessions, start_secs) = rt.block_on(rt.spawn(start_all(n, llm.clone()))).unwrap();
        let after = alloc::rss_kib();
        let close_secs = rt.block_on(rt.spawn(close_all(sessions))).unwrap();
        drop(rt);

        let f = |metric: &str, value: f64, unit: &'static str| {
            Figure::new(BENCH, metric, value, unit)
                .with("sessions", n as u64)
                .with("runtime", RUNTIME)
        };
        if let (Some(before), Some(after)) = (before, after) {
            let per = after.saturating_sub(before) as f64 / n as f64;
            out.push(
                f("rss_per_session", per, "KiB")
                    .at_most(TARGET_KIB)
                    .with("rss_before_kib", before)
                    .with("rss_after_kib", after),
            );
        }
        out.push(f("start_total", start_secs * 1e3, "ms").with(
            "how",
            "sequential build + start, each awaited until the task waits for the user",
        ));
        out.push(f("start_per_session", start_secs * 1e6 / n as f64, "us"));
        out.push(f("close_total", close_secs * 1e3, "ms").with("how", "all closed concurrently"));
        out.push(f("started", n as f64, "sessions").at_least(n as f64));
    }

    // Live heap per parked session, counted by the allocator (no page rounding).
    let n = cfg.pick(1_000, 100);
    let rt = multi_thread_runtime(2);
    let llm: Arc<dyn Llm> = Arc::new(InstantLlm::default());
    rt.block_on(rt.spawn(start_all(1, llm.clone()))).unwrap();
    let counter = Counter::start();
    let (sessions, _) = rt.block_on(rt.spawn(start_all(n, llm))).unwrap();
    let counts = counter.stop();
    rt.block_on(rt.spawn(close_all(sessions))).unwrap();
    drop(rt);
    out.push(
        Figure::new(
            BENCH,
            "heap_per_session",
            counts.net_bytes.max(0) as f64 / 1024.0 / n as f64,
            "KiB",
        )
        .at_most(TARGET_KIB)
        .with("sessions", n as u64)
        .with("runtime", RUNTIME)
        .with("allocs_per_session", counts.allocs as f64 / n as f64)
        .with(
            "how",
            "bytes allocated minus freed while starting, per session (counting allocator)",
        ),
    );
    out
}
