//! Runs every workload in quick mode and checks that each figure is a finite, positive number
//! with a unit. No timing is asserted: the machine is shared and noisy.

use agents_bench::{Config, WORKLOADS};

#[test]
fn every_workload_yields_finite_positive_figures() {
    let cfg = Config { quick: true };
    for w in WORKLOADS {
        let figures = (w.run)(&cfg);
        assert!(!figures.is_empty(), "{} produced no figure", w.name);
        for f in &figures {
            assert_eq!(f.bench, w.name);
            // Most `http_turn` figures are differences of two timings (client minus server,
            // minus a replay), which a short run on a loaded machine can bring to zero.
            let floor_ok = f.value > 0.0 || (f.bench == "http_turn" && f.value == 0.0);
            assert!(
                f.value.is_finite() && floor_ok,
                "{}/{}: {} is not finite and positive",
                f.bench,
                f.metric,
                f.value
            );
            assert!(!f.unit.is_empty());
            let json = f.to_json();
            assert_eq!(json["bench"], w.name);
            assert!(json["value"].is_number(), "{json}");
            if f.target.is_some() {
                assert!(json["met"].is_boolean(), "{json}");
            }
        }
    }
}

#[test]
fn workloads_are_found_by_name() {
    for name in [
        "tool_dispatch",
        "turn_overhead",
        "http_turn",
        "parked_sessions",
        "stream_passthrough",
        "schema",
    ] {
        assert!(agents_bench::workload(name).is_some(), "{name}");
    }
    assert!(agents_bench::workload("nope").is_none());
}
