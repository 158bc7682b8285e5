//! The user agent core shared by the server and the call simulator: one rsipstack endpoint
//! on a UDP socket, its dialog layer, the routing of dialog events to calls, the RTP port
//! pool, and the bookkeeping that proves calls leave nothing behind.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rsipstack::dialog::dialog::{DialogState, DialogStateSender};
use rsipstack::dialog::dialog_layer::DialogLayer;
use rsipstack::sip::prelude::HeadersExt;
use rsipstack::sip::{Header, Method, StatusCode, Uri};
use rsipstack::transaction::transaction::Transaction;
use rsipstack::transaction::TransactionReceiver;
use rsipstack::transport::{udp::UdpConnection, TransportLayer};
use rsipstack::EndpointBuilder;
use tokio::sync::{mpsc, Notify};
use tokio_util::sync::CancellationToken;

use crate::error::SipError;
use crate::ports::RtpPortPool;

/// Methods we answer, for `Allow` headers.
pub(crate) const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, REFER, NOTIFY, INFO, UPDATE";

/// Counts live tasks of ours; the guard decrements on drop (also when a task panics).
#[derive(Debug, Default)]
pub(crate) struct TaskCounter {
    live: AtomicUsize,
}

/// Held by a running task.
pub(crate) struct TaskGuard(Arc<UaCore>);

impl Drop for TaskGuard {
    fn drop(&mut self) {
        self.0.tasks.live.fetch_sub(1, Ordering::SeqCst);
        self.0.changed.notify_waiters();
    }
}

/// Resources in use, for health checks and leak tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UaStats {
    /// Calls admitted and not yet ended (including ones still ringing).
    pub active_calls: usize,
    /// Call and handler tasks still running.
    pub live_tasks: usize,
    /// RTP ports leased.
    pub rtp_ports_in_use: usize,
    /// Dialogs the SIP stack still tracks.
    pub dialogs: usize,
}

pub(crate) struct UaCore {
    pub dialogs: Arc<DialogLayer>,
    pub state_tx: DialogStateSender,
    routes: Mutex<HashMap<String, mpsc::UnboundedSender<DialogState>>>,
    pub pool: Arc<RtpPortPool>,
    /// Address written in SDP and Contact.
    pub public_ip: IpAddr,
    pub sip_addr: SocketAddr,
    pub cancel: CancellationToken,
    active: AtomicUsize,
    tasks: TaskCounter,
    pub draining: AtomicBool,
    pub changed: Notify,
}

impl UaCore {
    /// Binds the SIP socket and starts the endpoint and the dialog-event router.
    pub async fn start(
        listen: SocketAddr,
        public_ip: Option<IpAddr>,
        rtp_ports: RangeInclusive<u16>,
    ) -> Result<(Arc<Self>, TransactionReceiver), SipError> {
        let public_ip = match public_ip {
            Some(ip) => ip,
            None if listen.ip().is_unspecified() => {
                return Err(SipError::Config(
                    "a public IP is required when listening on an unspecified address".into(),
                ))
            }
            None => listen.ip(),
        };
        let pool = RtpPortPool::new(listen.ip(), rtp_ports)?;
        let cancel = CancellationToken::new();
        let transport = TransportLayer::new(cancel.clone());
        let socket = crate::sip_socket::SipSocket::bind(listen)
            .await
            .map_err(|e| SipError::Config(format!("cannot listen on {listen}: {e}")))?;
        let conn = UdpConnection::from_socket(
            std::sync::Arc::new(socket),
            None,
            Some(cancel.child_token()),
        )
        .await
        .map_err(|e| SipError::Config(format!("cannot listen on {listen}: {e}")))?;
        let bound = conn.get_addr().get_socketaddr()?;
        transport.add_transport(conn.into());
        let endpoint = EndpointBuilder::new()
            .with_cancel_token(cancel.clone())
            .with_transport_layer(transport)
            .with_user_agent("agents-sip")
            .build();
        let incoming = endpoint.incoming_transactions()?;
        let inner = endpoint.inner.clone();
        let dialogs = Arc::new(DialogLayer::new(inner.clone()));
        let (state_tx, mut state_rx) = dialogs.new_dialog_state_channel();
        let core = Arc::new(UaCore {
            dialogs,
            state_tx,
            routes: Mutex::new(HashMap::new()),
            pool,
            public_ip,
            sip_addr: SocketAddr::new(public_ip, bound.port()),
            cancel: cancel.clone(),
            active: AtomicUsize::new(0),
            tasks: TaskCounter::default(),
            draining: AtomicBool::new(false),
            changed: Notify::new(),
        });
        tokio::spawn(async move { endpoint.serve().await });
        let weak = Arc::downgrade(&core);
        tokio::spawn(async move {
            while let Some(state) = state_rx.recv().await {
                let Some(core) = weak.upgrade() else { return };
                let call_id = state_call_id(&state).to_owned();
                let route = core.lock_routes().get(&call_id).cloned();
                if let Some(route) = route {
                    let _ = route.send(state);
                }
            }
        });
        Ok((core, incoming))
    }

