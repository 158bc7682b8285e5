//! The warm_transfer demo: the caller's internet is down and they accept a transfer. The same
//! script plays the technician's briefing.

use super::last_tool_output;
use crate::Demo;
use agents_core::testing::{Reply, ScriptedLlm};
use serde_json::json;

/// One script for both sides: the caller's session and the briefing with the technician.
pub fn demo() -> Demo {
    let llm = ScriptedLlm::new()
        .on_user(
            "internet is down",
            Reply::text("Sorry to hear that. Shall I connect you to a technician?"),
        )
        .on_user("yes", Reply::call("transfer_to_human", json!({})))
        .after_tool(
            "transfer_to_human",
            // The model reads the output's text (the wire has no error flag).
            Reply::dynamic(|req| {
                if last_tool_output(req).is_some_and(|o| o.contains("failed")) {
                    Reply::text("I'm sorry, I couldn't reach a technician. Can I take a message?")
                } else {
                    Reply::text("You're now connected to a technician. Goodbye!")
                }
            }),
        )
        // The technician's side.
        .on_user(
            "this is sam",
            Reply::text("Hi Sam, I have a caller whose internet is down. Can you take the call?"),
        )
        .on_user(
            "put them through",
            Reply::call("connect_to_caller", json!({})),
        )
        .on_user(
            "can't take",
            Reply::call("decline_transfer", json!({"reason": "in a meeting"})),
        )
        .after_tool("decline_transfer", Reply::text("No problem, thanks Sam."))
        .on_user(
            "after the tone",
            Reply::call("voicemail_detected", json!({})),
        )
        .otherwise(Reply::text("How can I help?"));
    Demo::new(llm, vec!["My internet is down.", "Yes, please."])
}
