//! The dtmf demo: two digits and a `#` (too few), then all six in two presses.

use crate::Demo;
use agents_core::testing::{Reply, ScriptedLlm};

/// The scripted model and the user's lines.
pub fn demo() -> Demo {
    let llm = ScriptedLlm::new()
        .on_instructions(
            "6-digit input",
            Reply::text(
                "Welcome to Acme Bank. Please enter your 6-digit account number, then press pound.",
            ),
        )
        .on_instructions(
            "exactly 6 are needed",
            Reply::text(
                "You entered 2 digits, but I need 6. Please enter all 6 digits, then press pound.",
            ),
        )
        .on_instructions(
            "was found",
            Reply::text("Thank you, I found account 4 0 7 1 2 9. How can I help you today?"),
        )
        .otherwise(Reply::text(
            "Please use the keypad to enter your account number.",
        ));
    Demo::new(llm, vec!["/dtmf 40#", "/dtmf 4071", "/dtmf 29#"])
}
