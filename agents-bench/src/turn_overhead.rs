//! `turn_overhead`: one full `session.run` turn (user text → LLM → tool call → tool output →
//! LLM → reply) inside a `TaskGroup` task that never completes, with an LLM that answers at
//! once; p50/p99 over many turns of one session, so the history grows by four items a turn.
//!
//! Reported for a current-thread runtime (caller and session loop on one thread) and a
//! two-worker multi-thread runtime (the caller is a spawned task, as a server's connection
//! handler would be), plus the first and last 100 turns (short vs. long history) and the
//! allocations of one turn at both ends. The `bounded_*` figures run the same turns with a tool
//! that trims the task's conversation to its last 40 items, which separates the fixed cost of a
//! turn from the cost that grows with the history. Also with `ScriptedLlm`, in sessions of 100 turns (it
//! logs every request, so one long session would hold every history ever sent).

use crate::alloc::Counter;
use crate::fixtures::{
    self, BoundedIntakeAgent, InstantLlm, IntakeAgent, TOOL, TOOL_ARGS, USER_TEXT,
};
use crate::stats::Samples;
use crate::{current_thread_runtime, multi_thread_runtime, Config, Figure};
use agents_core::session::AgentSession;
use agents_core::testing::{Reply, ScriptedLlm};
use std::time::Instant;

const BENCH: &str = "turn_overhead";
/// The target for p99, in microseconds.
const TARGET_P99_US: f64 = 100.0;
/// Turns at the start and at the end reported on their own.
const EDGE: usize = 100;

/// Turn times of one long session, and allocation counts of one early and one late turn.
struct Run {
    all: Samples,
    first: Samples,
    last: Samples,
    early_allocs: crate::alloc::Counts,
    late_allocs: crate::alloc::Counts,
    total_secs: f64,
}

/// Items kept by the bounded variant: about ten turns.
const KEEP: usize = 40;

async fn long_session(turns: usize, bounded: bool) -> Run {
    let session = AgentSession::builder(InstantLlm::default()).build();
    if bounded {
        session
            .start(BoundedIntakeAgent { keep: KEEP })
            .await
            .unwrap();
    } else {
        session.start(IntakeAgent).await.unwrap();
    }
    let mut run = Run {
        all: Samples::with_capacity(turns),
        first: Samples::with_capacity(EDGE),
        last: Samples::with_capacity(EDGE),
        early_allocs: Default::default(),
        late_allocs: Default::default(),
        total_secs: 0.0,
    };
    // Allocations are counted in two turns that are left out of the timings.
    let early = 10.min(turns - 1);
    let late = turns - 1;
    let started = Instant::now();
    for i in 0..turns {
        let counter = (i == early || i == late).then(Counter::start);
        let t = Instant::now();
        let turn = session.run(USER_TEXT).await.unwrap();
        let elapsed = t.elapsed();
        if let Some(c) = counter {
            let counts = c.stop();
            if i == early {
                run.early_allocs = counts;
            } else {
                run.late_allocs = counts;
            }
        } else {
            run.all.push(elapsed);
            if i < EDGE {
                run.first.push(elapsed);
            } else if i >= turns - EDGE {
                run.last.push(elapsed);
            }
        }
        fixtures::check_tool_turn(&turn);
    }
    run.total_secs = started.elapsed().as_secs_f64();
    session.close().await;
    run
}

fn figures(runtime: &'static str, turns: usize, bounded: bool, mut run: Run) -> Vec<Figure> {
    let prefix = if bounded { "bounded_" } else { "" };
    let history = if bounded {
        format!("trimmed by the tool to the last {KEEP} items")
    } else {
        "grows 4 items a turn".to_string()
    };
    let f = |metric: &str, value: f64, unit: &'static str| {
        Figure::new(BENCH, format!("{prefix}{metric}"), value, unit)
            .with("runtime", runtime)
            .with("llm", "InstantLlm")
            .with("history", history.clone())
    };
    let n = run.all.len() as u64;
    let last_range = format!("{}-{}", turns - EDGE + 1, turns);
    vec![
        f("p50", run.all.percentile_us(50.0), "us").with("turns", n),
        f("p99", run.all.percentile_us(99.0), "us")
            .at_most(TARGET_P99_US)
            .with("turns", n),
        f("max", run.all.max_ns() as f64 / 1e3, "us").with("turns", n),
        f("turns_per_sec", turns as f64 / run.total_secs, "turns/s")
            .with("note", "whole loop incl. result checks"),
        f("p50_first_100", run.first.percentile_us(50.0), "us").with("turns", "1-100"),
        f("p99_first_100", run.first.percentile_us(99.0), "us")
            .at_most(TARGET_P99_US)
            .with("turns", "1-100"),
        f("p50_last_100", run.last.percentile_us(50.0), "us").with("turns", last_range.clone()),
        f("p99_last_100", run.last.percentile_us(99.0), "us")
            .at_most(TARGET_P99_US)
            .with("turns", last_range),
        f(
            "allocs_per_turn_early",
            run.early_allocs.allocs as f64,
            "allocs",
        )
        .with("turn", 11u64)
        .with("bytes", run.early_allocs.bytes),
        f(
            "allocs_per_turn_late",
            run.late_allocs.allocs as f64,
            "allocs",
        )
        .with("turn", turns as u64)
        .with("bytes", run.late_allocs.bytes),
        f(
            "alloc_bytes_per_turn_late",
            run.late_allocs.bytes as f64 / 1024.0,
            "KiB",
        )
        .with("turn", turns as u64)
        .with("history_items_approx", (4 * turns) as u64),
    ]
}

