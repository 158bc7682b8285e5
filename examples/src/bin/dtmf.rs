//! `cargo run -p agents-examples --bin dtmf -- demo` (scripted model) or `-- console`.

use agents_examples::agents::dtmf::{PhoneBanking, ABOUT};
use agents_examples::{demos, Example};

fn main() -> std::process::ExitCode {
    Example::new(ABOUT, demos::dtmf::demo, || PhoneBanking).run()
}
