//! A call in progress, as handlers see it ([`Call`], [`CallControl`]), and the task that runs
//! its dialog: re-INVITEs (hold/resume), in-dialog requests, BYE either way, REFER.

use std::sync::Arc;
use std::time::Duration;

use rsipstack::dialog::dialog::DialogState;
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::sip::{Header, Method, StatusCode, StatusCodeKind, Uri};
use tokio::sync::{mpsc, oneshot, watch};

use crate::audio::InputEvent;
use crate::error::SipError;
use crate::media::MediaSession;
use crate::playout::CallOutput;
use crate::sdp::{LocalMedia, SessionDescription};
use crate::ua::UaCore;

/// How long a REFER may take to report its outcome (NOTIFY with a final status).
const REFER_TIMEOUT: Duration = Duration::from_secs(32);

/// Who placed the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallDirection {
    /// The peer called us.
    Inbound,
    /// We called the peer.
    Outbound,
}

/// Identity of a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallInfo {
    /// The SIP Call-ID (names the call's transcript).
    pub call_id: String,
    /// The From header as received or sent.
    pub from: String,
    /// The To header as received or sent.
    pub to: String,
    /// Inbound or outbound.
    pub direction: CallDirection,
}

pub(crate) enum Command {
    Hangup,
    Refer(String, oneshot::Sender<Result<(), SipError>>),
    Hold(bool, oneshot::Sender<Result<(), SipError>>),
}

/// Controls a call from any task: hang up, send digits, transfer.
#[derive(Clone)]
pub struct CallControl {
    cmd: mpsc::Sender<Command>,
    media: Arc<MediaSession>,
    ended: watch::Receiver<bool>,
    /// Set as soon as either side ended the call, before its input reports `Hangup` and
    /// before teardown finishes (`ended` waits for that).
    over: Arc<std::sync::atomic::AtomicBool>,
}

impl CallControl {
    /// Hangs up (BYE) and waits until the call is torn down. No-op when already ended.
    pub async fn hangup(&self) {
        let _ = self.cmd.send(Command::Hangup).await;
        self.ended().await;
    }

    /// Sends keypad digits to the peer as RFC 4733 events (for navigating an IVR).
    pub fn send_dtmf(&self, digits: &str) -> Result<(), SipError> {
        if self.is_ended() {
            return Err(SipError::CallEnded);
        }
        self.media.send_dtmf(digits)
    }

    /// Blind transfer: REFER the peer to `target` (a SIP URI). Resolves when the peer
    /// reports the transfer's outcome; on success the call is then hung up.
    pub async fn refer(&self, target: &str) -> Result<(), SipError> {
        let (tx, rx) = oneshot::channel();
        self.cmd
            .send(Command::Refer(target.to_owned(), tx))
            .await
            .map_err(|_| SipError::CallEnded)?;
        rx.await.map_err(|_| SipError::CallEnded)?
    }

    /// Puts the peer on hold (re-INVITE with `a=sendonly`: we may keep sending hold audio,
    /// the peer stops sending) or resumes the call (`a=sendrecv`).
    pub async fn hold(&self, on_hold: bool) -> Result<(), SipError> {
        let (tx, rx) = oneshot::channel();
        self.cmd
            .send(Command::Hold(on_hold, tx))
            .await
            .map_err(|_| SipError::CallEnded)?;
        rx.await.map_err(|_| SipError::CallEnded)?
    }

    /// Whether the call is over (either side hung up). True before the call's input yields
    /// `Hangup`, so a reader of that input can tell whose hang-up it was.
    pub fn is_ended(&self) -> bool {
        self.over.load(std::sync::atomic::Ordering::SeqCst) || *self.ended.borrow()
    }

    /// Resolves when the call is over (either side hung up).
    pub async fn ended(&self) {
        let mut rx = self.ended.clone();
        let _ = rx.wait_for(|e| *e).await;
    }

    /// The call's media (counters, negotiated codec).
    pub fn media(&self) -> &MediaSession {
        &self.media
    }
}

/// A call handed to a handler: identity, the caller's audio and digits, the agent's voice,
/// and controls.
pub struct Call {
    info: CallInfo,
    input: Option<mpsc::Receiver<InputEvent>>,
    output: CallOutput,
    control: CallControl,
}

impl Call {
    /// Identity of the call.
    pub fn info(&self) -> &CallInfo {
        &self.info
    }

    /// The caller's input: 20 ms 8 kHz mono audio frames, digits, and `Hangup` at the end.
    /// Can be taken once.
    pub fn take_input(&mut self) -> Option<mpsc::Receiver<InputEvent>> {
        self.input.take()
    }

    /// Gives back an input taken with [`take_input`](Self::take_input), so the next
    /// consumer (e.g. [`crate::bridge::bridge`]) can take it. Fails when the call already
    /// holds an input.
    pub fn restore_input(&mut self, input: mpsc::Receiver<InputEvent>) -> Result<(), SipError> {
        if self.input.is_some() {
            return Err(SipError::Config("the call's input was not taken".into()));
        }
        self.input = Some(input);
        Ok(())
    }

