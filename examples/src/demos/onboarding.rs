//! The onboarding demo: the user gives a name, goes back to change it, then gives the email.

use super::group_summary;
use crate::Demo;
use agents_core::testing::{Reply, ScriptedLlm};
use serde_json::json;

/// The scripted model and the user's lines.
pub fn demo() -> Demo {
    let llm = ScriptedLlm::new()
        .on_user("sign up", Reply::call("start_onboarding", json!({})))
        .on_instructions("user's name", Reply::text("Welcome! What's your name?"))
        .on_instructions(
            "email address",
            Reply::text("Thanks! What's your email address?"),
        )
        .on_user(
            "change my name",
            Reply::call("out_of_scope", json!({"task_ids": ["name_task"]})),
        )
        .after_tool("out_of_scope", Reply::text("Sure! What's your name?"))
        .on_user(
            "i'm alex",
            Reply::call("record_name", json!({"name": "Alex"})),
        )
        .on_user(
            "it's sam",
            Reply::call("record_name", json!({"name": "Sam"})),
        )
        .on_user(
            "@",
            Reply::call("record_email", json!({"email": "sam@example.com"})),
        )
        .rule(group_summary(
            "The user signed up as Sam (first said Alex), email sam@example.com.",
        ))
        .after_tool(
            "start_onboarding",
            Reply::text("You're all set, Sam! Anything else I can help with?"),
        )
        .otherwise(Reply::text("Could you say that again?"));
    Demo::new(
        llm,
        vec![
            "Hi, I want to sign up.",
            "I'm Alex.",
            "Actually, change my name please.",
            "It's Sam.",
            "sam@example.com",
        ],
    )
}