/// Runs the workload.
pub fn run(cfg: &Config) -> Vec<Figure> {
    let turns = cfg.pick(10_000, 200);
    let mut out = Vec::new();

    for bounded in [false, true] {
        let rt = current_thread_runtime();
        let run = rt.block_on(long_session(turns, bounded));
        drop(rt);
        out.extend(figures("current_thread", turns, bounded, run));

        let rt = multi_thread_runtime(2);
        let run = rt
            .block_on(rt.spawn(long_session(turns, bounded)))
            .expect("bench task");
        drop(rt);
        out.extend(figures("multi_thread(2)", turns, bounded, run));
    }

    out.extend(scripted(cfg));
    out.push(chat_ctx_clone(cfg));
    out
}

/// What one copy of the history costs, per item: the session copies the whole `ChatContext`
/// into each `ChatRequest` (two per turn here) and drops the copy after the request.
fn chat_ctx_clone(cfg: &Config) -> Figure {
    use agents_core::llm::{ChatContext, FunctionCall, FunctionCallOutput, Role};
    let turns = 1_000;
    let mut ctx = ChatContext::new();
    ctx.add_message(
        Role::System,
        "Collect the caller's details for a support ticket.",
    );
    for i in 0..turns {
        ctx.add_message(Role::User, USER_TEXT);
        let call = FunctionCall::new(format!("call_{i}"), TOOL, TOOL_ARGS);
        ctx.push(call.clone());
        ctx.push(FunctionCallOutput::new(
            &call,
            "Recorded Alex Martin: 3 item(s).",
            false,
        ));
        ctx.add_message(Role::Assistant, fixtures::AFTER_TOOL);
    }
    let reps = cfg.pick(200, 5);
    let mut best = f64::MAX;
    for _ in 0..reps {
        let t = Instant::now();
        let copy = std::hint::black_box(ctx.clone());
        drop(copy);
        best = best.min(t.elapsed().as_nanos() as f64);
    }
    Figure::new(BENCH, "chat_ctx_clone_per_item", best / ctx.len() as f64, "ns/item")
        .with("items", ctx.len() as u64)
        .with("how", "ChatContext::clone + drop of a 4,001-item history (best of runs), per item: what build_request pays per history item and LLM call")
}

/// The same turn with `ScriptedLlm` (rules, request log), in sessions of 100 turns.
fn scripted(cfg: &Config) -> Vec<Figure> {
    let sessions = cfg.pick(10, 1);
    let per_session = 100;
    let rt = current_thread_runtime();
    let mut samples = rt.block_on(async {
        let mut samples = Samples::with_capacity(sessions * per_session);
        for _ in 0..sessions {
            let llm = ScriptedLlm::new().on_user(
                "alex",
                Reply::call(
                    TOOL,
                    serde_json::from_str::<serde_json::Value>(TOOL_ARGS).unwrap(),
                ),
            );
            let session = AgentSession::builder(llm).build();
            session.start(IntakeAgent).await.unwrap();
            for _ in 0..per_session {
                let t = Instant::now();
                let turn = session.run(USER_TEXT).await.unwrap();
                samples.push(t.elapsed());
                fixtures::check_tool_turn(&turn);
            }
            session.close().await;
        }
        samples
    });
    let p50 = samples.percentile_us(50.0);
    let p99 = samples.percentile_us(99.0);
    let f = |metric: &str, value: f64| {
        Figure::new(BENCH, metric, value, "us")
            .with("runtime", "current_thread")
            .with("llm", "ScriptedLlm")
            .with("turns", samples.len() as u64)
            .with("sessions", sessions as u64)
            .with("turns_per_session", per_session as u64)
    };
    vec![
        f("scripted_p50", p50),
        f("scripted_p99", p99).at_most(TARGET_P99_US),
    ]
}
