//! `cargo run -p agents-examples --bin onboarding -- demo` (scripted model) or `-- console`.

use agents_examples::agents::onboarding::{OnboardingAgent, ABOUT};
use agents_examples::{demos, Example};

fn main() -> std::process::ExitCode {
    Example::new(ABOUT, demos::onboarding::demo, || OnboardingAgent).run()
}
