//! Outbound calls (UAC): INVITE a SIP URI with our offer, wait for the answer (or give up
//! with CANCEL), then run the call like an inbound one.

use std::sync::Arc;
use std::time::Duration;

use rsipstack::dialog::invitation::InviteOption;
use rsipstack::sip::{Header, StatusCodeKind, Uri};
use tokio::sync::mpsc;

use crate::call::{self, Call, CallDirection, CallInfo, CallParts};
use crate::error::SipError;
use crate::media::{MediaOptions, MediaSession};
use crate::sdp::{build_offer, Direction, LocalMedia, SessionDescription};
use crate::server::INPUT_CAPACITY;
use crate::ua::UaCore;

/// Options for an outbound call.
#[derive(Debug, Clone)]
pub struct DialOptions {
    /// User part of our From URI.
    pub from_user: String,
    /// How long to let it ring before cancelling (no answer).
    pub ring_timeout: Duration,
    /// Detect in-band DTMF when the callee does not negotiate telephone-event.
    pub inband_dtmf: bool,
    /// Extra headers on the INVITE (e.g. `X-Account`), in order. A name must be a SIP token
    /// and a value one line; otherwise the call is not placed ([`SipError::Config`]).
    pub headers: Vec<(String, String)>,
}

impl Default for DialOptions {
    fn default() -> Self {
        DialOptions {
            from_user: "agent".into(),
            ring_timeout: Duration::from_secs(30),
            inband_dtmf: true,
            headers: Vec::new(),
        }
    }
}

/// Headers the stack writes on an INVITE (full and compact names): a second copy would
/// contradict it (a second Content-Length cuts the SDP off).
const STACK_HEADERS: [&str; 18] = [
    "Via",
    "v",
    "From",
    "f",
    "To",
    "t",
    "Call-ID",
    "i",
    "CSeq",
    "Contact",
    "m",
    "Content-Length",
    "l",
    "Content-Type",
    "c",
    "Max-Forwards",
    "Route",
    "Record-Route",
];

/// The extra INVITE headers, refused when one could break the message (a name that is not a
/// token, a value with a line break): such a header would inject other headers.
fn extra_headers(headers: &[(String, String)]) -> Result<Option<Vec<Header>>, SipError> {
    if headers.is_empty() {
        return Ok(None);
    }
    let token = |c: char| c.is_ascii_alphanumeric() || "-.!%*_+`'~".contains(c);
    headers
        .iter()
        .map(|(name, value)| {
            if name.is_empty() || !name.chars().all(token) {
                return Err(SipError::Config(format!(
                    "header name {name:?} is not a SIP token"
                )));
            }
            if STACK_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(name)) {
                return Err(SipError::Config(format!(
                    "header {name} is written by the SIP stack and cannot be given"
                )));
            }
            if value.chars().any(|c| c == '\r' || c == '\n' || c == '\0') {
                return Err(SipError::Config(format!(
                    "header {name} has a line break in its value"
                )));
            }
            Ok(Header::Other(name.clone(), value.trim().to_string()))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// Places a call to `target` (e.g. `sip:human@127.0.0.1:5070`). Errors:
/// [`SipError::Rejected`] with the callee's status (486 busy, 603 declined...),
/// [`SipError::Timeout`] when nobody answered within the ring timeout.
pub(crate) async fn dial(
    core: &Arc<UaCore>,
    target: &str,
    opts: DialOptions,
) -> Result<Call, SipError> {
    let callee = Uri::try_from(target)
        .map_err(|e| SipError::Config(format!("bad SIP URI {target:?}: {e}")))?;
    let headers = extra_headers(&opts.headers)?;
    let (socket, lease) = core.pool.bind()?;
    let local = LocalMedia {
        ip: core.public_ip,
        port: lease.port(),
        session_id: fastrand::u64(1..u64::MAX / 2),
        version: 1,
    };
    let offer = build_offer(&local, Direction::SendRecv);
    let call_id = format!("{:016x}@agents-sip", fastrand::u64(..));
    let caller = core.contact(&opts.from_user);
    let option = InviteOption {
        callee: callee.clone(),
        caller: caller.clone(),
        contact: caller.clone(),
        content_type: Some("application/sdp".into()),
        offer: Some(offer.into_bytes()),
        call_id: Some(call_id.clone()),
        headers,
        ..Default::default()
    };
    core.admit_unchecked();
    let states = core.route(&call_id);
    let fail = |e: SipError| {
        core.unroute(&call_id);
        core.release();
        e
    };
    let (dialog, pending) = core
        .dialogs
        .do_invite_async(option, core.state_tx.clone())
        .map_err(|e| fail(e.into()))?;
    let result = match tokio::time::timeout(opts.ring_timeout, pending).await {
        Ok(Ok(r)) => r.map_err(SipError::from),
        Ok(Err(join)) => Err(SipError::Stack(join.to_string())),
        Err(_) => {
            let _ = dialog.cancel().await;
            Err(SipError::Timeout("no answer"))
        }
    };
    let resp = match result {
        Ok((_, Some(resp))) => resp,
        Ok((_, None)) => return Err(fail(SipError::CallEnded)),
        Err(e) => return Err(fail(e)),
    };
    if resp.status_code.kind() != StatusCodeKind::Successful {
        return Err(fail(SipError::Rejected {
            status: resp.status_code.code(),
        }));
    }
    let negotiated =
        match SessionDescription::parse(&resp.body).and_then(|a| a.negotiated_from_answer()) {
            Ok(n) => n,
            Err(e) => {
                let _ = dialog.bye().await;
                core.dialogs.remove_dialog(&dialog.id());
                return Err(fail(e.into()));
            }
        };
    let (input_tx, input_rx) = mpsc::channel(INPUT_CAPACITY);
    let media_opts = MediaOptions {
        inband: opts
            .inband_dtmf
            .then(crate::server::inband_detector)
            .flatten(),
        record_send_timing: false,
    };
    let media = match MediaSession::start(
        socket,
        Some(lease),
        negotiated,
        input_tx.clone(),
        media_opts,
    ) {
        Ok(m) => Arc::new(m),
        Err(e) => {
            let _ = dialog.bye().await;
            core.dialogs.remove_dialog(&dialog.id());
            return Err(fail(e));
        }
    };
    let info = CallInfo {
        call_id,
        from: caller.to_string(),
        to: callee.to_string(),
        direction: CallDirection::Outbound,
    };
    let parts = CallParts {
        core: core.clone(),
        dialog,
        media,
        states,
        input_tx,
        local,
    };
    Ok(call::spawn_call(parts, info, input_rx))
}
