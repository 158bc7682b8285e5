//! From the transfer's dial request to a SIP call and back: where to send the INVITE, what
//! a failure means for the transfer (busy, no answer, failed), and digits after answer.

use std::time::Duration;

use agents_telephony::DialError;

use crate::call::CallControl;
use crate::error::SipError;

/// The pause a `w` in a digit string stands for.
const DTMF_PAUSE: Duration = Duration::from_millis(500);

/// The SIP URI to call for `to`: a `sip:`/`sips:` URI as given; a number or user name at
/// `trunk_host` when one is configured.
pub(crate) fn target_uri(to: &str, trunk_host: Option<&str>) -> Result<String, String> {
    let to = to.trim();
    if to.is_empty() {
        return Err("empty destination".into());
    }
    let lower = to.to_ascii_lowercase();
    if lower.starts_with("sip:") || lower.starts_with("sips:") {
        return Ok(to.to_string());
    }
    if to.contains(['@', ' ', '<', '>', ';']) {
        return Err(format!("{to:?} is neither a SIP URI nor a number"));
    }
    match trunk_host {
        Some(host) => Ok(format!("sip:{to}@{host}")),
        None => Err(format!(
            "{to:?} is not a SIP URI and no trunk host is configured to reach numbers"
        )),
    }
}

/// What a failed outbound call means for the transfer: 486 Busy Here and 600 Busy
/// Everywhere are busy, and so is 603 Decline (the person refused the ringing call;
/// `DialError` has no separate variant and the caller is told the same thing); 408, 480 and
/// 487, and our own ringing timeout (we CANCEL), are no answer; anything else fails with the
/// status.
pub(crate) fn dial_error(e: SipError) -> DialError {
    match e {
        SipError::Rejected {
            status: 486 | 600 | 603,
        } => DialError::Busy,
        SipError::Rejected {
            status: 408 | 480 | 487,
        }
        | SipError::Timeout(_) => DialError::NoAnswer,
        SipError::Rejected { status } => DialError::Failed {
            reason: format!("SIP {status}"),
        },
        other => DialError::Failed {
            reason: other.to_string(),
        },
    }
}

/// Sends `digits` on an answered call; each `w` waits half a second first.
pub(crate) async fn send_digits(control: &CallControl, digits: &str) -> Result<(), SipError> {
    let mut pending = String::new();
    for c in digits.chars() {
        if c.eq_ignore_ascii_case(&'w') {
            if !pending.is_empty() {
                control.send_dtmf(&std::mem::take(&mut pending))?;
            }
            tokio::time::sleep(DTMF_PAUSE).await;
        } else if !c.is_whitespace() {
            pending.push(c);
        }
    }
    if !pending.is_empty() {
        control.send_dtmf(&pending)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(
            target_uri("sip:sam@127.0.0.1:5070", None).unwrap(),
            "sip:sam@127.0.0.1:5070"
        );
        assert_eq!(
            target_uri("+15105550100", Some("trunk.example.com")).unwrap(),
            "sip:+15105550100@trunk.example.com"
        );
        assert!(target_uri("+15105550100", None)
            .unwrap_err()
            .contains("no trunk host"));
        assert!(target_uri("  ", Some("t")).is_err());
        assert!(target_uri("a@b", Some("t")).is_err());
    }

    #[test]
    fn sip_failures_map_to_dial_errors() {
        let rej = |status| dial_error(SipError::Rejected { status });
        assert_eq!(rej(486), DialError::Busy);
        assert_eq!(rej(600), DialError::Busy);
        assert_eq!(rej(603), DialError::Busy);
        assert_eq!(rej(480), DialError::NoAnswer);
        assert_eq!(rej(487), DialError::NoAnswer);
        assert_eq!(
            dial_error(SipError::Timeout("no answer")),
            DialError::NoAnswer
        );
        assert_eq!(
            rej(404),
            DialError::Failed {
                reason: "SIP 404".into()
            }
        );
        assert!(matches!(
            dial_error(SipError::NoRtpPort),
            DialError::Failed { .. }
        ));
    }
}
