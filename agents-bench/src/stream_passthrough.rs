//! `stream_passthrough`: the LLM streams 200 text chunks; time from a chunk leaving the LLM's
//! stream to a `session.subscribe()` receiver getting its `SessionEvent::TextDelta`.
//!
//! Each chunk's text is its index into a table of timestamps taken as the stream hands the chunk
//! out (in `poll_next`, right before returning it); the subscriber, a separate tokio task, parses
//! the index and takes the difference when the event arrives.
//!
//! Pacing: `yield` makes each chunk arrive on a later poll (the stream returns `Pending` once
//! and wakes itself), as chunks arriving from a socket do; `burst` hands all 200 chunks out
//! without ever waiting, like an LLM whose whole reply is already buffered.
//!
//! Turns are 1 ms apart. Multi-thread figures include the OS waking the other worker thread, so
//! on a loaded machine they show its scheduling delays; current-thread figures do not.

use crate::fixtures::IntakeAgent;
use crate::stats::Samples;
use crate::{current_thread_runtime, multi_thread_runtime, Config, Figure};
use agents_core::llm::{ChatChunk, ChatItem, ChatRequest, ChatStream, Llm, LlmError, Role};
use agents_core::prelude::SessionEvent;
use agents_core::session::AgentSession;
use futures::future::BoxFuture;
use futures::{FutureExt, Stream};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

const BENCH: &str = "stream_passthrough";
/// Chunks per reply.
pub const CHUNKS: usize = 200;
/// Pause between user turns.
const TURN_GAP: std::time::Duration = std::time::Duration::from_millis(1);
/// The target for p99, in microseconds.
const TARGET_P99_US: f64 = 100.0;

/// When each chunk left the LLM, in nanoseconds since `base`.
struct Stamps {
    base: Instant,
    ns: Vec<AtomicU64>,
    next: AtomicUsize,
}

impl Stamps {
    fn new(capacity: usize) -> Self {
        Stamps {
            base: Instant::now(),
            ns: (0..capacity).map(|_| AtomicU64::new(0)).collect(),
            next: AtomicUsize::new(0),
        }
    }

    fn now(&self) -> u64 {
        self.base.elapsed().as_nanos() as u64
    }
}

/// Streams [`CHUNKS`] stamped text chunks for a user message; a short greeting otherwise.
struct StampingLlm {
    stamps: Arc<Stamps>,
    paced: bool,
}

struct StampedStream {
    stamps: Arc<Stamps>,
    left: usize,
    paced: bool,
    waited: bool,
}

impl Stream for StampedStream {
    type Item = Result<ChatChunk, LlmError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.left == 0 {
            return Poll::Ready(None);
        }
        if self.paced && !self.waited {
            self.waited = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.waited = false;
        self.left -= 1;
        let i = self.stamps.next.fetch_add(1, Ordering::Relaxed);
        let text = format!("{i} ");
        self.stamps.ns[i].store(self.stamps.now(), Ordering::Release);
        Poll::Ready(Some(Ok(ChatChunk::Text(text))))
    }
}

impl Llm for StampingLlm {
    fn chat(&self, request: ChatRequest) -> BoxFuture<'_, Result<ChatStream, LlmError>> {
        let stream: ChatStream = match request.last_item() {
            Some(ChatItem::Message(m)) if m.role == Role::User => Box::pin(StampedStream {
                stamps: self.stamps.clone(),
                left: CHUNKS,
                paced: self.paced,
                waited: false,
            }),
            _ => Box::pin(futures::stream::iter([Ok(ChatChunk::Text(
                "Hello!".into(),
            ))])),
        };
        futures::future::ready(Ok(stream)).boxed()
    }
}

/// Runs `replies` replies and returns the chunk latencies.
async fn measure(replies: usize, paced: bool) -> Samples {
    let total = replies * CHUNKS;
    let stamps = Arc::new(Stamps::new(total));
    let session = AgentSession::builder(StampingLlm {
        stamps: stamps.clone(),
        paced,
    })
    .build();
    session.start(IntakeAgent).await.unwrap();
    let mut events = session.subscribe();
    let stamps2 = stamps.clone();
    let subscriber = tokio::spawn(async move {
        let mut samples = Samples::with_capacity(total);
        while let Some(event) = events.recv().await {
            if let SessionEvent::TextDelta { content, .. } = event {
                let now = stamps2.now();
                if let Ok(i) = content.trim().parse::<usize>() {
                    let sent = stamps2.ns[i].load(Ordering::Acquire);
                    samples.push_ns(now.saturating_sub(sent));
                    if samples.len() == total {
                        break;
                    }
                }
            }
        }
        samples
    });
    for _ in 0..replies {
        let turn = session.run("Tell me everything.").await.unwrap();
        assert!(!turn.assistant_text().is_empty());
        // A user does not answer within microseconds: without a pause, back-to-back turns keep
        // the session and the driver ping-ponging on one worker and starve the subscriber.
        tokio::time::sleep(TURN_GAP).await;
    }
    let samples = subscriber.await.expect("subscriber");
    assert_eq!(samples.len(), total, "every chunk reaches the subscriber");
    session.close().await;
    samples
}

/// Runs the workload.
pub fn run(cfg: &Config) -> Vec<Figure> {
    let replies = cfg.pick(50, 2);
    let mut out = Vec::new();
    for (runtime, paced) in [
        ("current_thread", true),
        ("multi_thread(2)", true),
        ("current_thread", false),
        ("multi_thread(2)", false),
    ] {
        let mut samples = if runtime == "current_thread" {
            current_thread_runtime().block_on(measure(replies, paced))
        } else {
            let rt = multi_thread_runtime(2);
            rt.block_on(rt.spawn(measure(replies, paced))).unwrap()
        };
        let pacing = if paced { "yield" } else { "burst" };
        let f = |metric: &str, value: f64| {
            Figure::new(BENCH, metric, value, "us")
                .with("runtime", runtime)
                .with("pacing", pacing)
                .with("chunks", (replies * CHUNKS) as u64)
                .with("chunks_per_reply", CHUNKS as u64)
        };
        let p50 = samples.percentile_us(50.0);
        let p99 = samples.percentile_us(99.0);
        let max = samples.max_ns() as f64 / 1e3;
        out.push(f("p50", p50));
        out.push(f("p99", p99).at_most(TARGET_P99_US));
        out.push(f("max", max));
    }
    out
}