    fn lock_routes(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, mpsc::UnboundedSender<DialogState>>> {
        self.routes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Routes the dialog events of `call_id` to the returned receiver.
    pub fn route(&self, call_id: &str) -> mpsc::UnboundedReceiver<DialogState> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.lock_routes().insert(call_id.to_owned(), tx);
        rx
    }

    pub fn unroute(&self, call_id: &str) {
        self.lock_routes().remove(call_id);
    }

    /// Our Contact URI.
    pub fn contact(&self, user: &str) -> Uri {
        let text = format!("sip:{user}@{}", self.sip_addr);
        Uri::try_from(text.as_str()).unwrap_or_default()
    }

    /// Takes a call slot unless draining or `max` calls are active.
    pub fn admit(&self, max: usize) -> bool {
        if self.draining.load(Ordering::SeqCst) {
            return false;
        }
        let mut cur = self.active.load(Ordering::SeqCst);
        loop {
            if cur >= max {
                return false;
            }
            match self
                .active
                .compare_exchange(cur, cur + 1, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => return true,
                Err(now) => cur = now,
            }
        }
    }

    /// Takes a call slot regardless of limits (outbound calls).
    pub fn admit_unchecked(&self) {
        self.active.fetch_add(1, Ordering::SeqCst);
    }

    /// Returns a call slot.
    pub fn release(&self) {
        self.active.fetch_sub(1, Ordering::SeqCst);
        self.changed.notify_waiters();
    }

    pub fn active_calls(&self) -> usize {
        self.active.load(Ordering::SeqCst)
    }

    /// Marks a task as running until the guard drops.
    pub fn task(self: &Arc<Self>) -> TaskGuard {
        self.tasks.live.fetch_add(1, Ordering::SeqCst);
        TaskGuard(self.clone())
    }

    pub fn stats(&self) -> UaStats {
        UaStats {
            active_calls: self.active_calls(),
            live_tasks: self.tasks.live.load(Ordering::SeqCst),
            rtp_ports_in_use: self.pool.in_use(),
            dialogs: self.dialogs.len(),
        }
    }

    /// Waits until no call is active and no call task runs.
    pub async fn idle(&self) {
        loop {
            let n = self.changed.notified();
            tokio::pin!(n);
            n.as_mut().enable();
            if self.active_calls() == 0 && self.tasks.live.load(Ordering::SeqCst) == 0 {
                return;
            }
            n.await;
        }
    }

    /// Handles a request that belongs to an existing dialog (BYE, re-INVITE, ACK, NOTIFY...),
    /// answering 481 when no dialog matches.
    pub fn dispatch_in_dialog(self: &Arc<Self>, mut tx: Transaction) {
        match self.dialogs.match_dialog(&tx) {
            Some(mut dialog) => {
                tokio::spawn(async move {
                    // A re-INVITE right behind the ACK can overtake it (they are handled on
                    // different tasks): let the ACK confirm the dialog first.
                    if tx.original.method == Method::Invite {
                        for _ in 0..25 {
                            if !matches!(dialog.state(), DialogState::WaitAck(..)) {
                                break;
                            }
                            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                        }
                    }
                    if let Err(e) = dialog.handle(&mut tx).await {
                        tracing::debug!(error = %e, "in-dialog request failed");
                    }
                });
            }
            None if tx.original.method == Method::Ack => {}
            None => {
                tokio::spawn(async move {
                    let _ = tx.reply(StatusCode::CallTransactionDoesNotExist).await;
                });
            }
        }
    }

    /// Stops the endpoint (the SIP socket closes).
    pub fn shutdown_endpoint(&self) {
        self.cancel.cancel();
    }
}

/// Whether a request carries a To tag (belongs to a dialog).
pub(crate) fn in_dialog(tx: &Transaction) -> bool {
    tx.original
        .to_header()
        .ok()
        .and_then(|t| t.tag().ok().flatten())
        .is_some()
}

/// Replies `status` with optional extra headers, in the background.
pub(crate) fn reply_later(mut tx: Transaction, status: u16, headers: Vec<Header>) {
    tokio::spawn(async move {
        let _ = tx.reply_with(StatusCode::from(status), headers, None).await;
    });
}

fn state_call_id(state: &DialogState) -> &str {
    let id = match state {
        DialogState::Calling(id)
        | DialogState::Trying(id)
        | DialogState::Early(id, _)
        | DialogState::WaitAck(id, _)
        | DialogState::Confirmed(id, _)
        | DialogState::Updated(id, _, _)
        | DialogState::Publish(id, _, _)
        | DialogState::Notify(id, _, _)
        | DialogState::Refer(id, _, _)
        | DialogState::Message(id, _, _)
        | DialogState::Info(id, _, _)
        | DialogState::Options(id, _, _)
        | DialogState::Terminated(id, _) => id,
    };
    &id.call_id
}
