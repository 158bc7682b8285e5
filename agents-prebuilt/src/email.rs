//! `GetEmailTask`: collects an email address.

use crate::capture::{self, capture_tools, option_builders, Capture, CaptureState};
use crate::normalize;
use agents_core::prelude::*;
use serde::Serialize;
use std::borrow::Cow;

/// The address a [`GetEmailTask`] collected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EmailResult {
    /// The address, lowercase (mail providers ignore case, and speech has none).
    pub email_address: String,
}

/// Collects the user's email address: asks for it, checks its syntax, and (by default for voice)
/// reads it back character by character before completing.
///
/// Fails with [`CaptureDeclined`](crate::CaptureDeclined) when the user will not give one.
///
/// ```no_run
/// # use agents_core::prelude::*;
/// # use agents_prebuilt::GetEmailTask;
/// # async fn demo(ctx: &mut AgentContext<'_>) -> Result<()> {
/// let email = ctx.run_task(GetEmailTask::new()).await?.email_address;
/// # Ok(()) }
/// ```
#[agent_task(result = EmailResult)]
#[derive(Debug, Clone, Default)]
pub struct GetEmailTask {
    capture: CaptureState<EmailResult>,
}

impl GetEmailTask {
    /// A task with the default options: confirmation for voice input only.
    pub fn new() -> Self {
        Self::default()
    }

    fn check(&self, email: String) -> Result<EmailResult, ToolError> {
        let email_address = validate_email(&email).map_err(|reason| {
            ToolError::new(format!(
                "That is not a valid email address: {reason}. Ask the user to repeat or spell it."
            ))
        })?;
        Ok(EmailResult { email_address })
    }
}

impl Capture for GetEmailTask {
    const WHAT: &'static str = "email address";
    const UPDATE: &'static str = "update_email_address";
    const CONFIRM: &'static str = "confirm_email_address";
    const DECLINE: &'static str = "decline_email_capture";
    const SPOKEN_FORMS: &'static str = "Email addresses are said like \"john dot doe at gmail \
        dot com\": \"at\" is @, \"dot\" is a period, and \"underscore\", \"dash\" or \"hyphen\" \
        are _ and -. A word is often followed by its spelling (\"Doe, D O E\"): use the spelling. \
        Write the address in lowercase, without spaces.";

    fn rules(&self) -> Cow<'_, str> {
        Cow::Borrowed(
            "When you read an address back, go character by character, using the spelled-out \
             form the tool gives you.",
        )
    }

    fn read_back(&self, value: &EmailResult) -> String {
        let email = &value.email_address;
        capture::read_back::<Self>(
            &format!(
                "character by character, like this: \"{}\"",
                normalize::spell_out(email)
            ),
            &format!("email \"{email}\""),
        )
    }

    fn recorded(&self, value: &EmailResult) -> String {
        format!("Recorded the email address {}.", value.email_address)
    }

    fn describe(value: &EmailResult) -> String {
        value.email_address.clone()
    }
}

option_builders!(GetEmailTask, capture.options);

capture_tools! {
    GetEmailTask => EmailResult;
    args(email: String) = check;
    update {
        /// Record the email address the user gave, as soon as you have a plausible reading of it.
        /// Call it again with each correction.
        ///
        /// # Arguments
        /// * `email` - The email address in written form, e.g. john.doe@gmail.com
        fn update_email_address;
    }
    confirm {
        /// Confirm the email address after the user has heard it read back and agreed it is right.
        ///
        /// # Arguments
        /// * `email` - The email address the user confirmed, exactly as recorded
        fn confirm_email_address;
    }
    decline {
        /// Call this when the user will not or cannot give an email address.
        fn decline_email_capture;
    }
}

/// The address in canonical form, or why it is invalid. A value that fails as given is tried
/// again as spoken text ("john dot doe at gmail dot com").
/// Pure (no state or I/O); public so property tests can check it directly.
pub fn validate_email(raw: &str) -> Result<String, String> {
    check_email(raw).or_else(|reason| {
        let spoken = normalize::spoken_email(raw);
        check_email(&spoken).map_err(|_| reason)
    })
}

/// Characters allowed before the @ besides letters and digits (RFC 5322 `atext`, plus `.`).
const LOCAL_SYMBOLS: &str = "!#$%&'*+/=?^_`{|}~-.";

