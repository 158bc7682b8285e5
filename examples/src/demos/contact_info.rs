//! The contact_info demo: the user asks to update their details and gives all three at once.

use super::after_capture;
use crate::Demo;
use agents_core::testing::{Reply, ScriptedLlm};
use serde_json::json;

/// The scripted model and the user's lines.
pub fn demo() -> Demo {
    let llm = ScriptedLlm::new()
        .on_user("update my", Reply::call("collect_contact_info", json!({})))
        .on_user(
            "rather not",
            Reply::call(
                "decline_contact_info",
                json!({"reason": "the user would rather not share them"}),
            ),
        )
        .on_instructions(
            "contact details",
            Reply::text("Sure! What are your name, email address and phone number?"),
        )
        .on_user(
            "jane",
            Reply::call(
                "record_contact_info",
                json!({"name": "Jane Doe", "email_address": "jane.doe@example.com", "phone_number": "+1 555 010 0199"}),
            ),
        )
        .after_tool(
            "collect_contact_info",
            after_capture(
                "No problem, we'll keep things as they are. Anything else?",
                |_| Reply::text("Thanks Jane, your contact details are saved."),
            ),
        )
        .otherwise(Reply::text("How can I help you today?"));
    Demo::new(
        llm,
        vec![
            "Hi, I'd like to update my contact details.",
            "I'm Jane Doe, jane.doe@example.com, plus one 555 010 0199.",
        ],
    )
}
