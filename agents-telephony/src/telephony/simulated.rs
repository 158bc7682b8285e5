//! An in-memory phone system: scripted dial outcomes and human lines, and a record of every call
//! it receives so tests can assert the exact steps of a transfer.

use super::{CallLeg, DialError, DialRequest, Telephony, TelephonyError, TelephonyFuture};
use futures::future::BoxFuture;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// What happens when [`SimulatedTelephony`] dials: scripted per call, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DialOutcome {
    /// Answered after `after`; the person then says `lines`, one per
    /// [`next_utterance`](Telephony::next_utterance), and hangs up when they run out. If `after`
    /// exceeds the request's ringing timeout, the call rings out with [`DialError::NoAnswer`].
    Answer {
        /// Ringing time before the answer.
        after: Duration,
        /// What the person says, in order.
        lines: Vec<String>,
    },
    /// The line is busy.
    Busy,
    /// Nobody answers: rings for the whole ringing timeout, then [`DialError::NoAnswer`].
    NoAnswer,
    /// The call fails at once with this reason.
    Fail {
        /// Reason reported in [`DialError::Failed`].
        reason: String,
    },
    /// A voicemail box answers at once and plays `greeting`, then stays silent.
    Voicemail {
        /// The greeting, the only line of the leg.
        greeting: String,
    },
}

impl DialOutcome {
    /// Answered at once; the person says `lines`.
    pub fn answers<S: Into<String>>(lines: impl IntoIterator<Item = S>) -> Self {
        DialOutcome::Answer {
            after: Duration::ZERO,
            lines: lines.into_iter().map(Into::into).collect(),
        }
    }

    /// Answered after ringing for `after`; the person says `lines`.
    pub fn answers_after<S: Into<String>>(
        after: Duration,
        lines: impl IntoIterator<Item = S>,
    ) -> Self {
        DialOutcome::Answer {
            after,
            lines: lines.into_iter().map(Into::into).collect(),
        }
    }

    /// A voicemail box that plays `greeting`.
    pub fn voicemail(greeting: impl Into<String>) -> Self {
        DialOutcome::Voicemail {
            greeting: greeting.into(),
        }
    }

    /// A failure with `reason`.
    pub fn fail(reason: impl Into<String>) -> Self {
        DialOutcome::Fail {
            reason: reason.into(),
        }
    }
}

/// One call [`SimulatedTelephony`] received, in the order received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TelephonyCall {
    /// [`Telephony::hold`].
    Hold {
        /// The leg put on hold.
        leg: CallLeg,
        /// The hold audio asked for.
        audio: String,
    },
    /// [`Telephony::unhold`].
    Unhold {
        /// The leg taken off hold.
        leg: CallLeg,
    },
    /// [`Telephony::dial`].
    Dial {
        /// The request as received.
        request: DialRequest,
    },
    /// [`Telephony::say`].
    Say {
        /// The leg spoken to.
        leg: CallLeg,
        /// What was said.
        text: String,
    },
    /// [`Telephony::next_utterance`].
    Listen {
        /// The leg listened to.
        leg: CallLeg,
    },
    /// [`Telephony::bridge`].
    Bridge {
        /// The leg moved.
        leg: CallLeg,
        /// The leg it was connected to.
        to: CallLeg,
    },
    /// [`Telephony::hang_up`].
    HangUp {
        /// The leg ended.
        leg: CallLeg,
    },
    /// [`Telephony::cold_transfer`].
    ColdTransfer {
        /// The leg transferred.
        leg: CallLeg,
        /// Where to.
        to: String,
    },
}

impl TelephonyCall {
    /// A short label (`"hold caller"`, `"dial +1555"`, `"bridge human_agent -> caller"`), for
    /// asserting a sequence of steps in one line.
    pub fn label(&self) -> String {
        match self {
            TelephonyCall::Hold { leg, .. } => format!("hold {}", leg.identity),
            TelephonyCall::Unhold { leg } => format!("unhold {}", leg.identity),
            TelephonyCall::Dial { request } => format!("dial {}", request.to),
            TelephonyCall::Say { leg, .. } => format!("say {}", leg.identity),
            TelephonyCall::Listen { leg } => format!("listen {}", leg.identity),
            TelephonyCall::Bridge { leg, to } => {
                format!("bridge {} -> {}", leg.identity, to.identity)
            }
            TelephonyCall::HangUp { leg } => format!("hang_up {}", leg.identity),
            TelephonyCall::ColdTransfer { leg, to } => {
                format!("cold_transfer {} -> {to}", leg.identity)
            }
        }
    }
}

#[derive(Debug)]
struct Leg {
    current: CallLeg,
    lines: VecDeque<String>,
    up: bool,
}

#[derive(Debug)]
struct State {
    caller: CallLeg,
    agent: CallLeg,
    outcomes: VecDeque<DialOutcome>,
    calls: Vec<TelephonyCall>,
    /// Dialed legs by identity.
    legs: HashMap<String, Leg>,
    on_hold: HashSet<String>,
}

