//! Chaos: 1,200 turns over 8 concurrent sessions, every one through the real provider
//! (`OpenAiLlm` over HTTP to the in-process fault server of `common`), with faults chosen per
//! request by a seeded RNG: HTTP 429/500/503/400, streams cut before or after the first token,
//! stalls (idle timeout), garbage and invalid UTF-8, in-stream errors, JSON instead of a stream,
//! and model misbehaviour (invalid JSON arguments, wrong types, missing fields, unknown tools,
//! tools of another agent or task, tool calls where none are offered, a panicking tool, tools
//! called in a loop up to `max_tool_steps`).
//!
//! Every turn is classified (reply or typed error); the test fails on any panic that escapes a
//! tool, any hang (a turn bounded by a timeout), any untyped error, and any user text missing
//! (in order) from a request the server received after it was said. It prints a one-line JSON
//! summary.

mod common;

use agents_core::llm::LlmError;
use agents_core::prelude::*;
use common::address::ask_for_address;
use common::*;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SESSIONS: u64 = 8;
const TURNS_PER_SESSION: usize = 150;
const SEED: u64 = 0x00C4_A05E;
const TURN_BOUND: Duration = Duration::from_secs(5);
const INJECTED_PANIC: &str = "chaos: injected tool panic";

/// You are the front desk of a shop.
#[agent]
struct FrontDesk;

#[function_tools]
impl FrontDesk {
    /// Look up an order.
    ///
    /// # Arguments
    /// * `order_id` - The order number
    /// * `express` - Whether it was sent express
    #[function_tool]
    async fn lookup_order(&mut self, order_id: u32, express: bool) -> String {
        format!("order {order_id}: shipped (express: {express})")
    }

    /// Check the stock (breaks).
    #[function_tool]
    async fn check_stock(&mut self) -> String {
        std::panic::panic_any(INJECTED_PANIC)
    }

    /// Collect the delivery address.
    #[function_tool]
    async fn collect_address(&mut self, ctx: &mut AgentContext<'_>) -> Result<String> {
        ask_for_address(ctx).await
    }

    /// Transfer the caller to the back office.
    #[function_tool]
    async fn transfer(&mut self) -> Handoff {
        Handoff::to(BackOffice).with_message("Transferring you.")
    }
}

/// You are the back office.
#[agent]
struct BackOffice;

#[function_tools]
impl BackOffice {
    /// Look up an order.
    ///
    /// # Arguments
    /// * `order_id` - The order number
    /// * `express` - Whether it was sent express
    #[function_tool]
    async fn lookup_order(&mut self, order_id: u32, express: bool) -> String {
        format!("back office: order {order_id} (express: {express})")
    }

    /// Check the stock (breaks).
    #[function_tool]
    async fn check_stock(&mut self) -> String {
        std::panic::panic_any(INJECTED_PANIC)
    }

    /// Transfer the caller back to the front desk.
    #[function_tool]
    async fn transfer(&mut self) -> Handoff {
        Handoff::to(FrontDesk).with_message("Back to the front desk.")
    }
}

/// Picks a plan for each request and counts what it injected.
struct Chaos {
    rng: fastrand::Rng,
    next_call: u64,
    calm: bool,
    faults: BTreeMap<&'static str, usize>,
    normal: BTreeMap<&'static str, usize>,
}

impl Chaos {
    fn fault(&mut self, kind: &'static str, plan: Plan) -> Plan {
        *self.faults.entry(kind).or_default() += 1;
        plan
    }

    fn normal(&mut self, kind: &'static str, plan: Plan) -> Plan {
        *self.normal.entry(kind).or_default() += 1;
        plan
    }

    fn call_id(&mut self) -> String {
        self.next_call += 1;
        format!("call_{}", self.next_call)
    }

    fn call(&mut self, name: &str, args: &str) -> Plan {
        let id = self.call_id();
        call_reply(&id, name, args)
    }

    fn order_args(&mut self) -> String {
        json!({"order_id": self.rng.u32(1..100_000), "express": self.rng.bool()}).to_string()
    }

