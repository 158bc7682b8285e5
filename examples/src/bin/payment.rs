//! Taking a card payment with the prebuilt `GetCreditCardTask`, a sensitive task: while it
//! runs, the transcript shows `[redacted]` in place of what is said (the card number, the
//! security code, the task's result), the card never enters the agent's history, and the tool
//! hands the model only the issuer and the last four digits.
//!
//! `cargo run -p agents-examples --bin payment -- demo --transcript t.jsonl` (scripted model)
//! or `-- console`.

use agents_core::prelude::*;
use agents_core::testing::{Reply, ScriptedLlm};
use agents_prebuilt::GetCreditCardTask;
use serde_json::json;

/// You take card payments for Acme orders. Be brief and friendly.
#[agent]
struct PaymentAgent;

#[function_tools]
impl PaymentAgent {
    /// Take the card details for the user's order.
    #[function_tool]
    async fn take_payment(&mut self, ctx: &mut AgentContext<'_>) -> Result<String> {
        let card = ctx.run_task(GetCreditCardTask::new()).await?;
        // The full details go to the payment processor from here; the model gets what it
        // needs to talk about the card.
        Ok(format!(
            "Card on file: {} ending in {}.",
            card.issuer,
            card.last4()
        ))
    }
}

/// The model `demo` mode plays against.
fn demo_llm() -> ScriptedLlm {
    ScriptedLlm::new()
        .on_user("pay", Reply::call("take_payment", json!({})))
        .on_instructions(
            "number on their payment card",
            Reply::text("Sure. What's the card number?"),
        )
        .on_instructions("expiry date", Reply::text("When does the card expire?"))
        .on_instructions("security code", Reply::text("And the security code?"))
        .on_instructions(
            "first and last name",
            Reply::text("Finally, the name on the card?"),
        )
        .on_user(
            "card is",
            Reply::call(
                "update_card_number",
                json!({"card_number": "4242 4242 4242 4242"}),
            ),
        )
        .on_user(
            "expires",
            Reply::call("update_expiry_date", json!({"month": 12, "year": 39})),
        )
        .on_user(
            "code is",
            Reply::call("update_security_code", json!({"security_code": "123"})),
        )
        .on_user(
            "name is",
            Reply::call(
                "update_name",
                json!({"first_name": "Jane", "middle_name": null, "last_name": "Doe"}),
            ),
        )
        .after_tool(
            "take_payment",
            Reply::dynamic(|req| {
                let on_file = req
                    .chat_ctx
                    .items()
                    .iter()
                    .rev()
                    .find_map(|i| match i {
                        agents_core::llm::ChatItem::FunctionCallOutput(o) => Some(o.output.clone()),
                        _ => None,
                    })
                    .unwrap_or_default();
                Reply::text(format!("Thank you! {on_file} Your order is confirmed."))
            }),
        )
        .otherwise(Reply::text("Is there anything else?"))
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    agents_core::console::run_agent(
        PaymentAgent,
        demo_llm,
        &[
            "I'd like to pay for my order.",
            "My card is 4242 4242 4242 4242",
            "It expires 12/39",
            "The code is 123",
            "My name is Jane Doe",
        ],
    )
    .await
}
