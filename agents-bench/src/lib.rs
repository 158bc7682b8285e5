//! Benchmarks of the framework's own overhead, as a library so the smoke test can run them.
//!
//! Each workload returns [`Figure`]s; the binary prints one JSON object per figure and line:
//! `{"bench": NAME, "metric": ..., "value": N, "unit": "...", "target": ..., "met": ..., ...}`.
//! Nothing here asserts timings: the figures are measured, printed, and judged by the reader.

pub mod alloc;
pub mod fixtures;
pub mod http_turn;
pub mod parked_sessions;
pub mod schema;
pub mod stats;
pub mod stream_passthrough;
pub mod tool_dispatch;
pub mod turn_overhead;
pub mod voice;

use serde_json::{Map, Value};

/// How big the runs are.
#[derive(Debug, Clone, Copy, Default)]
pub struct Config {
    /// Small counts, for CI smoke runs: the figures are then only indicative.
    pub quick: bool,
}

impl Config {
    /// `full` normally, `quick` in quick mode.
    pub fn pick(&self, full: usize, quick: usize) -> usize {
        if self.quick {
            quick
        } else {
            full
        }
    }
}

/// Whether a smaller or a larger value is better, for judging a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Goal {
    /// The value must be at most the target.
    AtMost,
    /// The value must be at least the target.
    AtLeast,
}

/// One measured figure.
#[derive(Debug, Clone)]
pub struct Figure {
    /// Workload name (`tool_dispatch`, `turn_overhead`, ...).
    pub bench: &'static str,
    /// What was measured (`p99`, `per_call_decode_and_call`, ...).
    pub metric: String,
    /// The measured value.
    pub value: f64,
    /// Its unit.
    pub unit: &'static str,
    /// The target for this figure, if it has one.
    pub target: Option<(f64, Goal)>,
    /// Context: sample counts, runtime flavour, history length, ...
    pub extra: Map<String, Value>,
}

impl Figure {
    /// A figure without a target.
    pub fn new(
        bench: &'static str,
        metric: impl Into<String>,
        value: f64,
        unit: &'static str,
    ) -> Self {
        Figure {
            bench,
            metric: metric.into(),
            value,
            unit,
            target: None,
            extra: Map::new(),
        }
    }

    /// Sets the target the value must stay at or under.
    pub fn at_most(mut self, target: f64) -> Self {
        self.target = Some((target, Goal::AtMost));
        self
    }

    /// Sets the target the value must reach.
    pub fn at_least(mut self, target: f64) -> Self {
        self.target = Some((target, Goal::AtLeast));
        self
    }

    /// Adds a context field.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.to_string(), value.into());
        self
    }

    /// Whether the target is met (`None` without a target).
    pub fn met(&self) -> Option<bool> {
        self.target.map(|(t, goal)| match goal {
            Goal::AtMost => self.value <= t,
            Goal::AtLeast => self.value >= t,
        })
    }

    /// The figure as one JSON object.
    pub fn to_json(&self) -> Value {
        let mut obj = Map::new();
        obj.insert("bench".into(), self.bench.into());
        obj.insert("metric".into(), self.metric.clone().into());
        obj.insert("value".into(), round(self.value).into());
        obj.insert("unit".into(), self.unit.into());
        if let Some((target, goal)) = self.target {
            obj.insert("target".into(), target.into());
            let rel = match goal {
                Goal::AtMost => "<=",
                Goal::AtLeast => ">=",
            };
            obj.insert("target_is".into(), rel.into());
            obj.insert("met".into(), self.met().into());
        }
        for (k, v) in &self.extra {
            obj.insert(k.clone(), v.clone());
        }
        Value::Object(obj)
    }
}

/// Three significant decimals are plenty for timings and sizes.
fn round(v: f64) -> f64 {
    if v.is_finite() {
        (v * 1000.0).round() / 1000.0
    } else {
        v
    }
}

/// A workload: its name and the function that runs it.
pub struct Workload {
    /// Name used by `--only`.
    pub name: &'static str,
    /// Runs the workload and returns its figures.
    pub run: fn(&Config) -> Vec<Figure>,
}

/// Every workload, in the order the full run uses. `parked_sessions` goes first so its memory
/// baseline is not inflated by what earlier workloads left in the allocator.
pub const WORKLOADS: &[Workload] = &[
    Workload {
        name: "parked_sessions",
        run: parked_sessions::run,
    },
    Workload {
        name: "tool_dispatch",
        run: tool_dispatch::run,
    },
    Workload {
        name: "schema",
        run: schema::run,
    },
    Workload {
        name: "turn_overhead",
        run: turn_overhead::run,
    },
    Workload {
        name: "stream_passthrough",
        run: stream_passthrough::run,
    },
    Workload {
        name: "http_turn",
        run: http_turn::run,
    },
    Workload {
        name: "voice",
        run: voice::run,
    },
];

/// The workload named `name`.
pub fn workload(name: &str) -> Option<&'static Workload> {
    WORKLOADS.iter().find(|w| w.name == name)
}

/// A current-thread tokio runtime (timers on).
pub fn current_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// A multi-thread tokio runtime with `workers` worker threads.
pub fn multi_thread_runtime(workers: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// The machine, for the record: logical CPUs, the CPU model and the load average (the machine
/// may be shared: a load above the CPU count means the figures include waiting for a CPU).
pub fn machine() -> Value {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let load = std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    serde_json::json!({
        "cpus": cpus,
        "cpu_model": model,
        "os": std::env::consts::OS,
        "loadavg": load,
    })
}
