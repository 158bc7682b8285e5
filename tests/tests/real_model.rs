//! The consent flow against a real OpenAI-compatible model, judged by the same model. Runs only
//! when `OPENAI_API_KEY` is set at build time (and honours `OPENAI_BASE_URL` / `OPENAI_MODEL`);
//! otherwise it shows as ignored, with the reason.

use agents_core::llm::openai::OpenAiLlm;
use agents_core::prelude::*;
use agents_core::testing::skip_without_key;
use agents_prebuilt::CollectConsentTask;

/// You are a friendly customer service representative of Acme Corp.
#[agent]
struct CustomerServiceAgent;

#[function_tools]
impl CustomerServiceAgent {
    async fn on_enter(&mut self, ctx: &mut AgentContext<'_>) -> Result<()> {
        let consent = ctx
            .run_task(CollectConsentTask::new(
                "record this call for quality and training purposes",
            ))
            .await?;
        if consent {
            ctx.generate_reply("Offer your assistance to the user.")
                .await
        } else {
            ctx.generate_reply("Say you cannot proceed without consent and say goodbye.")
                .await
        }
    }
}

#[tokio::test]
#[cfg_attr(not(has_openai_key), ignore = "OPENAI_API_KEY is not set")]
async fn consent_with_a_real_model() {
    if skip_without_key("consent_with_a_real_model") {
        return;
    }
    let llm = OpenAiLlm::from_env().expect("the provider is configured from the environment");
    let session = AgentSession::new(llm.clone());
    let start = session.start(CustomerServiceAgent).await.unwrap();
    start
        .expect()
        .contains_message(Role::Assistant)
        .judge(&llm, "asks the user for permission to record the call")
        .await;

    let turn = session.run("Sure, that's fine with me.").await.unwrap();
    turn.expect().contains_function_call("consent_given", None);
    assert_eq!(turn.final_output::<bool>(), Some(&true));
    turn.expect()
        .contains_message(Role::Assistant)
        .judge(&llm, "offers to help the user")
        .await;
    session.close().await;
}

/// A tiny streamed request through the provider.
#[tokio::test]
#[cfg_attr(not(has_openai_key), ignore = "OPENAI_API_KEY is not set")]
async fn a_real_streamed_reply() {
    use agents_core::llm::{collect_text, ChatContext, ChatRequest};
    if skip_without_key("a_real_streamed_reply") {
        return;
    }
    let llm = OpenAiLlm::from_env().expect("configured from the environment");
    let mut chat_ctx = ChatContext::new();
    chat_ctx.add_message(Role::User, "Reply with the single word: pong");
    let request = ChatRequest {
        chat_ctx,
        temperature: Some(0.0),
        ..Default::default()
    };
    let text = collect_text(&llm, request)
        .await
        .expect("the model answers");
    assert!(!text.trim().is_empty());
}
