//! The payment demo: the user pays with a test Visa card, one detail per turn (by voice, each
//! detail is read back and confirmed; the security code is said twice instead).

use super::{after_capture, Confirmation, ConfirmsByVoice};
use crate::Demo;
use agents_core::testing::{Reply, ScriptedLlm};
use serde_json::json;

/// The scripted model and the user's lines.
pub fn demo() -> Demo {
    let llm = ScriptedLlm::new()
        .on_user(
            "rather not",
            Reply::call(
                "decline_card_capture",
                json!({"reason": "the user would rather not give a card"}),
            ),
        )
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
        .confirms(Confirmation {
            update: "update_card_number",
            read_back: "That's a Visa ending in 4 2 4 2. Is that right?",
            agreed: "that's right",
            confirm: "confirm_card_number",
            value: json!({"card_number": "4242 4242 4242 4242"}),
        })
        .confirms(Confirmation {
            update: "update_expiry_date",
            read_back: "It expires in December 2039. Is that right?",
            agreed: "that's right",
            confirm: "confirm_expiry_date",
            value: json!({"month": 12, "year": 39}),
        })
        .confirms(Confirmation {
            update: "update_security_code",
            read_back: "Could you say the security code once more, to make sure I heard it right?",
            agreed: "one two three",
            confirm: "confirm_security_code",
            value: json!({"security_code": "123"}),
        })
        .confirms(Confirmation {
            update: "update_name",
            read_back: "The name on the card is Jane Doe. Is that right?",
            agreed: "that's right",
            confirm: "confirm_name",
            value: json!({"first_name": "Jane", "middle_name": null, "last_name": "Doe"}),
        })
        .after_tool(
            "take_payment",
            after_capture(
                "No problem, I can send you a payment link instead. Would that work?",
                |on_file| Reply::text(format!("Thank you! {on_file} Your order is confirmed.")),
            ),
        )
        .otherwise(Reply::text("Is there anything else?"));
    Demo::new(
        llm,
        vec![
            "I'd like to pay for my order.",
            "My card is 4242 4242 4242 4242",
            "It expires 12/39",
            "The code is 123",
            "My name is Jane Doe",
        ],
    )
    .spoken(vec![
        "I'd like to pay for my order.",
        "My card is 4242 4242 4242 4242",
        "Yes, that's right.",
        "It expires 12/39",
        "Yes, that's right.",
        "The code is 123",
        "One two three.",
        "My name is Jane Doe",
        "Yes, that's right.",
    ])
}
