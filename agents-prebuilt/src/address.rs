//! `GetAddressTask`: collects a postal address.

use crate::capture::{self, capture_tools, option_builders, Capture, CaptureState};
use crate::normalize;
use agents_core::prelude::*;
use serde::Serialize;
use std::borrow::Cow;

/// The address a [`GetAddressTask`] collected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AddressResult {
    /// House number and street ("123 Main Street"), or the first line of the address.
    pub street_address: String,
    /// Apartment, suite, floor or unit, if any.
    pub unit_number: Option<String>,
    /// City, town or village.
    pub locality: String,
    /// State, province, county or region, where the country uses one.
    pub region: Option<String>,
    /// Postal or ZIP code, upper case; required for the US and Canada.
    pub postal_code: Option<String>,
    /// Country, as the user named it.
    pub country: String,
}

impl AddressResult {
    /// The address on one line, e.g. `123 Main St, Apt 4B, Springfield, IL 62701, United States`.
    pub fn formatted(&self) -> String {
        let mut parts: Vec<String> = vec![self.street_address.clone()];
        parts.extend(self.unit_number.clone());
        parts.push(self.locality.clone());
        let region_postal = [&self.region, &self.postal_code]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(" ");
        if !region_postal.is_empty() {
            parts.push(region_postal);
        }
        parts.push(self.country.clone());
        parts.join(", ")
    }

    /// Whether both are the same address, ignoring letter case (which nobody hears).
    fn same_as(&self, other: &AddressResult) -> bool {
        self.formatted().to_lowercase() == other.formatted().to_lowercase()
    }
}

/// Collects the user's postal address, field by field: street, unit, locality, region, postal
/// code and country. US ZIP codes and Canadian postal codes are checked for their format; by
/// default for voice, the address is read back (the postal code digit by digit) before the task
/// completes.
///
/// ```no_run
/// # use agents_core::prelude::*;
/// # use agents_prebuilt::GetAddressTask;
/// # async fn demo(ctx: &mut AgentContext<'_>) -> Result<()> {
/// let address = ctx.run_task(GetAddressTask::new()).await?;
/// let one_line = address.formatted();
/// # Ok(()) }
/// ```
#[agent_task(result = AddressResult)]
#[derive(Debug, Clone, Default)]
pub struct GetAddressTask {
    capture: CaptureState<AddressResult>,
}

impl GetAddressTask {
    /// A task with the default options: confirmation for voice input only.
    pub fn new() -> Self {
        Self::default()
    }

    /// The address from the tool's fields, or a tool error saying what is wrong.
    fn check(
        &self,
        street_address: String,
        unit_number: Option<String>,
        locality: String,
        region: Option<String>,
        postal_code: Option<String>,
        country: String,
    ) -> Result<AddressResult, ToolError> {
        validate_address(
            &street_address,
            unit_number.as_deref(),
            &locality,
            region.as_deref(),
            postal_code.as_deref(),
            &country,
        )
        .map_err(|reason| {
            ToolError::new(format!(
                "That address cannot be recorded: {reason}. Ask the user for it."
            ))
        })
    }
}

impl Capture for GetAddressTask {
    const WHAT: &'static str = "address";
    const UPDATE: &'static str = "update_address";
    const CONFIRM: &'static str = "confirm_address";
    const DECLINE: &'static str = "decline_address_capture";
    const SPOKEN_FORMS: &'static str = "Postal codes are read digit by digit or letter by letter \
        (\"nine four one oh seven\", \"S W one A, one A A\"); street numbers may be said in \
        pairs (\"twenty-one fifteen\" for 2115).";

    fn rules(&self) -> Cow<'_, str> {
        Cow::Borrowed(
            "Collect the street address, any apartment or unit, the city or town, the state or \
             region where the country has them, the postal code, and the country. If the user \
             leaves out a part that is needed, ask for it; if they leave out the country and it \
             is clear from the rest, you may fill it in and read it back. When you read an \
             address back, read the postal code digit by digit.",
        )
    }

    fn read_back(&self, address: &AddressResult) -> String {
        let postal = match &address.postal_code {
            Some(code) => format!(
                ", reading the postal code digit by digit: \"{}\"",
                normalize::one_by_one(code)
            ),
            None => String::new(),
        };
        capture::read_back::<Self>(
            &format!("as \"{}\"{postal}", address.formatted()),
            "the same fields as recorded",
        )
    }

    fn recorded(&self, address: &AddressResult) -> String {
        format!("Recorded the address {}.", address.formatted())
    }

    fn describe(address: &AddressResult) -> String {
        address.formatted()
    }

    /// Letter case is not something the user can confirm by ear.
    fn same(a: &AddressResult, b: &AddressResult) -> bool {
        a.same_as(b)
    }
}

