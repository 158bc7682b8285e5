//! `cargo run -p agents-examples --bin consent -- demo` (scripted model) or `-- console`.

use agents_examples::agents::consent::{CustomerServiceAgent, ABOUT};
use agents_examples::{demos, Example};

fn main() -> std::process::ExitCode {
    Example::new(ABOUT, demos::consent::demo, || CustomerServiceAgent).run()
}
