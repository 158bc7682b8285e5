//! The survey demo: a complete interview (by voice, the email is read back and confirmed). With `--stdin`, "please stop" disqualifies and "I'd
//! rather not" declines the email.

use super::{group_summary, Confirmation, ConfirmsByVoice};
use crate::Demo;
use agents_core::testing::{Reply, ScriptedLlm};
use serde_json::json;

/// The scripted model and the user's lines.
pub fn demo() -> Demo {
    let llm = ScriptedLlm::new()
        .on_instructions("needs an email address", Reply::text("I understand. We need an email to follow up, so let's stop here. Thanks for your time, goodbye!"))
        .on_instructions("gather their name", Reply::text("Hi, thanks for calling! What's your name, and tell me a bit about yourself?"))
        .on_instructions("email address", Reply::text("What's the best email address to reach you?"))
        .on_instructions("commute", Reply::text("Can you commute to our office? How would you get there?"))
        .on_instructions("years of experience", Reply::text("How many years of experience do you have, and on what?"))
        .on_instructions("strengths", Reply::text("What are your strengths, weaknesses and preferred work style?"))
        .on_user("i'm alex", Reply::call("record_intro", json!({"name": "Alex", "intro_notes": "backend engineer"})))
        .on_user("email is", Reply::call("update_email_address", json!({"email": "alex@example.com"})))
        .confirms(Confirmation {
            update: "update_email_address",
            read_back: "I have a l e x, at, example, dot, com. Is that right?",
            agreed: "that's right",
            confirm: "confirm_email_address",
            value: json!({"email": "alex@example.com"}),
        })
        .on_user("commute", Reply::call("record_commute_flexibility", json!({"can_commute": true, "commute_method": "subway"})))
        .on_user("stop", Reply::call("disqualify", json!({"reason": "the candidate asked to stop"})))
        .on_user("rather not", Reply::call("decline_email_capture", json!({"reason": "the candidate would rather not share it"})))
        .on_user("years", Reply::call("record_experience", json!({"years_of_experience": 6, "description": "Rust and Go services"})))
        .on_user(
            "strong at",
            Reply::calls(vec![
                ("record_strengths", json!({"strengths_summary": "debugging"})),
                ("record_weaknesses", json!({"weaknesses_summary": "delegating"})),
                ("record_work_style", json!({"work_style": "async, written"})),
            ]),
        )
        .rule(group_summary("Alex, backend engineer, alex@example.com, commutes by subway, 6 years of Rust and Go, strong at debugging, weak at delegating, prefers async work."))
        .when(
            |r| r.instructions().contains("Evaluate the candidate"),
            Reply::text("Solid backend experience and good self-awareness. Recommendation: advance."),
        )
        .on_instructions("will be in touch", Reply::text("Thanks Alex, that's everything. The team will be in touch soon!"))
        .on_instructions("end the interview", Reply::text("No problem, thanks for your time. Goodbye!"))
        .otherwise(Reply::text("Could you say that again?"));
    Demo::new(
        llm,
        vec![
            "Hi, I'm Alex, a backend engineer.",
            "My email is alex at example dot com.",
            "Yes, I can commute by subway.",
            "About 6 years, mostly Rust and Go services.",
            "I'm strong at debugging, weak at delegating, and I like async, written work.",
        ],
    )
    .spoken(vec![
        "Hi, I'm Alex, a backend engineer.",
        "My email is alex at example dot com.",
        "Yes, that's right.",
        "Yes, I can commute by subway.",
        "About 6 years, mostly Rust and Go services.",
        "I'm strong at debugging, weak at delegating, and I like async, written work.",
    ])
}