option_builders!(GetAddressTask, capture.options);

capture_tools! {
    GetAddressTask => AddressResult;
    args(
        street_address: String,
        unit_number: Option<String>,
        locality: String,
        region: Option<String>,
        postal_code: Option<String>,
        country: String,
    ) = check;
    update {
        /// Record the user's address as soon as you have a plausible reading of it. Call it again
        /// with each correction.
        ///
        /// # Arguments
        /// * `street_address` - House number and street, e.g. 123 Main Street
        /// * `unit_number` - Apartment, suite or unit, or null if none
        /// * `locality` - City, town or village
        /// * `region` - State, province or region, or null if the country has none
        /// * `postal_code` - Postal or ZIP code, or null if the country has none
        /// * `country` - Country name
        fn update_address;
    }
    confirm {
        /// Confirm the address after the user has heard it read back and agreed it is right.
        ///
        /// # Arguments
        /// * `street_address` - The confirmed street address
        /// * `unit_number` - The confirmed unit, or null
        /// * `locality` - The confirmed city or town
        /// * `region` - The confirmed region, or null
        /// * `postal_code` - The confirmed postal code, or null
        /// * `country` - The confirmed country
        fn confirm_address;
    }
    decline {
        /// Call this when the user will not or cannot give their address.
        fn decline_address_capture;
    }
}

/// Words that are not an address part.
const ADDRESS_PLACEHOLDERS: &[&str] = &["street", "address", "city", "town", "country", "state"];

/// The address from its fields as the task records it (trimmed; blank or placeholder optional
/// fields dropped; US ZIP and Canadian postal codes checked and normalised), or why it cannot be
/// recorded. Pure (no state or I/O); public so applications and property tests can check an
/// address the same way.
pub fn validate_address(
    street_address: &str,
    unit_number: Option<&str>,
    locality: &str,
    region: Option<&str>,
    postal_code: Option<&str>,
    country: &str,
) -> Result<AddressResult, String> {
    let street_address = required("street address", street_address)?;
    let locality = required("city or town", locality)?;
    let country = required("country", country)?;
    let unit_number = optional(unit_number);
    if let Some(unit) = &unit_number {
        if let Some(c) = unit
            .chars()
            .find(|c| !c.is_alphanumeric() && !" -#/.,".contains(*c))
        {
            return Err(format!(
                "the character `{c}` does not belong in a unit number"
            ));
        }
    }
    let region = match optional(region) {
        Some(r) if !r.chars().any(char::is_alphanumeric) => {
            return Err(format!("`{r}` is not a region"))
        }
        r => r,
    };
    let postal_code = match optional(postal_code) {
        Some(code) => Some(postal(&code, &country)?),
        None if is_us(&country) => return Err("a US address needs its ZIP code; ask for it".into()),
        None if is_canada(&country) => {
            return Err("a Canadian address needs its postal code; ask for it".into())
        }
        None => None,
    };
    Ok(AddressResult {
        street_address,
        unit_number,
        locality,
        region,
        postal_code,
        country,
    })
}

/// A required text field, trimmed, with letters.
fn required(label: &str, value: &str) -> Result<String, String> {
    let v = value.split_whitespace().collect::<Vec<_>>().join(" ");
    if v.is_empty() {
        return Err(format!("the {label} is missing"));
    }
    if normalize::is_placeholder(&v, ADDRESS_PLACEHOLDERS) {
        return Err(format!("`{v}` is a placeholder, not a {label}"));
    }
    if !v.chars().any(char::is_alphabetic) {
        return Err(format!("`{v}` has no letters, so it is not a {label}"));
    }
    Ok(v)
}

/// An optional text field: trimmed, and `None` when blank or a placeholder ("n/a").
fn optional(value: Option<&str>) -> Option<String> {
    let v = value?.split_whitespace().collect::<Vec<_>>().join(" ");
    (!normalize::is_placeholder(&v, &[])).then_some(v)
}

fn is_us(country: &str) -> bool {
    let c = country.to_lowercase().replace('.', "");
    matches!(
        c.trim(),
        "us" | "usa" | "united states" | "united states of america" | "america"
    )
}

fn is_canada(country: &str) -> bool {
    matches!(country.to_lowercase().trim(), "canada" | "ca")
}

/// The postal code, upper case, checked against the country's format where known. A code that
/// fails as given is tried again as spoken digits ("nine four one oh seven").
fn postal(raw: &str, country: &str) -> Result<String, String> {
    check_postal(raw, country).or_else(|reason| match normalize::spoken_digits(raw) {
        Some(digits) if digits != raw && !digits.starts_with('+') => {
            check_postal(&digits, country).map_err(|_| reason)
        }
        _ => Err(reason),
    })
}

