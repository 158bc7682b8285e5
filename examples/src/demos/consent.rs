//! The consent demo: the user agrees, then asks a question.

use crate::Demo;
use agents_core::testing::{Reply, ScriptedLlm};

/// The scripted model and the user's lines.
pub fn demo() -> Demo {
    let llm = ScriptedLlm::new()
        .on_instructions(
            "ask for permission to record",
            Reply::text("Hi, I'm Sam from Acme support. May I record this call for quality and training? You can say no."),
        )
        .on_user("no", Reply::call("consent_denied", serde_json::json!({})))
        .on_user("yes", Reply::call("consent_given", serde_json::json!({})))
        .on_instructions("offer your assistance", Reply::text("Thank you! How can I help you today?"))
        .on_instructions(
            "unable to proceed",
            Reply::text("I understand. I can't continue without consent, so I'll end the call. Goodbye!"),
        )
        .otherwise(Reply::text("Happy to help with that."));
    Demo::new(
        llm,
        vec!["Yes, that's fine.", "What are your opening hours?"],
    )
}
