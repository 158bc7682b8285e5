//! An LLM judge: asks a model whether a message fulfils an intent.

use crate::llm::{ChatChunk, ChatContext, ChatRequest, Llm, LlmError, Role, ToolChoice};
use crate::tools::ToolDefinition;
use futures::StreamExt;
use std::sync::Arc;

/// The tool the judge must call with its verdict.
pub const CHECK_INTENT_TOOL: &str = "check_intent";

const SYSTEM_PROMPT: &str = "You are a strict evaluator of the messages of a conversational \
agent. You are given one message the agent produced and the intent the message was supposed to \
fulfil. Decide whether the message fulfils the intent. Judge only the message as written: do not \
assume facts it does not state, do not give credit for what it might mean, and fail it when it \
fulfils the intent only partly or vaguely, or when it adds something that contradicts the intent. \
Call `check_intent` exactly once, with `success` set to your verdict and `reason` explaining it \
in one or two sentences.";

/// Why [`judge`] did not accept a message.
#[derive(Debug, Clone, thiserror::Error)]
pub enum JudgeFailure {
    /// The judge decided the message does not fulfil the intent.
    #[error("the judge rejected the message: {reason}")]
    Rejected {
        /// The judge's explanation.
        reason: String,
    },
    /// The judge LLM did not call `check_intent`.
    #[error("the judge LLM did not call `check_intent` (it answered {text:?})")]
    NoVerdict {
        /// Whatever text the judge produced instead.
        text: String,
    },
    /// The judge called `check_intent` with arguments that could not be read.
    #[error("the judge LLM called `check_intent` with invalid arguments {arguments}: {error}")]
    BadVerdict {
        /// The arguments as received.
        arguments: String,
        /// What was wrong with them.
        error: String,
    },
    /// The judge LLM request failed.
    #[error("the judge LLM failed: {0}")]
    Llm(#[from] LlmError),
}

#[derive(serde::Deserialize)]
struct Verdict {
    success: bool,
    #[serde(default)]
    reason: String,
}

/// The `check_intent` tool offered to the judge.
fn check_intent_tool() -> ToolDefinition {
    ToolDefinition::new(
        CHECK_INTENT_TOOL,
        "Report whether the message fulfils the intent.",
        serde_json::json!({
            "type": "object",
            "properties": {
                "reason": {
                    "type": "string",
                    "description": "Why the message does or does not fulfil the intent."
                },
                "success": {
                    "type": "boolean",
                    "description": "True when the message fulfils the intent."
                }
            },
            "required": ["reason", "success"],
            "additionalProperties": false
        }),
    )
}

/// The request [`judge`] sends.
fn judge_request(message: &str, intent: &str) -> ChatRequest {
    let mut chat_ctx = ChatContext::new();
    chat_ctx.add_message(Role::System, SYSTEM_PROMPT);
    chat_ctx.add_message(
        Role::User,
        format!(
            "Message:\n<message>\n{message}\n</message>\n\nIntent:\n<intent>\n{intent}\n</intent>"
        ),
    );
    ChatRequest {
        chat_ctx,
        tools: vec![Arc::new(check_intent_tool())],
        tool_choice: ToolChoice::Named(CHECK_INTENT_TOOL.to_string()),
        parallel_tool_calls: Some(false),
        temperature: Some(0.0),
    }
}

/// Asks `llm` whether `message` fulfils `intent`.
///
/// The judge gets a strict evaluator prompt and must call the `check_intent` tool with
/// `{"success": bool, "reason": string}`. Returns `Ok(())` when it says `success: true`.
///
/// ```
/// use agents_core::testing::{judge, JudgeFailure, Reply, ScriptedLlm};
/// use serde_json::json;
///
/// // A stand-in for a real model: approves messages that mention a price.
/// let judge_llm = ScriptedLlm::new().when(
///     |_| true,
///     Reply::dynamic(|req| {
///         let success = req.last_user_text().unwrap_or_default().contains('$');
///         Reply::call("check_intent", json!({"success": success, "reason": "price check"}))
///     }),
/// );
/// futures::executor::block_on(async {
///     judge(&judge_llm, "It costs $5.", "states the price").await.unwrap();
///     let err = judge(&judge_llm, "It is cheap.", "states the price").await.unwrap_err();
///     assert!(matches!(err, JudgeFailure::Rejected { .. }));
/// });
/// ```
pub async fn judge(llm: &dyn Llm, message: &str, intent: &str) -> Result<(), JudgeFailure> {
    let mut stream = llm.chat(judge_request(message, intent)).await?;
    let mut text = String::new();
    let mut call = None;
    while let Some(chunk) = stream.next().await {
        match chunk? {
            ChatChunk::Text(t) => text.push_str(&t),
            ChatChunk::ToolCall(c) if c.name == CHECK_INTENT_TOOL => {
                call = Some(c);
                break;
            }
            ChatChunk::ToolCall(_) | ChatChunk::Usage(_) => {}
        }
    }
    drop(stream);
    let Some(call) = call else {
        return Err(JudgeFailure::NoVerdict { text });
    };
    let verdict: Verdict =
        serde_json::from_str(&call.arguments).map_err(|e| JudgeFailure::BadVerdict {
            arguments: call.arguments.clone(),
            error: e.to_string(),
        })?;
    if verdict.success {
        Ok(())
    } else {
        Err(JudgeFailure::Rejected {
            reason: verdict.reason,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::ChatMessage;
    use crate::session::RunEvent;
    use crate::testing::{run_result_from_events, Reply, ScriptedLlm};
    use serde_json::json;

    /// A judge that accepts messages containing "refund".
    fn refund_judge() -> ScriptedLlm {
        ScriptedLlm::new().when(
            |r| r.offers_tool(CHECK_INTENT_TOOL),
            Reply::dynamic(|req| {
                let user = req.last_user_text().unwrap_or_default();
                let message = user
                    .split("<message>\n")
                    .nth(1)
                    .and_then(|s| s.split("\n</message>").next())
                    .unwrap_or_default();
                if message.contains("refund") {
                    Reply::call(
                        CHECK_INTENT_TOOL,
                        json!({"success": true, "reason": "mentions it"}),
                    )
                } else {
                    Reply::text("Hmm.").and_call(
                        CHECK_INTENT_TOOL,
                        json!({"success": false, "reason": "no refund offered"}),
                    )
                }
            }),
        )
    }

    #[test]
    fn pass_and_request_shape() {
        let llm = refund_judge();
        futures::executor::block_on(judge(&llm, "We will refund you.", "offers a refund")).unwrap();
        let req = llm.last_request().unwrap();
        assert_eq!(
            req.tool_choice,
            ToolChoice::Named(CHECK_INTENT_TOOL.to_string())
        );
        assert_eq!(req.tools.len(), 1);
        assert_eq!(
            req.tools[0].relaxed_parameters["required"],
            json!(["reason", "success"])
        );
        let msgs: Vec<_> = req.chat_ctx.messages().collect();
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0].role, Role::System);
        assert!(msgs[0].content.starts_with("You are a strict evaluator"));
        assert_eq!(msgs[1].role, Role::User);
        assert!(msgs[1].content.contains("We will refund you."));
        assert!(msgs[1].content.contains("offers a refund"));
    }

    #[test]
    fn rejection_carries_the_reason() {
        let llm = refund_judge();
        let err =
            futures::executor::block_on(judge(&llm, "Goodbye.", "offers a refund")).unwrap_err();
        assert!(
            matches!(&err, JudgeFailure::Rejected { reason } if reason == "no refund offered"),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            "the judge rejected the message: no refund offered"
        );
    }

    #[test]
    fn failures_without_a_verdict() {
        let run =
            |llm: ScriptedLlm| futures::executor::block_on(judge(&llm, "m", "i")).unwrap_err();
        let err = run(ScriptedLlm::sequence(vec![Reply::text("I think yes")]));
        assert!(
            matches!(&err, JudgeFailure::NoVerdict { text } if text == "I think yes"),
            "{err}"
        );

        let err = run(ScriptedLlm::sequence(vec![Reply::call(
            CHECK_INTENT_TOOL,
            json!({"success": "yes"}),
        )]));
        assert!(matches!(err, JudgeFailure::BadVerdict { .. }), "{err}");
        assert!(err.to_string().contains("invalid arguments"), "{err}");

        let err = run(ScriptedLlm::new().failing_with(LlmError::Connection("down".into())));
        assert!(
            matches!(err, JudgeFailure::Llm(LlmError::Connection(_))),
            "{err}"
        );

        let err = run(ScriptedLlm::sequence(vec![
            Reply::text("thinking").then_fail(LlmError::Stream("cut".into()))
        ]));
        assert!(
            matches!(err, JudgeFailure::Llm(LlmError::Stream(_))),
            "{err}"
        );

        // A missing reason is tolerated.
        let llm = ScriptedLlm::sequence(vec![Reply::call(
            CHECK_INTENT_TOOL,
            json!({"success": true}),
        )]);
        futures::executor::block_on(judge(&llm, "m", "i")).unwrap();
    }

    #[test]
    fn message_assert_judge() {
        let llm = refund_judge();
        let result = run_result_from_events(vec![
            RunEvent::Message(ChatMessage::new(Role::Assistant, "I can refund the order.")),
            RunEvent::Message(ChatMessage::new(Role::Assistant, "Bye.")),
        ]);
        futures::executor::block_on(async {
            result
                .expect()
                .next_event()
                .is_message(Role::Assistant)
                .judge(&llm, "offers a refund")
                .await
                .containing("order");
        });
        let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            futures::executor::block_on(async {
                result
                    .expect()
                    .at(1)
                    .is_message(Role::Assistant)
                    .judge(&llm, "offers a refund")
                    .await;
            })
        }))
        .unwrap_err();
        let msg = payload.downcast::<String>().unwrap();
        assert_eq!(
            *msg,
            r#"expected a message that fulfils the intent "offers a refund": the judge rejected the message: no refund offered
events of the turn:
    [0] message assistant: "I can refund the order."
>>> [1] message assistant: "Bye.""#
        );
    }
}