    /// The agent's voice: 8 kHz mono PCM in, paced RTP out.
    pub fn output(&self) -> CallOutput {
        self.output.clone()
    }

    /// A cloneable control handle.
    pub fn control(&self) -> CallControl {
        self.control.clone()
    }

    /// Hangs up.
    pub async fn hangup(&self) {
        self.control.hangup().await
    }

    /// Sends RFC 4733 digits.
    pub fn send_dtmf(&self, digits: &str) -> Result<(), SipError> {
        self.control.send_dtmf(digits)
    }

    /// Blind transfer via REFER.
    pub async fn refer(&self, target: &str) -> Result<(), SipError> {
        self.control.refer(target).await
    }
}

/// Everything the call task owns.
pub(crate) struct CallParts {
    pub core: Arc<UaCore>,
    pub dialog: InviteDialog,
    pub media: Arc<MediaSession>,
    pub states: mpsc::UnboundedReceiver<DialogState>,
    pub input_tx: mpsc::Sender<InputEvent>,
    pub local: LocalMedia,
}

/// Builds the handler's [`Call`] and spawns the task running its dialog.
pub(crate) fn spawn_call(
    parts: CallParts,
    info: CallInfo,
    input_rx: mpsc::Receiver<InputEvent>,
) -> Call {
    let (cmd_tx, cmd_rx) = mpsc::channel(8);
    let (ended_tx, ended_rx) = watch::channel(false);
    let over = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let control = CallControl {
        cmd: cmd_tx,
        media: parts.media.clone(),
        ended: ended_rx,
        over: over.clone(),
    };
    let call = Call {
        info: info.clone(),
        input: Some(input_rx),
        output: parts.media.output(),
        control,
    };
    let guard = parts.core.task();
    tokio::spawn(async move {
        let _guard = guard;
        run_call(parts, info, cmd_rx, ended_tx, over).await;
    });
    call
}

fn sdp_headers() -> Vec<Header> {
    vec![Header::ContentType("application/sdp".into())]
}

async fn run_call(
    mut p: CallParts,
    info: CallInfo,
    mut cmds: mpsc::Receiver<Command>,
    ended_tx: watch::Sender<bool>,
    over: Arc<std::sync::atomic::AtomicBool>,
) {
    let mut pending_refer: Option<(oneshot::Sender<Result<(), SipError>>, tokio::time::Instant)> =
        None;
    let mut hang_up = false;
    loop {
        let deadline = pending_refer.as_ref().map(|(_, d)| *d);
        tokio::select! {
            st = p.states.recv() => match st {
                None | Some(DialogState::Terminated(..)) => break,
                Some(DialogState::Updated(_, req, handle)) => {
                    let (status, body) = answer_update(&mut p, &req.body);
                    let headers = body.as_ref().map(|_| sdp_headers());
                    let _ = handle.respond(StatusCode::from(status), headers, body).await;
                }
                Some(DialogState::Notify(_, req, handle)) => {
                    let _ = handle.reply(StatusCode::OK).await;
                    if let Some((code, terminated)) = refer_progress(&req) {
                        if code >= 200 || terminated {
                            if let Some((reply, _)) = pending_refer.take() {
                                let ok = (200..300).contains(&code);
                                let _ = reply.send(if ok { Ok(()) } else {
                                    Err(SipError::Rejected { status: code })
                                });
                                if ok {
                                    hang_up = true;
                                    break;
                                }
                            }
                        }
                    }
                }
                Some(DialogState::Refer(_, _, handle)) => {
                    // Transfers requested by the peer are not supported.
                    let _ = handle.reply(StatusCode::Decline).await;
                }
                Some(DialogState::Options(_, _, h))
                | Some(DialogState::Info(_, _, h))
                | Some(DialogState::Message(_, _, h)) => {
                    let _ = h.reply(StatusCode::OK).await;
                }
                Some(_) => {}
            },
            cmd = cmds.recv() => match cmd {
                None | Some(Command::Hangup) => { hang_up = true; break }
                Some(Command::Hold(on, reply)) => {
                    let _ = reply.send(reinvite(&mut p, on).await);
                }
                Some(Command::Refer(target, reply)) => {
                    match start_refer(&p.dialog, &target).await {
                        Ok(()) => pending_refer = Some((reply, tokio::time::Instant::now() + REFER_TIMEOUT)),
                        Err(e) => { let _ = reply.send(Err(e)); }
                    }
                }
            },
            _ = sleep_until_opt(deadline) => {
                if let Some((reply, _)) = pending_refer.take() {
                    let _ = reply.send(Err(SipError::Timeout("REFER outcome")));
                }
            }
        }
    }
    if hang_up {
        if let Err(e) = p.dialog.bye().await {
            tracing::debug!(call_id = %info.call_id, error = %e, "BYE failed");
        }
    }
    if let Some((reply, _)) = pending_refer.take() {
        let _ = reply.send(Err(SipError::CallEnded));
    }
    over.store(true, std::sync::atomic::Ordering::SeqCst);
    let _ = tokio::time::timeout(Duration::from_secs(1), p.input_tx.send(InputEvent::Hangup)).await;
    p.media.stop().await;
    p.core.dialogs.remove_dialog(&p.dialog.id());
    p.core.unroute(&info.call_id);
    p.core.release();
    let _ = ended_tx.send(true);
    tracing::debug!(call_id = %info.call_id, "call ended");
}