    fn plan(&mut self, body: &serde_json::Value) -> Plan {
        if self.calm {
            return echo(body);
        }
        let tools = offered_tools(body);
        let offers = |name: &str| tools.iter().any(|t| t == name);
        let roll = self.rng.u32(0..100);
        match roll {
            0..=2 => self.fault(
                "http_429",
                status(429, &[("retry-after-ms", "1")], "rate limited"),
            ),
            3..=5 => self.fault("http_500", status(500, &[], "internal error")),
            6..=7 => self.fault("http_503", status(503, &[], "unavailable")),
            8 => self.fault("http_400", status(400, &[], "bad request")),
            9..=11 => self.fault(
                "cut_before_first_token",
                Plan::Sse(vec![role(), Step::Abort]),
            ),
            12..=14 => self.fault(
                "cut_mid_reply",
                // The delay lets the text reach the client before the connection breaks (a
                // reset right away can discard it, which is a break before the first token).
                Plan::Sse(vec![
                    role(),
                    text("Let me see, "),
                    text("your order "),
                    Step::Delay(20),
                    Step::Abort,
                ]),
            ),
            15 => self.fault("stall_before_first_token", Plan::Sse(vec![Step::Stall])),
            16 => self.fault(
                "stall_mid_reply",
                Plan::Sse(vec![role(), text("Hmm, "), Step::Stall]),
            ),
            17..=18 => self.fault(
                "garbage_data",
                Plan::Sse(vec![
                    role(),
                    Step::Raw(b"data: {\"choices\": [}\x00\n\n".to_vec()),
                ]),
            ),
            19 => self.fault(
                "invalid_utf8",
                Plan::Sse(vec![
                    role(),
                    text("Hi "),
                    Step::Raw(b"data: \xc3\x28\xff\n\n".to_vec()),
                    done(),
                ]),
            ),
            20 => self.fault(
                "in_stream_error",
                Plan::Sse(vec![Step::Data(
                    r#"{"error": {"message": "overloaded"}}"#.into(),
                )]),
            ),
            21 => self.fault(
                "json_instead_of_stream",
                status(200, &[("content-type", "application/json")], "{}"),
            ),
            _ if tools.is_empty() => {
                // The last step of a reply, or a speech-only reply: no tools offered.
                if roll < 30 {
                    let args = self.order_args();
                    let plan = self.call("lookup_order", &args);
                    self.fault("tool_call_when_none_offered", plan)
                } else {
                    self.normal("text", echo(body))
                }
            }
            22..=25 => {
                let plan = if offers("record_address") {
                    self.call("record_address", r#"{"street": "Main St 1", "ci"#)
                } else {
                    self.call("lookup_order", r#"{"order_id": 12, "express": tr"#)
                };
                self.fault("invalid_json_arguments", plan)
            }
            26..=28 => {
                let name = if offers("record_address") {
                    ("record_address", r#"{"street": 5, "city": ["x"]}"#)
                } else {
                    (
                        "lookup_order",
                        r#"{"order_id": "twelve", "express": "yes"}"#,
                    )
                };
                let plan = self.call(name.0, name.1);
                self.fault("wrong_argument_types", plan)
            }
            29..=31 => {
                let name = if offers("record_address") {
                    ("record_address", r#"{"street": "Main St 1"}"#)
                } else {
                    ("lookup_order", r#"{"express": true}"#)
                };
                let plan = self.call(name.0, name.1);
                self.fault("missing_fields", plan)
            }
            32..=34 => {
                let plan = self.call("launch_rockets", "{}");
                self.fault("unknown_tool", plan)
            }
            35..=37 => {
                let foreign = if offers("record_address") {
                    "transfer"
                } else {
                    "record_address"
                };
                let plan = self.call(foreign, r#"{"street": "x", "city": "y"}"#);
                self.fault("tool_of_another_activity", plan)
            }
            38..=40 if offers("check_stock") => {
                let plan = self.call("check_stock", "{}");
                self.fault("panicking_tool", plan)
            }
            41..=54 if offers("lookup_order") => {
                let args = self.order_args();
                let plan = self.call("lookup_order", &args);
                self.normal("tool_call", plan)
            }
            55..=62 if offers("collect_address") => {
                let plan = self.call("collect_address", "{}");
                self.normal("start_task", plan)
            }
            55..=69 if offers("record_address") => {
                let street = format!("Hauptstraße {} 🏠", self.rng.u32(1..300));
                let args = json!({"street": street, "city": "Zürich"}).to_string();
                let plan = self.call("record_address", &args);
                self.normal("complete_task", plan)
            }
            63..=65 if offers("transfer") => {
                let plan = self.call("transfer", "{}");
                self.normal("handoff", plan)
            }
            _ => self.normal("text", echo(body)),
        }
    }
}

/// Counts panics; only the injected ones are expected (they must become tool errors).
fn install_panic_counter() -> (Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let injected = Arc::new(AtomicUsize::new(0));
    let other = Arc::new(AtomicUsize::new(0));
    let (i, o) = (injected.clone(), other.clone());
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.payload().downcast_ref::<&str>() == Some(&INJECTED_PANIC) {
            i.fetch_add(1, Ordering::SeqCst);
        } else {
            o.fetch_add(1, Ordering::SeqCst);
            previous(info);
        }
    }));
    (injected, other)
}

#[derive(Default, Debug)]
struct Outcomes {
    turns: usize,
    replies: usize,
    typed_errors: BTreeMap<&'static str, usize>,
    untyped_errors: Vec<String>,
    error_turns_without_event: usize,
    hangs: usize,
    items_lost: usize,
    requests: usize,
}

fn error_kind(e: &Error) -> Option<&'static str> {
    Some(match e {
        Error::Llm(LlmError::Status { status: 429, .. }) => "llm_status_429",
        Error::Llm(LlmError::Status { status: 400, .. }) => "llm_status_400",
        Error::Llm(LlmError::Status { .. }) => "llm_status_5xx",
        Error::Llm(LlmError::Connection(_)) => "llm_connection",
        Error::Llm(LlmError::Stream(_)) => "llm_stream",
        Error::Llm(LlmError::Protocol(_)) => "llm_protocol",
        Error::Llm(_) => "llm_other",
        Error::Usage(m) if m.contains("max_tool_steps") => "max_tool_steps",
        _ => return None,
    })
}

async fn run_session(index: u64) -> (Outcomes, BTreeMap<&'static str, usize>) {
    let server = FaultServer::start().await;
    let chaos = Arc::new(Mutex::new(Chaos {
        rng: fastrand::Rng::with_seed(SEED + index),
        next_call: 0,
        calm: false,
        faults: BTreeMap::new(),
        normal: BTreeMap::new(),
    }));
    let c = chaos.clone();
    server.set_responder(move |body| c.lock().unwrap().plan(body));
    let llm = server
        .llm()
        .idle_timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let session = AgentSession::builder(llm).max_tool_steps(3).build();
    session.start(FrontDesk).await.unwrap();
    let mut events = session.subscribe();
    let mut out = Outcomes::default();
    let mut said: Vec<String> = Vec::new();
    // Index of the first request of each turn.
    let mut first_request: Vec<usize> = Vec::new();
    let mut rng = fastrand::Rng::with_seed(SEED ^ (index << 32));
    for t in 0..=TURNS_PER_SESSION {
        let probe = t == TURNS_PER_SESSION;
        if probe {
            // One calm turn at the end, so the last chaos turn is checked too.
            chaos.lock().unwrap().calm = true;
        }
        let text = match rng.u8(0..4) {
            0 => format!("[s{index} t{t}] where is my order? 🚚"),
            1 => format!("[s{index} t{t}] Grüße — my address is Hauptstraße 5, 8001 Zürich"),
            2 => format!("[s{index} t{t}] 注文はどこですか\nsecond line\tand a tab"),
            _ => format!("[s{index} t{t}] please transfer me, or not"),
        };
        said.push(text.clone());
        first_request.push(server.request_count());
        let outcome = match tokio::time::timeout(TURN_BOUND, session.run(text)).await {
            Ok(o) => o,
            Err(_) => {
                out.hangs += 1;
                break;
            }
        };
        let mut error_event = false;
        while let Ok(ev) = events.try_recv() {
            error_event |= matches!(ev, SessionEvent::Error { .. });
        }
        if probe {
            assert!(outcome.is_ok(), "the calm probe turn works: {outcome:?}");
            continue;
        }
        out.turns += 1;
        match outcome {
            Ok(_) => out.replies += 1,
            Err(e) => match error_kind(&e) {
                Some(kind) => {
                    *out.typed_errors.entry(kind).or_default() += 1;
                    if !error_event {
                        out.error_turns_without_event += 1;
                    }
                }
                None => out.untyped_errors.push(format!("turn {t}: {e:?}")),
            },
        }
    }
    // Every request carries, in order, everything the user had said by the time it was sent.
    let bodies = server.bodies();
    out.requests = bodies.len();
    for (r, body) in bodies.iter().enumerate() {
        let turn = first_request.iter().rposition(|&first| first <= r).unwrap();
        let seen = user_texts(body);
        let expected = &said[..=turn];
        if !is_subsequence(expected, &seen) {
            let missing = expected.iter().filter(|s| !seen.contains(s)).count();
            out.items_lost += missing.max(1);
        }
    }
    session.close().await;
    let faults = chaos.lock().unwrap().faults.clone();
    (out, faults)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_turns_end_in_a_reply_or_a_typed_error_and_lose_nothing() {
    let (injected_panics, other_panics) = install_panic_counter();
    let started = Instant::now();
    let handles: Vec<_> = (0..SESSIONS)
        .map(|i| tokio::spawn(run_session(i)))
        .collect();
    let mut total = Outcomes::default();
    let mut faults: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut crashed_sessions = 0;
    for h in handles {
        match h.await {
            Ok((o, f)) => {
                total.turns += o.turns;
                total.replies += o.replies;
                total.hangs += o.hangs;
                total.items_lost += o.items_lost;
                total.requests += o.requests;
                total.error_turns_without_event += o.error_turns_without_event;
                total.untyped_errors.extend(o.untyped_errors);
                for (k, v) in o.typed_errors {
                    *total.typed_errors.entry(k).or_default() += v;
                }
                for (k, v) in f {
                    *faults.entry(k).or_default() += v;
                }
            }
            Err(_) => crashed_sessions += 1,
        }
    }
    let typed_errors: usize = total.typed_errors.values().sum();
    let faults_injected: usize = faults.values().sum();
    let panics = other_panics.load(Ordering::SeqCst) + crashed_sessions;
    let summary = json!({
        "turns": total.turns,
        "faults_injected": faults_injected,
        "replies": total.replies,
        "typed_errors": typed_errors,
        "panics": panics,
        "hangs": total.hangs,
        "items_lost": total.items_lost,
        "path": "all turns via OpenAiLlm over HTTP to the in-process fault server",
        "sessions": SESSIONS,
        "seed": SEED,
        "requests": total.requests,
        "injected_tool_panics_caught": injected_panics.load(Ordering::SeqCst),
        "faults_by_kind": faults,
        "typed_errors_by_kind": total.typed_errors,
        "untyped_errors": total.untyped_errors.len(),
        "elapsed_ms": started.elapsed().as_millis() as u64,
    });
    eprintln!("{summary}");
    assert!(total.turns >= 1_000, "{summary}");
    assert_eq!(panics, 0, "{summary}");
    assert_eq!(total.hangs, 0, "{summary}");
    assert_eq!(total.items_lost, 0, "{summary}");
    assert!(
        total.untyped_errors.is_empty(),
        "{:?}",
        total.untyped_errors
    );
    assert_eq!(total.turns, total.replies + typed_errors, "{summary}");
    assert_eq!(
        total.error_turns_without_event, 0,
        "every failed turn emits an Error event"
    );
    assert!(injected_panics.load(Ordering::SeqCst) > 0, "{summary}");
    assert!(faults_injected > total.turns / 4, "{summary}");
}
