//! `cargo run -p agents-examples --bin survey -- demo` (scripted model) or `-- console
//! --output results.csv`.

use agents_examples::agents::survey::{setup, ABOUT};
use agents_examples::{demos, Example};

fn main() -> std::process::ExitCode {
    Example::with_args(ABOUT, demos::survey::demo, setup).run()
}