fn check_email(raw: &str) -> Result<String, String> {
    // Lowercase first: lowercasing can change characters (`İ` → `i` + a combining dot), and what
    // is checked must be what is returned.
    let lowered = raw.trim().to_lowercase();
    let s = lowered.as_str();
    let s = s.strip_prefix("mailto:").unwrap_or(s);
    let s = s.trim_start_matches('<').trim_end_matches('>');
    let s = s.trim_end_matches('.');
    if s.is_empty() {
        return Err("it is empty".into());
    }
    if s.chars().any(char::is_whitespace) {
        return Err("it contains spaces".into());
    }
    let (local, domain) = match s.matches('@').count() {
        0 => return Err("it has no @ sign".into()),
        1 => s.split_once('@').unwrap_or_default(),
        _ => return Err("it has more than one @ sign".into()),
    };
    if local.is_empty() {
        return Err("nothing comes before the @".into());
    }
    if local.chars().count() > 64 {
        return Err("the part before the @ is longer than 64 characters".into());
    }
    if let Some(c) = local
        .chars()
        .find(|c| !c.is_alphanumeric() && !LOCAL_SYMBOLS.contains(*c))
    {
        return Err(format!("the character `{c}` cannot appear before the @"));
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err(
            "the part before the @ cannot start or end with a dot, or have two dots in a row"
                .into(),
        );
    }
    if domain.is_empty() {
        return Err("nothing comes after the @".into());
    }
    let domain = domain.to_lowercase();
    if !domain.contains('.') {
        return Err(format!(
            "the domain `{domain}` has no dot; it needs an ending such as .com"
        ));
    }
    let labels: Vec<&str> = domain.split('.').collect();
    for label in &labels {
        if label.is_empty() {
            return Err(format!(
                "the domain `{domain}` has an empty part (a dot at the start or end, or two dots in a row)"
            ));
        }
        if label.chars().count() > 63 {
            return Err(format!(
                "the domain part `{label}` is longer than 63 characters"
            ));
        }
        if let Some(c) = label.chars().find(|c| !c.is_alphanumeric() && *c != '-') {
            return Err(format!("the character `{c}` cannot appear in the domain"));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!(
                "the domain part `{label}` cannot start or end with a dash"
            ));
        }
    }
    let tld = labels.last().copied().unwrap_or_default();
    let tld_ok = tld.starts_with("xn--")
        || (tld.chars().count() >= 2 && tld.chars().all(char::is_alphabetic));
    if !tld_ok {
        return Err(format!("`.{tld}` is not a valid domain ending"));
    }
    let address = format!("{}@{domain}", local.to_lowercase());
    if address.len() > 254 {
        return Err("it is longer than 254 characters".into());
    }
    Ok(address)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_addresses_are_canonical() {
        assert_eq!(
            validate_email(" John.Doe@GMail.com. ").as_deref(),
            Ok("john.doe@gmail.com")
        );
        assert_eq!(
            validate_email("mailto:<a+b_c@sub.example.co.uk>").as_deref(),
            Ok("a+b_c@sub.example.co.uk")
        );
        assert_eq!(
            validate_email("josé@exämple.de").as_deref(),
            Ok("josé@exämple.de")
        );
        assert_eq!(
            validate_email("x@xn--80ak6aa92e.xn--p1ai").as_deref(),
            Ok("x@xn--80ak6aa92e.xn--p1ai")
        );
    }

    #[test]
    fn spoken_addresses_fall_back_to_normalisation() {
        assert_eq!(
            validate_email("john dot doe at gmail dot com").as_deref(),
            Ok("john.doe@gmail.com")
        );
        assert_eq!(
            validate_email("j o h n at example dot org").as_deref(),
            Ok("john@example.org")
        );
    }

    #[test]
    fn invalid_addresses_say_why() {
        let cases = [
            ("", "empty"),
            ("john.doe.gmail.com", "no @"),
            ("a@b@c.com", "more than one @"),
            ("@gmail.com", "before the @"),
            ("john@", "after the @"),
            ("john@gmail", "has no dot"),
            ("john@gmail..com", "empty part"),
            ("john@-gmail.com", "dash"),
            ("john@gmail.c", "domain ending"),
            ("john@gmail.c0m", "domain ending"),
            ("jo(hn@gmail.com", "`(`"),
            (".john@gmail.com", "two dots"),
            ("john doe@gmail com", "spaces"),
            ("john@gm_ail.com", "`_`"),
        ];
        for (input, reason) in cases {
            let err = validate_email(input).unwrap_err();
            assert!(err.contains(reason), "{input:?}: {err}");
        }
        let long = format!("{}@x.com", "a".repeat(65));
        assert!(validate_email(&long).unwrap_err().contains("64"));
    }
}
