//! `cargo run -p agents-examples --bin contact_info -- demo` (scripted model) or `-- console`.

use agents_examples::agents::contact_info::{CustomerServiceAgent, ABOUT};
use agents_examples::{demos, Example};

fn main() -> std::process::ExitCode {
    Example::new(ABOUT, demos::contact_info::demo, || CustomerServiceAgent).run()
}
