//! `tool_dispatch`: decode the JSON arguments of a three-parameter tool and call it.
//!
//! `Activity::call_tool` needs a `Context`, which only the session can build, so it is measured
//! two ways:
//! - `decode_and_call`: the body the `#[function_tools]` macro generates for one dispatch arm,
//!   written out by hand: match on the name, `agents_core::tools::decode_arguments` into an
//!   arguments struct derived exactly like the generated one, box the call's future, await the
//!   real `IntakeTask::record_detail` and turn its `String` into a `ToolOutput`;
//! - `session_per_call`: an LLM reply with `N` calls of the tool in one turn inside a
//!   `TaskGroup`, minus a turn with one call, divided by `N - 1`: everything the session does
//!   per call (history items, events, the output round trip). With the bench's `InstantLlm`
//!   and with `ScriptedLlm` (`Reply::calls`), which also logs and scans every request.

use crate::fixtures::{self, InstantLlm, IntakeAgent, IntakeTask, TOOL, TOOL_ARGS, USER_TEXT};
use crate::stats::{median, Samples};
use crate::{current_thread_runtime, Config, Figure};
use agents_core::llm::FunctionCall;
use agents_core::session::AgentSession;
use agents_core::testing::{Reply, ScriptedLlm};
use agents_core::tools::{decode_arguments, IntoToolOutput, ToolOutput};
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Poll, Waker};
use std::time::Instant;

const BENCH: &str = "tool_dispatch";
/// The target, per call.
const TARGET_NS: f64 = 2_000.0;

/// The arguments struct, derived as `#[function_tools]` derives it for `record_detail`.
#[derive(serde::Deserialize, schemars::JsonSchema)]
#[allow(dead_code)]
struct RecordDetailArgs {
    /// The caller's full name
    name: String,
    /// How many items the ticket is about
    count: i64,
    /// Whether the caller says it is urgent
    urgent: bool,
}

/// Polls a future that never waits (tool bodies without I/O complete on the first poll).
fn ready<F: Future>(fut: F) -> F::Output {
    let mut cx = std::task::Context::from_waker(Waker::noop());
    match pin!(fut).poll(&mut cx) {
        Poll::Ready(v) => v,
        Poll::Pending => unreachable!("the tool body does not wait"),
    }
}

/// One dispatch, shaped like the generated `call_tool` arm.
fn dispatch(task: &mut IntakeTask, call: &FunctionCall) -> ToolOutput {
    match call.name.as_str() {
        TOOL => {
            let args = match decode_arguments::<RecordDetailArgs>(&call.name, &call.arguments) {
                Ok(a) => a,
                Err(e) => return ToolOutput::error(e),
            };
            let fut: futures::future::BoxFuture<'_, ToolOutput> = Box::pin(async move {
                task.record_detail(args.name, args.count, args.urgent)
                    .await
                    .into_tool_output()
            });
            ready(fut)
        }
        other => ToolOutput::Error(format!("Unknown tool `{other}`.")),
    }
}

/// Mean nanoseconds per iteration of `f` over `iters`, as the median of `batches` batches.
fn per_iter_ns(batches: usize, iters: usize, mut f: impl FnMut()) -> f64 {
    for _ in 0..iters / 10 + 1 {
        f();
    }
    let means = (0..batches)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..iters {
                f();
            }
            t.elapsed().as_nanos() as f64 / iters as f64
        })
        .collect();
    median(means)
}

