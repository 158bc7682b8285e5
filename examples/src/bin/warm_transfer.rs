//! `cargo run -p agents-examples --bin warm_transfer -- demo [--human decline]` (scripted
//! model) or `-- console --human accept`.

use agents_examples::agents::warm_transfer::{setup, ABOUT};
use agents_examples::{demos, Example};

fn main() -> std::process::ExitCode {
    Example::with_args(ABOUT, demos::warm_transfer::demo, setup).run()
}