/// An in-memory [`Telephony`] for tests and console demos.
///
/// Cloneable (clones share state), so a test keeps one clone to inspect while the task holds
/// another. Each `dial` takes the next scripted [`DialOutcome`]; a dial with none left fails.
/// Every method call is recorded, in order, as a [`TelephonyCall`].
///
/// ```
/// use agents_telephony::{DialOutcome, SimulatedTelephony, Telephony};
///
/// let tel = SimulatedTelephony::new()
///     .with_outcome(DialOutcome::answers(["Hi, this is Sam.", "Sure, put them through."]));
/// assert_eq!(tel.caller().identity, "caller");
/// ```
#[derive(Debug, Clone)]
pub struct SimulatedTelephony {
    state: Arc<Mutex<State>>,
}

impl Default for SimulatedTelephony {
    fn default() -> Self {
        Self::new()
    }
}

impl SimulatedTelephony {
    /// A call in room `call` between `caller` and `agent`, with no dial outcomes scripted.
    pub fn new() -> Self {
        Self::with_call("call", "caller", "agent")
    }

    /// A call in `room` between the identities `caller` and `agent`.
    pub fn with_call(room: &str, caller: &str, agent: &str) -> Self {
        SimulatedTelephony {
            state: Arc::new(Mutex::new(State {
                caller: CallLeg::new(room, caller),
                agent: CallLeg::new(room, agent),
                outcomes: VecDeque::new(),
                calls: Vec::new(),
                legs: HashMap::new(),
                on_hold: HashSet::new(),
            })),
        }
    }

    /// Adds the outcome of the next unscripted dial.
    pub fn with_outcome(self, outcome: DialOutcome) -> Self {
        self.push_outcome(outcome);
        self
    }

    /// Adds the outcome of the next unscripted dial (through a shared clone).
    pub fn push_outcome(&self, outcome: DialOutcome) {
        self.state().outcomes.push_back(outcome);
    }

    /// Every call received so far, oldest first.
    pub fn calls(&self) -> Vec<TelephonyCall> {
        self.state().calls.clone()
    }

    /// The [labels](TelephonyCall::label) of every call received so far.
    pub fn labels(&self) -> Vec<String> {
        self.state()
            .calls
            .iter()
            .map(TelephonyCall::label)
            .collect()
    }

    /// Everything said to the leg with `identity`, in order.
    pub fn said_to(&self, identity: &str) -> Vec<String> {
        self.state()
            .calls
            .iter()
            .filter_map(|c| match c {
                TelephonyCall::Say { leg, text } if leg.identity == identity => Some(text.clone()),
                _ => None,
            })
            .collect()
    }

    /// Whether the leg with `identity` is on hold now.
    pub fn is_on_hold(&self, identity: &str) -> bool {
        self.state().on_hold.contains(identity)
    }

    /// Whether the dialed leg with `identity` is still up.
    pub fn is_up(&self, identity: &str) -> bool {
        self.state().legs.get(identity).is_some_and(|l| l.up)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn record(&self, call: TelephonyCall) {
        tracing::debug!(call = %call.label(), "simulated telephony");
        self.state().calls.push(call);
    }

    /// Records `call` on `leg` and succeeds when the leg is part of the call: the whole of an
    /// operation that changes nothing in the simulated call.
    fn record_on<'a>(&'a self, leg: &'a CallLeg, call: TelephonyCall) -> TelephonyFuture<'a, ()> {
        Box::pin(async move {
            self.record(call);
            self.known(leg)
        })
    }

    /// Checks that `leg` is part of the call (caller, agent, or a dialed leg that is up).
    fn known(&self, leg: &CallLeg) -> Result<(), TelephonyError> {
        let state = self.state();
        let ok = *leg == state.caller
            || *leg == state.agent
            || state
                .legs
                .get(&leg.identity)
                .is_some_and(|l| l.up && l.current == *leg);
        if ok {
            Ok(())
        } else {
            Err(TelephonyError::LegGone { leg: leg.clone() })
        }
    }
}

impl Telephony for SimulatedTelephony {
    fn caller(&self) -> CallLeg {
        self.state().caller.clone()
    }

    fn agent(&self) -> CallLeg {
        self.state().agent.clone()
    }

