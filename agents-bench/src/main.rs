//! `cargo run --release -p agents-bench [-- --quick] [--only NAME]`: prints one JSON object per
//! figure and line on stdout; the machine and progress go to stderr.

use clap::Parser;

#[derive(Parser)]
#[command(about = "Benchmarks of the framework's own overhead (see agents-bench/README.md)")]
struct Args {
    /// Small counts (CI smoke run); the figures are then only indicative.
    #[arg(long)]
    quick: bool,
    /// Run only this workload (repeatable).
    #[arg(long, value_name = "NAME")]
    only: Vec<String>,
}

fn main() {
    let args = Args::parse();
    for name in &args.only {
        if agents_bench::workload(name).is_none() {
            let names: Vec<_> = agents_bench::WORKLOADS.iter().map(|w| w.name).collect();
            eprintln!("unknown workload `{name}`; one of: {}", names.join(", "));
            std::process::exit(2);
        }
    }
    let cfg = agents_bench::Config { quick: args.quick };
    eprintln!("machine: {}", agents_bench::machine());
    for w in agents_bench::WORKLOADS {
        if !args.only.is_empty() && !args.only.iter().any(|n| n == w.name) {
            continue;
        }
        eprintln!(
            "running {}{}",
            w.name,
            if cfg.quick { " (quick)" } else { "" }
        );
        for figure in (w.run)(&cfg) {
            println!("{}", figure.to_json());
        }
    }
}
