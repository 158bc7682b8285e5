//! The SIP server other code plugs agents into: answers INVITEs (SDP offer/answer, RTP),
//! runs a handler per call, answers OPTIONS health checks, refuses calls beyond
//! `max_calls` or while draining with 503 + Retry-After, and drains on shutdown.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use rsipstack::dialog::dialog::DialogState;
use rsipstack::sip::prelude::HeadersExt;
use rsipstack::sip::{Header, Method, StatusCode};
use rsipstack::transaction::transaction::Transaction;
use rsipstack::transaction::TransactionReceiver;
use tokio::sync::mpsc;

use crate::call::{self, Call, CallDirection, CallInfo, CallParts};
use crate::error::SipError;
use crate::media::{MediaOptions, MediaSession};
use crate::outbound::{self, DialOptions};
use crate::sdp::{LocalMedia, SessionDescription};
use crate::ua::{in_dialog, reply_later, UaCore, UaStats, ALLOW};

/// Seconds a refused caller is told to wait (`Retry-After`).
pub const RETRY_AFTER_SECS: u32 = 5;
/// Capacity of a call's input channel (2 s of 20 ms frames).
pub const INPUT_CAPACITY: usize = 100;

/// Server configuration (the `sip` command line of the examples).
#[derive(Debug, Clone)]
pub struct SipConfig {
    /// SIP listen address (UDP).
    pub listen: SocketAddr,
    /// Local RTP ports, one per call.
    pub rtp_ports: RangeInclusive<u16>,
    /// Address written in SDP and Contact (default: the listen IP).
    pub public_ip: Option<IpAddr>,
    /// Calls served at once; more get 503.
    pub max_calls: usize,
    /// Ringing time before answering (180 Ringing is sent first when non-zero).
    pub answer_delay: Duration,
    /// Detect in-band DTMF tones when the caller did not negotiate telephone-event.
    pub inband_dtmf: bool,
    /// Keep each RTP send tick's lateness (see `MediaSession::send_timing`), for benchmarks.
    pub record_send_timing: bool,
    /// Run the process's RTP pacing threads at real-time priority (`SCHED_FIFO`, else a
    /// raised nice level) so a busy machine does not delay outgoing audio. Needs
    /// `CAP_SYS_NICE` (or root); without it a warning is logged and pacing runs as before.
    pub realtime_pacing: bool,
}

impl SipConfig {
    /// Defaults for `listen`: ports 20000-20999, 100 calls, immediate answer, in-band DTMF on.
    pub fn new(listen: SocketAddr) -> Self {
        SipConfig {
            listen,
            rtp_ports: 20000..=20999,
            public_ip: None,
            max_calls: 100,
            answer_delay: Duration::ZERO,
            inband_dtmf: true,
            record_send_timing: false,
            realtime_pacing: false,
        }
    }
}

/// A bound, not yet serving, SIP server.
pub struct SipServer {
    core: Arc<UaCore>,
    incoming: TransactionReceiver,
    config: SipConfig,
}

/// Controls a serving server from elsewhere (signal handlers, tests).
#[derive(Clone)]
pub struct ServerHandle {
    core: Arc<UaCore>,
}

impl ServerHandle {
    /// Starts draining: new calls and OPTIONS get 503; `serve` returns once calls in
    /// progress have ended.
    pub fn shutdown(&self) {
        self.core.draining.store(true, Ordering::SeqCst);
        self.core.changed.notify_waiters();
    }

    /// Starts draining on SIGTERM or Ctrl-C (what the `sip` command lines do).
    pub fn shutdown_on_signal(&self) {
        let handle = self.clone();
        tokio::spawn(async move {
            #[cfg(unix)]
            {
                use tokio::signal::unix::{signal, SignalKind};
                let Ok(mut term) = signal(SignalKind::terminate()) else {
                    return;
                };
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            #[cfg(not(unix))]
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("signal received: draining calls");
            handle.shutdown();
        });
    }

    /// Resources in use (calls, tasks, RTP ports).
    pub fn stats(&self) -> UaStats {
        self.core.stats()
    }

    /// Places an outbound call from this server's endpoint (campaigns, consult legs).
    pub async fn dial(&self, target: &str, opts: DialOptions) -> Result<Call, SipError> {
        outbound::dial(&self.core, target, opts).await
    }
}

impl SipServer {
    /// Binds the SIP socket and prepares the RTP port pool.
    pub async fn bind(config: SipConfig) -> Result<Self, SipError> {
        if config.max_calls == 0 {
            return Err(SipError::Config("max_calls must be at least 1".into()));
        }
        let (core, incoming) =
            UaCore::start(config.listen, config.public_ip, config.rtp_ports.clone()).await?;
        if config.realtime_pacing {
            crate::pacer::request_realtime();
        }
        Ok(SipServer {
            core,
            incoming,
            config,
        })
    }

