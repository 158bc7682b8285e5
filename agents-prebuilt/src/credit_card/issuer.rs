//! The card networks, told apart by a card number's leading digits.

use serde::Serialize;
use std::fmt;

/// The card network, from the number's prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum CardIssuer {
    /// Starts with 4.
    Visa,
    /// 51–55 or 2221–2720.
    Mastercard,
    /// 34 or 37; 15 digits and a 4-digit security code.
    #[serde(rename = "American Express")]
    AmericanExpress,
    /// 6011, 644–649, 65, 622126–622925.
    Discover,
    /// 3528–3589.
    #[serde(rename = "JCB")]
    Jcb,
    /// 300–305, 36, 38, 39.
    #[serde(rename = "Diners Club")]
    DinersClub,
    /// 62 (outside Discover's range).
    UnionPay,
    /// A Luhn-valid number of a network not listed here.
    Other,
}

impl CardIssuer {
    /// The network a card number belongs to, from its leading digits.
    pub fn from_number(digits: &str) -> CardIssuer {
        let prefix =
            |n: usize| -> u32 { digits.get(..n).and_then(|p| p.parse().ok()).unwrap_or(0) };
        match (prefix(1), prefix(2), prefix(3), prefix(4), prefix(6)) {
            (4, ..) => CardIssuer::Visa,
            (_, 34 | 37, ..) => CardIssuer::AmericanExpress,
            (_, 51..=55, ..) | (_, _, _, 2221..=2720, _) => CardIssuer::Mastercard,
            (_, 65, ..) | (_, _, 644..=649, ..) | (_, _, _, 6011, _) => CardIssuer::Discover,
            (_, _, _, _, 622126..=622925) => CardIssuer::Discover,
            (_, _, _, 3528..=3589, _) => CardIssuer::Jcb,
            (_, 36 | 38 | 39, ..) | (_, _, 300..=305, ..) => CardIssuer::DinersClub,
            (_, 62, ..) => CardIssuer::UnionPay,
            _ => CardIssuer::Other,
        }
    }

    /// The name people use for the network; `"card"` for [`CardIssuer::Other`], so messages
    /// still read naturally ("card ending in 1234").
    pub fn name(self) -> &'static str {
        match self {
            CardIssuer::Visa => "Visa",
            CardIssuer::Mastercard => "Mastercard",
            CardIssuer::AmericanExpress => "American Express",
            CardIssuer::Discover => "Discover",
            CardIssuer::Jcb => "JCB",
            CardIssuer::DinersClub => "Diners Club",
            CardIssuer::UnionPay => "UnionPay",
            CardIssuer::Other => "card",
        }
    }

    /// Digits in the security code: 4 for American Express (on the front), 3 for the others.
    pub fn security_code_len(self) -> usize {
        if self == CardIssuer::AmericanExpress {
            4
        } else {
            3
        }
    }

    /// The card number lengths this network issues.
    pub(crate) fn lengths(self) -> &'static [usize] {
        match self {
            CardIssuer::Visa => &[13, 16, 19],
            CardIssuer::Mastercard => &[16],
            CardIssuer::AmericanExpress => &[15],
            CardIssuer::DinersClub => &[14, 15, 16, 17, 18, 19],
            CardIssuer::Discover | CardIssuer::Jcb | CardIssuer::UnionPay => &[16, 17, 18, 19],
            CardIssuer::Other => &[13, 14, 15, 16, 17, 18, 19],
        }
    }
}

impl fmt::Display for CardIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// "a Visa", "an American Express".
pub(crate) fn with_article(name: &str) -> String {
    let article = if name.starts_with(['A', 'E', 'I', 'O', 'U']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers_from_prefixes() {
        let cases = [
            ("4242424242424242", CardIssuer::Visa),
            ("5555555555554444", CardIssuer::Mastercard),
            ("2223003122003222", CardIssuer::Mastercard),
            ("2720990000000000", CardIssuer::Mastercard),
            ("378282246310005", CardIssuer::AmericanExpress),
            ("341111111111111", CardIssuer::AmericanExpress),
            ("6011111111111117", CardIssuer::Discover),
            ("6500000000000000", CardIssuer::Discover),
            ("6445000000000000", CardIssuer::Discover),
            ("6221260000000000", CardIssuer::Discover),
            ("6200000000000005", CardIssuer::UnionPay),
            ("3530111333300000", CardIssuer::Jcb),
            ("30569309025904", CardIssuer::DinersClub),
            ("36227206271667", CardIssuer::DinersClub),
            ("2721000000000000", CardIssuer::Other),
            ("1234567890123", CardIssuer::Other),
        ];
        for (number, issuer) in cases {
            assert_eq!(CardIssuer::from_number(number), issuer, "{number}");
        }
    }
}