    fn hold<'a>(&'a self, leg: &'a CallLeg, hold_audio: &'a str) -> TelephonyFuture<'a, ()> {
        Box::pin(async move {
            self.record(TelephonyCall::Hold {
                leg: leg.clone(),
                audio: hold_audio.to_string(),
            });
            self.known(leg)?;
            self.state().on_hold.insert(leg.identity.clone());
            Ok(())
        })
    }

    fn unhold<'a>(&'a self, leg: &'a CallLeg) -> TelephonyFuture<'a, ()> {
        Box::pin(async move {
            self.record(TelephonyCall::Unhold { leg: leg.clone() });
            self.known(leg)?;
            self.state().on_hold.remove(&leg.identity);
            Ok(())
        })
    }

    fn dial(&self, request: DialRequest) -> BoxFuture<'_, Result<CallLeg, DialError>> {
        Box::pin(async move {
            self.record(TelephonyCall::Dial {
                request: request.clone(),
            });
            let outcome = self.state().outcomes.pop_front();
            let leg = CallLeg::new(&request.room, &request.identity);
            let lines = match outcome {
                None => {
                    return Err(DialError::Failed {
                        reason: format!("no scripted outcome for a call to {}", request.to),
                    })
                }
                Some(DialOutcome::Busy) => return Err(DialError::Busy),
                Some(DialOutcome::Fail { reason }) => return Err(DialError::Failed { reason }),
                Some(DialOutcome::NoAnswer) => {
                    tokio::time::sleep(request.ringing_timeout).await;
                    return Err(DialError::NoAnswer);
                }
                Some(DialOutcome::Answer { after, .. }) if after > request.ringing_timeout => {
                    tokio::time::sleep(request.ringing_timeout).await;
                    return Err(DialError::NoAnswer);
                }
                Some(DialOutcome::Answer { after, lines }) => {
                    if !after.is_zero() {
                        tokio::time::sleep(after).await;
                    }
                    lines
                }
                Some(DialOutcome::Voicemail { greeting }) => vec![greeting],
            };
            self.state().legs.insert(
                request.identity.clone(),
                Leg {
                    current: leg.clone(),
                    lines: lines.into(),
                    up: true,
                },
            );
            Ok(leg)
        })
    }

    fn say<'a>(&'a self, leg: &'a CallLeg, text: &'a str) -> TelephonyFuture<'a, ()> {
        let call = TelephonyCall::Say {
            leg: leg.clone(),
            text: text.to_string(),
        };
        self.record_on(leg, call)
    }

    fn next_utterance<'a>(&'a self, leg: &'a CallLeg) -> TelephonyFuture<'a, Option<String>> {
        Box::pin(async move {
            self.record(TelephonyCall::Listen { leg: leg.clone() });
            let mut state = self.state();
            let Some(l) = state.legs.get_mut(&leg.identity) else {
                return Err(TelephonyError::LegGone { leg: leg.clone() });
            };
            if !l.up {
                return Ok(None);
            }
            let line = l.lines.pop_front();
            if line.is_none() {
                // Out of lines: the person hangs up.
                l.up = false;
            }
            Ok(line)
        })
    }

    fn bridge<'a>(&'a self, leg: &'a CallLeg, to: &'a CallLeg) -> TelephonyFuture<'a, CallLeg> {
        Box::pin(async move {
            self.record(TelephonyCall::Bridge {
                leg: leg.clone(),
                to: to.clone(),
            });
            self.known(leg)?;
            self.known(to)?;
            let mut state = self.state();
            let moved = CallLeg::new(&to.room, &leg.identity);
            if let Some(l) = state.legs.get_mut(&leg.identity) {
                l.current = moved.clone();
            }
            Ok(moved)
        })
    }

    fn hang_up<'a>(&'a self, leg: &'a CallLeg) -> TelephonyFuture<'a, ()> {
        Box::pin(async move {
            self.record(TelephonyCall::HangUp { leg: leg.clone() });
            let mut state = self.state();
            if let Some(l) = state.legs.get_mut(&leg.identity) {
                // Hanging up a leg that already hung up is not an error.
                l.up = false;
            } else if *leg != state.caller && *leg != state.agent {
                return Err(TelephonyError::LegGone { leg: leg.clone() });
            }
            state.on_hold.remove(&leg.identity);
            Ok(())
        })
    }

    fn cold_transfer<'a>(&'a self, leg: &'a CallLeg, to: &'a str) -> TelephonyFuture<'a, ()> {
        let call = TelephonyCall::ColdTransfer {
            leg: leg.clone(),
            to: to.to_string(),
        };
        self.record_on(leg, call)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn scripted_answer_then_hang_up() {
        let tel = SimulatedTelephony::new().with_outcome(DialOutcome::answers(["hello"]));
        let req = DialRequest::new("+1555", "consult", "human", Duration::from_secs(5));
        let leg = tel.dial(req).await.unwrap();
        assert_eq!(leg, CallLeg::new("consult", "human"));
        assert_eq!(
            tel.next_utterance(&leg).await.unwrap().as_deref(),
            Some("hello")
        );
        assert_eq!(tel.next_utterance(&leg).await.unwrap(), None);
        assert!(!tel.is_up("human"));
        // No more scripted outcomes: the next dial fails instead of panicking.
        let req = DialRequest::new("+1555", "consult", "human2", Duration::from_secs(5));
        assert!(matches!(tel.dial(req).await, Err(DialError::Failed { .. })));
        let stranger = CallLeg::new("x", "nobody");
        assert!(matches!(
            tel.hold(&stranger, "music").await,
            Err(TelephonyError::LegGone { .. })
        ));
        assert_eq!(
            tel.labels(),
            vec![
                "dial +1555",
                "listen human",
                "listen human",
                "dial +1555",
                "hold nobody"
            ]
        );
    }
}
