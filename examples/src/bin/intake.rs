//! `cargo run -p agents-examples --bin intake -- demo --profiles profiles.txt` (scripted model)
//! or `-- console --profiles profiles.txt`; the file holds one known email per line.

use agents_examples::agents::intake::{setup, ABOUT};
use agents_examples::{demos, Example};

fn main() -> std::process::ExitCode {
    Example::with_args(ABOUT, demos::intake::demo, setup).run()
}
