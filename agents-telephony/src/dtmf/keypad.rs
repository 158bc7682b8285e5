//! The sixteen keys of a telephone keypad, their tone frequencies, and parsing them from text.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// One key of a telephone keypad: the digits, `*`, `#` and the rarely used `A`-`D`.
///
/// Typed keys instead of `char`s, so a stop key or a detector output cannot be a letter that no
/// keypad sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum DtmfKey {
    /// `0`
    Zero,
    /// `1`
    One,
    /// `2`
    Two,
    /// `3`
    Three,
    /// `4`
    Four,
    /// `5`
    Five,
    /// `6`
    Six,
    /// `7`
    Seven,
    /// `8`
    Eight,
    /// `9`
    Nine,
    /// `*`
    Star,
    /// `#`, the usual "done" key.
    Pound,
    /// `A` (fourth column; military and some PBX keypads).
    A,
    /// `B`
    B,
    /// `C`
    C,
    /// `D`
    D,
}

/// Low-group (row) frequencies in Hz, top row first.
pub const ROW_FREQUENCIES: [f64; 4] = [697.0, 770.0, 852.0, 941.0];
/// High-group (column) frequencies in Hz, left column first.
pub const COLUMN_FREQUENCIES: [f64; 4] = [1209.0, 1336.0, 1477.0, 1633.0];

/// The keypad as laid out by row and column frequency.
const KEYPAD: [[DtmfKey; 4]; 4] = [
    [DtmfKey::One, DtmfKey::Two, DtmfKey::Three, DtmfKey::A],
    [DtmfKey::Four, DtmfKey::Five, DtmfKey::Six, DtmfKey::B],
    [DtmfKey::Seven, DtmfKey::Eight, DtmfKey::Nine, DtmfKey::C],
    [DtmfKey::Star, DtmfKey::Zero, DtmfKey::Pound, DtmfKey::D],
];

impl DtmfKey {
    /// All sixteen keys, digits first, for iterating in tests and tables.
    pub const ALL: [DtmfKey; 16] = [
        DtmfKey::Zero,
        DtmfKey::One,
        DtmfKey::Two,
        DtmfKey::Three,
        DtmfKey::Four,
        DtmfKey::Five,
        DtmfKey::Six,
        DtmfKey::Seven,
        DtmfKey::Eight,
        DtmfKey::Nine,
        DtmfKey::Star,
        DtmfKey::Pound,
        DtmfKey::A,
        DtmfKey::B,
        DtmfKey::C,
        DtmfKey::D,
    ];

    /// The key for `c` (`0-9`, `*`, `#`, `A-D` in either case), or `None` for anything else.
    pub fn from_char(c: char) -> Option<Self> {
        Some(match c {
            '0' => DtmfKey::Zero,
            '1' => DtmfKey::One,
            '2' => DtmfKey::Two,
            '3' => DtmfKey::Three,
            '4' => DtmfKey::Four,
            '5' => DtmfKey::Five,
            '6' => DtmfKey::Six,
            '7' => DtmfKey::Seven,
            '8' => DtmfKey::Eight,
            '9' => DtmfKey::Nine,
            '*' => DtmfKey::Star,
            '#' => DtmfKey::Pound,
            'A' | 'a' => DtmfKey::A,
            'B' | 'b' => DtmfKey::B,
            'C' | 'c' => DtmfKey::C,
            'D' | 'd' => DtmfKey::D,
            _ => return None,
        })
    }

    /// The character the key sends (`'0'`..`'9'`, `'*'`, `'#'`, `'A'`..`'D'`).
    pub fn as_char(self) -> char {
        match self {
            DtmfKey::Zero => '0',
            DtmfKey::One => '1',
            DtmfKey::Two => '2',
            DtmfKey::Three => '3',
            DtmfKey::Four => '4',
            DtmfKey::Five => '5',
            DtmfKey::Six => '6',
            DtmfKey::Seven => '7',
            DtmfKey::Eight => '8',
            DtmfKey::Nine => '9',
            DtmfKey::Star => '*',
            DtmfKey::Pound => '#',
            DtmfKey::A => 'A',
            DtmfKey::B => 'B',
            DtmfKey::C => 'C',
            DtmfKey::D => 'D',
        }
    }

