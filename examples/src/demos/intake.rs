//! The intake demo: the user gives an email, confirms it when read back, then an address
//! (also confirmed, by voice).
//! With `--stdin`, "I'd rather not" declines.

use super::{group_summary, latest, Confirmation, ConfirmsByVoice};
use crate::Demo;
use agents_core::llm::ChatItem;
use agents_core::testing::{Reply, ScriptedLlm};
use serde_json::json;

/// The email of the latest `update_email_address` call.
fn recorded_email(request: &agents_core::llm::ChatRequest) -> String {
    latest(request, |item| match item {
        ChatItem::FunctionCall(c) if c.name == "update_email_address" => {
            serde_json::from_str::<serde_json::Value>(&c.arguments)
                .ok()
                .and_then(|v| v["email"].as_str().map(str::to_string))
        }
        _ => None,
    })
    .unwrap_or_default()
}

/// The scripted model and the user's lines.
pub fn demo() -> Demo {
    let address = json!({"street_address": "12 Elm Street", "unit_number": null, "locality": "Springfield",
                         "region": "IL", "postal_code": "62704", "country": "United States"});
    let llm = ScriptedLlm::new()
        .on_instructions("a profile needs it", Reply::text("No problem. We need an email address to set up a profile, so feel free to call back or visit the front desk. Goodbye!"))
        .on_instructions("email address", Reply::text("Hello! What's your email address?"))
        .on_instructions("their address", Reply::text("Thanks. And your home address?"))
        .on_user(
            "rather not",
            Reply::call("decline_email_capture", json!({"reason": "the user would rather not say"})),
        )
        .on_user(
            "@",
            Reply::dynamic(|request| {
                let said = request.last_user_text().unwrap_or_default();
                let email = said
                    .split_whitespace()
                    .find(|w| w.contains('@'))
                    .unwrap_or("unknown@example.com")
                    .trim_end_matches('.');
                Reply::call("update_email_address", json!({ "email": email }))
            }),
        )
        .after_tool(
            "update_email_address",
            Reply::dynamic(|request| {
                Reply::text(format!("I have {}. Is that right?", recorded_email(request)))
            }),
        )
        .on_user(
            "yes",
            Reply::dynamic(|request| {
                Reply::call(
                    "confirm_email_address",
                    json!({ "email": recorded_email(request) }),
                )
            }),
        )
        .on_user("street", Reply::call("update_address", address.clone()))
        .confirms(Confirmation {
            update: "update_address",
            read_back: "I have 12 Elm Street, Springfield, IL, 6 2 7 0 4, United States. Is that right?",
            agreed: "that's right",
            confirm: "confirm_address",
            value: address,
        })
        .rule(group_summary("The user gave their email and address."))
        .on_instructions("welcome the returning user", Reply::text("Welcome back! Good to hear from you again. How can I help today?"))
        .on_instructions("new profile", Reply::text("Your profile is set up. How can I help today?"))
        .otherwise(Reply::text("Sorry, could you repeat that?"));
    Demo::new(
        llm,
        vec![
            "It's pat@example.com.",
            "Yes, that's right.",
            "12 Elm Street, Springfield, Illinois 62704.",
        ],
    )
    .spoken(vec![
        "It's pat@example.com.",
        "Yes, that's right.",
        "12 Elm Street, Springfield, Illinois 62704.",
        "Yes, that's right.",
    ])
}
