//! The interview demo: work style first, then strengths and weaknesses in one answer.

use crate::Demo;
use agents_core::testing::{Reply, ScriptedLlm};
use serde_json::json;

/// The scripted model and the user's lines.
pub fn demo() -> Demo {
    let llm = ScriptedLlm::new()
        .on_instructions(
            "strengths, weaknesses and work style",
            Reply::text(
                "Let's talk about you: what are your strengths, weaknesses and work style?",
            ),
        )
        .on_user(
            "work best",
            Reply::call(
                "record_work_style",
                json!({"work_style": "independent, async"}),
            ),
        )
        .after_tool(
            "record_work_style",
            Reply::text("Got it. And your strengths and weaknesses?"),
        )
        .on_user(
            "strength",
            Reply::calls(vec![
                (
                    "record_strengths",
                    json!({"strengths_summary": "debugging, focus"}),
                ),
                (
                    "record_weaknesses",
                    json!({"weaknesses_summary": "public speaking"}),
                ),
            ]),
        )
        .on_instructions(
            "thank the candidate",
            Reply::text("Thank you! Debugging and focus are great strengths. We'll be in touch."),
        );
    Demo::new(
        llm,
        vec![
            "I work best independently, mostly async.",
            "My strengths are debugging and focus; my weakness is public speaking.",
        ],
    )
}
