//! `cargo run -p agents-examples --bin warm_transfer -- demo [--human decline]` (scripted
//! model), `-- console --human accept`, or on phone calls with a real transfer: `-- sip --listen
//! 127.0.0.1:5080 --human-uri sip:sam@127.0.0.1:5090`.

use agents_examples::agents::warm_transfer::{setup, ABOUT};
use agents_examples::{demos, Example};

fn main() -> std::process::ExitCode {
    Example::with_args(ABOUT, demos::warm_transfer::demo, setup).run()
}
