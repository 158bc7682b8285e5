//! `schema`: time to get a tool's schema once it has been built (the generated `tools()` keeps
//! the definitions in a `LazyLock` and hands out a `Vec` of `Arc`s), and, for scale, what
//! building one costs (derive the schema, make it strict).

use crate::fixtures::IntakeTask;
use crate::stats::median;
use crate::{Config, Figure};
use agents_core::prelude::Activity;
use agents_core::tools::ToolDefinition;
use std::hint::black_box;
use std::time::Instant;

const BENCH: &str = "schema";

/// Same fields as the `record_detail` tool.
#[derive(schemars::JsonSchema)]
#[allow(dead_code)]
struct Args {
    /// The caller's full name
    name: String,
    /// How many items the ticket is about
    count: i64,
    /// Whether the caller says it is urgent
    urgent: bool,
}

fn per_iter_ns(batches: usize, iters: usize, mut f: impl FnMut()) -> f64 {
    f();
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
    let task = IntakeTask::default();
    let tools = task.tools();
    assert!(tools.iter().any(|t| t.name == "record_detail" && t.strict));

    let cached = per_iter_ns(cfg.pick(7, 3), cfg.pick(1_000_000, 10_000), || {
        let tools = black_box(&task).tools();
        black_box(&tools[0].parameters);
    });
    let build = per_iter_ns(cfg.pick(5, 3), cfg.pick(2_000, 50), || {
        black_box(ToolDefinition::for_args::<Args>("record_detail", "Record."));
    });
    vec![
        Figure::new(BENCH, "cached", cached, "ns/call")
            .at_most(100.0)
            .with("how", "Activity::tools() of a #[function_tools] task with 2 tools (Vec<Arc<ToolDefinition>> clone) and a look at the first schema")
            .with("tools", tools.len() as u64),
        Figure::new(BENCH, "uncached_build", build / 1e3, "us/tool")
            .with("how", "ToolDefinition::for_args for a 3-field struct (derive + strict rewrite); done once per tool type"),
    ]
}