    /// Whether the key is one of `0`-`9`, the keys that make up collected input.
    pub fn is_digit(self) -> bool {
        self.as_char().is_ascii_digit()
    }

    /// Row and column index on the keypad (`0..4` each), the pair of tones the key sends.
    pub fn position(self) -> (usize, usize) {
        for (r, row) in KEYPAD.iter().enumerate() {
            for (c, key) in row.iter().enumerate() {
                if *key == self {
                    return (r, c);
                }
            }
        }
        // Every key is on the keypad; this line is never reached.
        (3, 3)
    }

    /// The key at `row`, `column` of the keypad, if both are below 4.
    pub fn at(row: usize, column: usize) -> Option<Self> {
        KEYPAD.get(row).and_then(|r| r.get(column)).copied()
    }

    /// The low (row) and high (column) tone frequencies in Hz, e.g. to synthesise the key.
    pub fn frequencies(self) -> (f64, f64) {
        let (r, c) = self.position();
        (ROW_FREQUENCIES[r], COLUMN_FREQUENCIES[c])
    }

    /// Parses every character of `s` as a key; fails on the first one that is not a key.
    pub fn parse_sequence(s: &str) -> Result<Vec<DtmfKey>, ParseDtmfError> {
        s.chars()
            .enumerate()
            .map(|(position, c)| {
                DtmfKey::from_char(c).ok_or(ParseDtmfError {
                    invalid: c,
                    position,
                })
            })
            .collect()
    }

    /// The keys as the string `AgentSession::send_dtmf` takes.
    pub fn to_string_of(keys: &[DtmfKey]) -> String {
        keys.iter().map(|k| k.as_char()).collect()
    }
}

impl fmt::Display for DtmfKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_char())
    }
}

impl TryFrom<char> for DtmfKey {
    type Error = ParseDtmfError;

    fn try_from(c: char) -> Result<Self, Self::Error> {
        DtmfKey::from_char(c).ok_or(ParseDtmfError {
            invalid: c,
            position: 0,
        })
    }
}

impl FromStr for DtmfKey {
    type Err = ParseDtmfError;

    /// Parses exactly one key, surrounding whitespace ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim();
        let mut chars = trimmed.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => DtmfKey::try_from(c),
            (None, _) => Err(ParseDtmfError {
                invalid: ' ',
                position: 0,
            }),
            (Some(_), Some(extra)) => Err(ParseDtmfError {
                invalid: extra,
                position: 1,
            }),
        }
    }
}

/// A character that is not a keypad key, with its position, so callers can say which one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("`{invalid}` at position {position} is not a keypad key (expected 0-9, *, #, A-D)")]
pub struct ParseDtmfError {
    /// The offending character (a space for empty input).
    pub invalid: char,
    /// Its index in characters.
    pub position: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_chars() {
        for key in DtmfKey::ALL {
            assert_eq!(DtmfKey::from_char(key.as_char()), Some(key));
            let (r, c) = key.position();
            assert_eq!(DtmfKey::at(r, c), Some(key));
        }
        assert_eq!(DtmfKey::from_char('a'), Some(DtmfKey::A));
        assert_eq!(DtmfKey::from_char('x'), None);
        assert_eq!("#".parse::<DtmfKey>(), Ok(DtmfKey::Pound));
        assert!("12".parse::<DtmfKey>().is_err());
        assert!("".parse::<DtmfKey>().is_err());
        let err = DtmfKey::parse_sequence("12x4").unwrap_err();
        assert_eq!((err.invalid, err.position), ('x', 2));
        let keys = DtmfKey::parse_sequence("0*#D").unwrap();
        assert_eq!(DtmfKey::to_string_of(&keys), "0*#D");
        assert_eq!(DtmfKey::Five.frequencies(), (770.0, 1336.0));
        assert!(DtmfKey::Nine.is_digit() && !DtmfKey::Star.is_digit());
    }
}