async fn sleep_until_opt(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Sends a re-INVITE putting the peer on hold or back, and applies the answer.
async fn reinvite(p: &mut CallParts, hold: bool) -> Result<(), SipError> {
    p.local.version += 1;
    let dir = if hold {
        crate::sdp::Direction::SendOnly
    } else {
        crate::sdp::Direction::SendRecv
    };
    let offer = crate::sdp::build_offer(&p.local, dir).into_bytes();
    let resp = p
        .dialog
        .reinvite(Some(sdp_headers()), Some(offer))
        .await?
        .ok_or(SipError::CallEnded)?;
    if resp.status_code.kind() != StatusCodeKind::Successful {
        return Err(SipError::Rejected {
            status: resp.status_code.code(),
        });
    }
    let neg = SessionDescription::parse(&resp.body)?.negotiated_from_answer()?;
    p.media.update(neg);
    Ok(())
}

async fn start_refer(dialog: &InviteDialog, target: &str) -> Result<(), SipError> {
    let uri = Uri::try_from(target)
        .map_err(|e| SipError::Config(format!("bad transfer target {target:?}: {e}")))?;
    let resp = dialog.refer(uri, None, None).await?;
    match resp {
        Some(r) if r.status_code.kind() == StatusCodeKind::Successful => Ok(()),
        Some(r) => Err(SipError::Rejected {
            status: r.status_code.code(),
        }),
        None => Err(SipError::CallEnded),
    }
}

/// Answers a re-INVITE or UPDATE: a new offer updates the media (hold/resume/new address);
/// an offerless one gets our current description.
fn answer_update(p: &mut CallParts, body: &[u8]) -> (u16, Option<Vec<u8>>) {
    p.local.version += 1;
    if body.is_empty() {
        let dir = p.media.negotiated().local_direction;
        return (
            200,
            Some(crate::sdp::build_offer(&p.local, dir).into_bytes()),
        );
    }
    match SessionDescription::parse(body).and_then(|o| o.answer(&p.local)) {
        Ok((neg, answer)) => {
            p.media.update(neg);
            (200, Some(answer.into_bytes()))
        }
        Err(e) => (e.sip_status(), None),
    }
}

/// A REFER progress NOTIFY (RFC 3515): the sipfrag's status code and whether the implicit
/// subscription ended. `None` for other NOTIFYs or a body without a status line.
fn refer_progress(req: &rsipstack::sip::Request) -> Option<(u16, bool)> {
    use rsipstack::sip::prelude::HasHeaders;
    let value_of = |names: &[&str]| {
        req.headers()
            .iter()
            .find(|h| names.iter().any(|n| h.name().eq_ignore_ascii_case(n)))
            .map(|h| h.value().to_ascii_lowercase())
    };
    let event = value_of(&["Event", "o"])?;
    if !event.trim_start().starts_with("refer") {
        return None;
    }
    let terminated = value_of(&["Subscription-State"]).is_some_and(|s| s.contains("terminated"));
    let body = std::str::from_utf8(&req.body).ok()?;
    let line = body.lines().find(|l| l.starts_with("SIP/2.0 "))?;
    let code: u16 = line.split_whitespace().nth(1)?.parse().ok()?;
    (100..700).contains(&code).then_some((code, terminated))
}

/// Whether a request's Content-Type is SDP (absent counts as SDP when there is a body).
pub(crate) fn is_sdp(req: &rsipstack::sip::Request) -> bool {
    use rsipstack::sip::prelude::HasHeaders;
    req.headers()
        .iter()
        .find_map(|h| match h {
            Header::ContentType(ct) => Some(
                ct.value()
                    .split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .eq_ignore_ascii_case("application/sdp"),
            ),
            _ => None,
        })
        .unwrap_or(true)
}

/// Whether `method` is handled inside a dialog.
pub(crate) fn is_in_dialog_method(method: &Method) -> bool {
    matches!(
        method,
        Method::Bye
            | Method::Ack
            | Method::Cancel
            | Method::Info
            | Method::Notify
            | Method::Refer
            | Method::Update
            | Method::Message
            | Method::PRack
            | Method::Options
            | Method::Invite
    )
}
