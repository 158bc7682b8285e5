//! The collected card, which masks its number and security code in `Debug`.

use super::CardIssuer;
use serde::Serialize;
use std::fmt;

/// The card a [`GetCreditCardTask`](super::GetCreditCardTask) collected.
///
/// `Debug` masks the number and the security code; `Serialize` writes them in full, since the
/// serialised result is what a payment call would send.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct CreditCardResult {
    /// The name on the card ("Jane Doe").
    pub cardholder_name: String,
    /// The card network.
    pub issuer: CardIssuer,
    /// The card number, digits only.
    pub card_number: String,
    /// The expiry date as `MM/YY`.
    pub expiry: String,
    /// The security code (CVV/CVC/CID), digits only.
    pub cvv: String,
}

impl CreditCardResult {
    /// The last four digits of the card number, safe to show or say.
    pub fn last4(&self) -> &str {
        last4(&self.card_number)
    }
}

impl fmt::Debug for CreditCardResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreditCardResult")
            .field("cardholder_name", &self.cardholder_name)
            .field("issuer", &self.issuer)
            .field("card_number", &format_args!("**** {}", self.last4()))
            .field("expiry", &self.expiry)
            .field("cvv", &"***")
            .finish()
    }
}

/// The last four digits of a card number.
pub(crate) fn last4(number: &str) -> &str {
    number.get(number.len().saturating_sub(4)..).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_masks_the_card() {
        let card = CreditCardResult {
            cardholder_name: "Jane Doe".into(),
            issuer: CardIssuer::Visa,
            card_number: "4242424242424242".into(),
            expiry: "12/30".into(),
            cvv: "123".into(),
        };
        let debug = format!("{card:?}");
        assert!(debug.contains("**** 4242"), "{debug}");
        assert!(
            !debug.contains("4242424242424242") && !debug.contains("123\""),
            "{debug}"
        );
        assert_eq!(card.last4(), "4242");
        let json = serde_json::to_value(&card).unwrap();
        assert_eq!(json["issuer"], "Visa");
        assert_eq!(json["card_number"], "4242424242424242");
    }
}
