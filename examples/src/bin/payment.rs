//! `cargo run -p agents-examples --bin payment -- demo --transcript t.jsonl` (scripted model)
//! or `-- console`.

use agents_examples::agents::payment::{PaymentAgent, ABOUT};
use agents_examples::{demos, Example};

fn main() -> std::process::ExitCode {
    Example::new(ABOUT, demos::payment::demo, || PaymentAgent).run()
}
