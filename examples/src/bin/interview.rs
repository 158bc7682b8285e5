//! `cargo run -p agents-examples --bin interview -- demo` (scripted model) or `-- console`.

use agents_examples::agents::interview::{Interviewer, ABOUT};
use agents_examples::{demos, Example};

fn main() -> std::process::ExitCode {
    Example::new(ABOUT, demos::interview::demo, || Interviewer).run()
}