/// Runs the workload.
pub fn run(cfg: &Config) -> Vec<Figure> {
    let iters = cfg.pick(200_000, 2_000);
    let batches = cfg.pick(7, 3);
    let call = FunctionCall::new("call_1", TOOL, TOOL_ARGS);
    let mut task = IntakeTask::default();

    // Sanity: the hand-written arm really runs the tool.
    match dispatch(&mut task, &call) {
        ToolOutput::Text(s) => assert!(s.contains("Alex Martin"), "{s}"),
        other => panic!("dispatch failed: {other:?}"),
    }

    let decode_ns = per_iter_ns(batches, iters, || {
        let args: RecordDetailArgs =
            decode_arguments(black_box(&call.name), black_box(&call.arguments)).unwrap();
        black_box(args);
    });
    let dispatch_ns = per_iter_ns(batches, iters, || {
        black_box(dispatch(&mut task, black_box(&call)));
    });

    let mut figures = vec![
        Figure::new(BENCH, "decode_and_call", dispatch_ns, "ns/call")
            .at_most(TARGET_NS)
            .with("path", "generated call_tool arm by hand: decode_arguments + boxed future + tool body + IntoToolOutput")
            .with("iterations", (iters * batches) as u64)
            .with("batches", batches as u64),
        Figure::new(BENCH, "decode_only", decode_ns, "ns/call")
            .with("path", "agents_core::tools::decode_arguments::<3-field struct>")
            .with("iterations", (iters * batches) as u64),
    ];
    figures.extend(session_level(cfg));
    figures
}

/// Which LLM drives the session-level measurement.
#[derive(Clone, Copy)]
enum Driver {
    Scripted,
    Instant,
}

impl Driver {
    fn name(self) -> &'static str {
        match self {
            Driver::Scripted => "ScriptedLlm",
            Driver::Instant => "InstantLlm",
        }
    }

    fn session(self, calls: usize) -> AgentSession {
        let builder = match self {
            Driver::Scripted => AgentSession::builder(ScriptedLlm::new().on_user(
                "alex",
                Reply::calls(std::iter::repeat_n(
                    (TOOL, serde_json::from_str(TOOL_ARGS).unwrap()),
                    calls,
                )),
            )),
            Driver::Instant => AgentSession::builder(InstantLlm::with_calls(calls)),
        };
        builder.build()
    }
}

/// Per-call cost inside a real session turn: `N` calls in one reply versus one call, each turn
/// the first of a fresh session.
fn session_level(cfg: &Config) -> Vec<Figure> {
    const N: usize = 100;
    let reps = cfg.pick(200, 5);
    let rt = current_thread_runtime();
    let mut out = Vec::new();
    for driver in [Driver::Instant, Driver::Scripted] {
        let (mut one, mut many) = rt.block_on(async {
            let mut one = Samples::with_capacity(reps);
            let mut many = Samples::with_capacity(reps);
            // Warm up once each, then alternate so drift hits both alike.
            for rep in 0..=reps {
                for (calls, samples) in [(1, &mut one), (N, &mut many)] {
                    let session = driver.session(calls);
                    session.start(IntakeAgent).await.unwrap();
                    let t = Instant::now();
                    let turn = session.run(USER_TEXT).await.unwrap();
                    let elapsed = t.elapsed();
                    fixtures::check_tool_turn(&turn);
                    assert_eq!(turn.events().len(), 2 * calls + 1, "{turn:?}");
                    if rep > 0 {
                        samples.push(elapsed);
                    }
                    session.close().await;
                }
            }
            (one, many)
        });
        let t1 = one.percentile_ns(50.0) as f64;
        let tn = many.percentile_ns(50.0) as f64;
        let marginal = ((tn - t1) / (N - 1) as f64).max(0.0);
        let suffix = match driver {
            Driver::Instant => "",
            Driver::Scripted => "_scripted",
        };
        out.push(
            Figure::new(BENCH, format!("session_per_call{suffix}"), marginal, "ns/call")
                .at_most(TARGET_NS)
                .with("llm", driver.name())
                .with(
                    "how",
                    format!(
                        "(p50 turn with {N} calls in one reply - p50 turn with 1 call) / {}; TaskGroup task, current_thread runtime",
                        N - 1
                    ),
                )
                .with("turns", (2 * reps) as u64),
        );
        out.push(
            Figure::new(
                BENCH,
                format!("session_turn_per_call{suffix}"),
                tn / N as f64,
                "ns/call",
            )
            .with("llm", driver.name())
            .with(
                "how",
                format!("p50 turn with {N} calls / {N} (includes the turn's fixed cost)"),
            )
            .with("turns", reps as u64),
        );
    }
    out
}