fn check_postal(raw: &str, country: &str) -> Result<String, String> {
    let code = raw
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase();
    if let Some(c) = code
        .chars()
        .find(|c| !c.is_ascii_alphanumeric() && *c != ' ' && *c != '-')
    {
        return Err(format!(
            "the character `{c}` does not belong in a postal code"
        ));
    }
    let compact: String = code.chars().filter(char::is_ascii_alphanumeric).collect();
    if compact.len() < 2 {
        return Err(format!("`{code}` is too short to be a postal code"));
    }
    if compact.len() > 10 {
        return Err(format!("`{code}` is too long to be a postal code"));
    }
    if is_us(country) {
        let digits: String = code.chars().filter(|c| *c != ' ').collect();
        let (five, plus4) = match digits.split_once('-') {
            Some((a, b)) => (a.to_string(), Some(b.to_string())),
            None if digits.len() == 9 => (digits[..5].to_string(), Some(digits[5..].to_string())),
            None => (digits.clone(), None),
        };
        let all_digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        let ok = five.len() == 5
            && all_digits(&five)
            && plus4
                .as_deref()
                .is_none_or(|p| p.len() == 4 && all_digits(p));
        if !ok {
            return Err(format!(
                "`{code}` is not a US ZIP code, which has 5 digits (optionally a dash and 4 more)"
            ));
        }
        return Ok(match plus4 {
            Some(p) => format!("{five}-{p}"),
            None => five,
        });
    }
    if is_canada(country) {
        let b = compact.as_bytes();
        let ok = b.len() == 6
            && b.iter().enumerate().all(|(i, c)| {
                if i % 2 == 0 {
                    c.is_ascii_alphabetic()
                } else {
                    c.is_ascii_digit()
                }
            });
        if !ok {
            return Err(format!(
                "`{code}` is not a Canadian postal code, which looks like A1A 1A1"
            ));
        }
        return Ok(format!("{} {}", &compact[..3], &compact[3..]));
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(postal: Option<&str>, country: &str) -> Result<AddressResult, String> {
        validate_address(
            " 123  Main Street ",
            Some("Apt 4B"),
            "Springfield",
            Some("IL"),
            postal,
            country,
        )
    }

    #[test]
    fn addresses_are_cleaned_and_formatted() {
        let a = addr(Some("62701"), "United States").unwrap();
        assert_eq!(a.street_address, "123 Main Street");
        assert_eq!(
            a.formatted(),
            "123 Main Street, Apt 4B, Springfield, IL 62701, United States"
        );
        assert_eq!(
            addr(Some("627011234"), "USA")
                .unwrap()
                .postal_code
                .as_deref(),
            Some("62701-1234")
        );
        assert_eq!(
            addr(Some("six two seven oh one"), "U.S.")
                .unwrap()
                .postal_code
                .as_deref(),
            Some("62701")
        );
        assert_eq!(
            addr(Some("k1a0b1"), "Canada")
                .unwrap()
                .postal_code
                .as_deref(),
            Some("K1A 0B1")
        );
        assert_eq!(
            addr(Some("sw1a 1aa"), "United Kingdom")
                .unwrap()
                .postal_code
                .as_deref(),
            Some("SW1A 1AA")
        );
        let minimal = validate_address(
            "Rose Cottage",
            Some(""),
            "Little Snoring",
            Some("n/a"),
            None,
            "England",
        )
        .unwrap();
        assert_eq!(minimal.unit_number, None);
        assert_eq!(minimal.region, None);
        assert_eq!(minimal.formatted(), "Rose Cottage, Little Snoring, England");
    }

    #[test]
    fn bad_addresses_say_why() {
        let cases = [
            (addr(Some("6270"), "US"), "5 digits"),
            (addr(None, "United States"), "needs its ZIP code"),
            (addr(Some("123456"), "Canada"), "A1A 1A1"),
            (addr(None, "Canada"), "needs its postal code"),
            (addr(Some("12_34"), "France"), "`_`"),
            (addr(Some("1"), "France"), "too short"),
            (addr(Some("75001"), ""), "country is missing"),
            (addr(Some("75001"), "unknown"), "placeholder"),
        ];
        for (result, reason) in cases {
            let err = result.unwrap_err();
            assert!(err.contains(reason), "{reason}: {err}");
        }
        let err = validate_address("1234", None, "Paris", None, None, "France").unwrap_err();
        assert!(err.contains("no letters"), "{err}");
    }
}