    /// The SIP address peers reach us at.
    pub fn local_addr(&self) -> SocketAddr {
        self.core.sip_addr
    }

    /// A handle for shutdown, stats and outbound calls.
    pub fn handle(&self) -> ServerHandle {
        ServerHandle {
            core: self.core.clone(),
        }
    }

    /// Serves calls, running `handler` on each, until [`ServerHandle::shutdown`] was called
    /// and every call ended. When a handler returns, its call is hung up.
    pub async fn serve<H, F>(mut self, handler: H) -> Result<(), SipError>
    where
        H: Fn(Call) -> F + Send + Sync + 'static,
        F: Future<Output = ()> + Send + 'static,
    {
        let handler = Arc::new(handler);
        let config = Arc::new(self.config.clone());
        loop {
            let notified = self.core.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let draining = self.core.draining.load(Ordering::SeqCst);
            tokio::select! {
                tx = self.incoming.recv() => match tx {
                    Some(tx) => self.dispatch(tx, &handler, &config),
                    None => break,
                },
                _ = self.core.idle(), if draining => break,
                _ = &mut notified, if !draining => {}
            }
        }
        self.core.shutdown_endpoint();
        Ok(())
    }

    fn dispatch<H, F>(&self, tx: Transaction, handler: &Arc<H>, config: &Arc<SipConfig>)
    where
        H: Fn(Call) -> F + Send + Sync + 'static,
        F: Future<Output = ()> + Send + 'static,
    {
        let core = &self.core;
        let unavailable = || vec![Header::RetryAfter(RETRY_AFTER_SECS.to_string().into())];
        match tx.original.method {
            _ if in_dialog(&tx) && call::is_in_dialog_method(&tx.original.method) => {
                core.dispatch_in_dialog(tx)
            }
            Method::Invite => {
                if !core.admit(config.max_calls) {
                    reply_later(tx, 503, unavailable());
                    return;
                }
                let (core, handler, config) = (core.clone(), handler.clone(), config.clone());
                tokio::spawn(async move {
                    answer_invite(core, tx, handler, config).await;
                });
            }
            Method::Options => {
                let full =
                    core.draining.load(Ordering::SeqCst) || core.active_calls() >= config.max_calls;
                if full {
                    reply_later(tx, 503, unavailable());
                } else {
                    let headers = vec![
                        Header::Allow(ALLOW.into()),
                        Header::Accept("application/sdp".into()),
                    ];
                    reply_later(tx, 200, headers);
                }
            }
            Method::Ack => {}
            Method::Bye | Method::Cancel | Method::Notify | Method::Info | Method::Update => {
                reply_later(tx, 481, vec![])
            }
            _ => reply_later(tx, 405, vec![Header::Allow(ALLOW.into())]),
        }
    }
}

/// Why an INVITE could not be answered: the status to send.
fn check_offer(req: &rsipstack::sip::Request) -> Result<SessionDescription, u16> {
    if req.contact_header().is_err() {
        return Err(400);
    }
    if req.body.is_empty() {
        // An INVITE without an offer would need the offer in our 200 and the answer in the
        // ACK; trunks and PBXs send offers, so this is refused.
        return Err(488);
    }
    if !call::is_sdp(req) {
        return Err(415);
    }
    SessionDescription::parse(&req.body).map_err(|e| e.sip_status())
}

async fn answer_invite<H, F>(
    core: Arc<UaCore>,
    mut tx: Transaction,
    handler: Arc<H>,
    config: Arc<SipConfig>,
) where
    H: Fn(Call) -> F + Send + Sync + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    let guard = core.task();
    let offer = match check_offer(&tx.original) {
        Ok(o) => o,
        Err(status) => {
            refuse(&mut tx, status).await;
            core.release();
            return;
        }
    };
    let (socket, lease) = match core.pool.bind() {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(error = %e, "no RTP port for a new call");
            let _ = tx
                .reply_with(
                    StatusCode::ServiceUnavailable,
                    vec![Header::RetryAfter(RETRY_AFTER_SECS.to_string().into())],
                    None,
                )
                .await;
            core.release();
            return;
        }
    };
    let local = LocalMedia {
        ip: core.public_ip,
        port: lease.port(),
        session_id: fastrand::u64(1..u64::MAX / 2),
        version: 1,
    };
    let (negotiated, answer) = match offer.answer(&local) {
        Ok(v) => v,
        Err(e) => {
            tracing::info!(error = %e, "refusing offer");
            refuse(&mut tx, e.sip_status()).await;
            core.release();
            return;
        }
    };
    let call_id = tx
        .original
        .call_id_header()
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    let info = CallInfo {
        call_id: call_id.clone(),
        from: tx
            .original
            .from_header()
            .map(|h| h.value().to_owned())
            .unwrap_or_default(),
        to: tx
            .original
            .to_header()
            .map(|h| h.value().to_owned())
            .unwrap_or_default(),
        direction: CallDirection::Inbound,
    };
    let mut states = core.route(&call_id);
    let dialog = match core.dialogs.get_or_create_server_invite(
        &tx,
        core.state_tx.clone(),
        None,
        Some(core.contact("agent")),
    ) {
        Ok(d) => d,
        Err(e) => {
            tracing::info!(error = %e, "bad INVITE");
            core.unroute(&call_id);
            refuse(&mut tx, 400).await;
            core.release();
            return;
        }
    };
    // The INVITE transaction (100 Trying, ACK, CANCEL) runs on its own.
    let mut driver = dialog.clone();
    tokio::spawn(async move {
        let _ = driver.handle(&mut tx).await;
    });
    if !config.answer_delay.is_zero() {
        let _ = dialog.ringing(None, None);
        let ring = tokio::time::sleep(config.answer_delay);
        tokio::pin!(ring);
        loop {
            tokio::select! {
                _ = &mut ring => break,
                st = states.recv() => match st {
                    None | Some(DialogState::Terminated(..)) => {
                        tracing::debug!(%call_id, "caller cancelled before answer");
                        core.dialogs.remove_dialog(&dialog.id());
                        core.unroute(&call_id);
                        core.release();
                        return;
                    }
                    Some(_) => {}
                }
            }
        }
    }
    let (input_tx, input_rx) = mpsc::channel(INPUT_CAPACITY);
    let opts = MediaOptions {
        inband: config.inband_dtmf.then(inband_detector).flatten(),
        record_send_timing: config.record_send_timing,
    };
    let media = match MediaSession::start(socket, Some(lease), negotiated, input_tx.clone(), opts) {
        Ok(m) => Arc::new(m),
        Err(e) => {
            tracing::warn!(error = %e, "cannot start media");
            let _ = dialog.reject(Some(StatusCode::ServerInternalError), None);
            core.dialogs.remove_dialog(&dialog.id());
            core.unroute(&call_id);
            core.release();
            return;
        }
    };
    if let Err(e) = dialog.accept(
        Some(vec![Header::ContentType("application/sdp".into())]),
        Some(answer.into_bytes()),
    ) {
        tracing::warn!(error = %e, "cannot answer");
    }
    // The handler starts once the ACK confirmed the dialog (in-dialog requests such as
    // REFER need it); early RTP waits in the input channel meanwhile.
    let confirmed = tokio::time::timeout(Duration::from_secs(32), async {
        loop {
            match states.recv().await {
                Some(DialogState::Confirmed(..)) => return true,
                None | Some(DialogState::Terminated(..)) => return false,
                Some(_) => {}
            }
        }
    })
    .await
    .unwrap_or(false);
    if !confirmed {
        tracing::info!(%call_id, "call ended before the ACK");
        media.stop().await;
        core.dialogs.remove_dialog(&dialog.id());
        core.unroute(&call_id);
        core.release();
        return;
    }
    let parts = CallParts {
        core: core.clone(),
        dialog,
        media,
        states,
        input_tx,
        local,
    };
    let call = call::spawn_call(parts, info, input_rx);
    let control = call.control();
    let handler_guard = core.task();
    tokio::spawn(async move {
        let _g = handler_guard;
        // Run the handler on its own task so a panic in it still hangs the call up.
        if let Err(e) = tokio::spawn(handler(call)).await {
            tracing::warn!(error = %e, "call handler failed");
        }
        control.hangup().await;
    });
    drop(guard);
}

async fn refuse(tx: &mut Transaction, status: u16) {
    let _ = tx.reply(StatusCode::from(status)).await;
}

/// The in-band detector from agents-telephony, as a media callback.
pub(crate) fn inband_detector() -> Option<crate::media::InbandDetector> {
    let mut det = agents_telephony::DtmfDetector::new(8000).ok()?;
    Some(Box::new(move |pcm: &[i16]| {
        det.push(pcm).into_iter().map(|k| k.as_char()).collect()
    }))
}
