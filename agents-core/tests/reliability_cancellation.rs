//! Cancellation, isolation and hostile input.
//!
//! Closing a session while a task (from `on_enter`), a nested task (from a task's tool), a task
//! group, or a stalled LLM reply is running: `close()` returns within a bound, `on_exit` hooks run
//! innermost first, the awaiting code sees `Cancelled`/`Closed`, and no tokio task is left behind
//! (checked with `RuntimeMetrics::num_alive_tasks`, stable since tokio 1.39, on a dedicated
//! current-thread runtime). Then: sessions in one runtime share nothing, `interrupt()` drops the
//! LLM request, and user text of any size and encoding is handled.

mod common;

use agents_core::llm::ChatRequest;
use agents_core::prelude::*;
use agents_core::session::SessionOptions;
use agents_core::testing::{Reply, ScriptedLlm};
use common::*;
use serde_json::json;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type Log = Arc<Mutex<Vec<String>>>;

const CLOSE_BOUND: Duration = Duration::from_secs(2);
const TURN_BOUND: Duration = Duration::from_secs(5);

fn push(log: &Log, line: impl Into<String>) {
    log.lock().unwrap().push(line.into());
}

fn lines(log: &Log) -> Vec<String> {
    log.lock().unwrap().clone()
}

fn describe<T>(r: &Result<T>) -> String {
    match r {
        Ok(_) => "Ok".into(),
        Err(Error::Cancelled { task }) => format!("Cancelled({task})"),
        Err(Error::Closed) => "Closed".into(),
        Err(e) => format!("Err({e})"),
    }
}

fn alive() -> usize {
    tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks()
}

/// Runs `body` on a fresh current-thread runtime and checks that every task it spawned is gone
/// afterwards (after a short settle loop: aborted tasks finish on their next poll).
fn leak_checked<F, Fut>(body: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = ()>,
{
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let before = alive();
        body().await;
        let deadline = Instant::now() + Duration::from_secs(2);
        while alive() > before && Instant::now() < deadline {
            tokio::task::yield_now().await;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(alive(), before, "tasks left behind after close");
    });
}

async fn close_bounded(session: &AgentSession) {
    let started = Instant::now();
    tokio::time::timeout(CLOSE_BOUND, session.close())
        .await
        .expect("close() returns within the bound");
    assert!(started.elapsed() < CLOSE_BOUND);
    assert!(session.is_closed());
    let after = session.run("anyone?").await;
    assert!(matches!(after, Err(Error::Closed)), "{after:?}");
}

// ---------------------------------------------------------------- agents

/// Declares an agent or task holding the shared log, whose `on_exit` logs `exit <its id>`; the
/// rest of its `#[function_tools]` block follows the struct.
macro_rules! logged {
    ($(#[$meta:meta])* struct $name:ident; $($block:tt)*) => {
        $(#[$meta])*
        struct $name {
            log: Log,
        }

        #[function_tools]
        impl $name {
            async fn on_exit(&mut self) {
                push(&self.log, format!("exit {}", Self::ID));
            }

            $($block)*
        }
    };
}

/// Declares an agent (see [`logged!`]) whose `on_enter` runs `$task` with the same log and logs
/// what it got.
macro_rules! runs_from_on_enter {
    ($(#[$meta:meta])* struct $name:ident runs $task:ident;) => {
        logged! {
            $(#[$meta])*
            #[agent]
            struct $name;

            async fn on_enter(&mut self, ctx: &mut AgentContext<'_>) -> Result<()> {
                let task = $task { log: self.log.clone() };
                run_logged(ctx, &self.log, Self::ID, task).await.map(|_| ())
            }
        }
    };
}

/// Runs `task` from a hook or tool of `who` and logs `<who> got <outcome>`.
async fn run_logged<R: Send + 'static, T: AgentTask>(
    ctx: &mut Context<'_, R>,
    log: &Log,
    who: &str,
    task: T,
) -> Result<T::Result> {
    let r = ctx.run_task(task).await;
    push(log, format!("{who} got {}", describe(&r)));
    r
}

logged! {
    /// Waits for an answer that never comes.
    #[agent_task(result = String)]
    struct WaitTask;

    /// Record the answer.
    #[function_tool]
    async fn answer(&mut self, ctx: &mut TaskContext<'_, String>, text: String) {
        ctx.complete(text);
    }
}

runs_from_on_enter! {
    /// (a) Runs a task from `on_enter`.
    struct EnterAgent runs WaitTask;
}

logged! {
    /// The outer step.
    #[agent_task(result = String)]
    struct OuterTask;

    /// Go one level deeper.
    #[function_tool]
    async fn go_deeper(&mut self, ctx: &mut TaskContext<'_, String>) -> Result<String> {
        let task = WaitTask { log: self.log.clone() };
        let v = run_logged(ctx, &self.log, "go_deeper", task).await?;
        ctx.complete(v.clone());
        Ok(v)
    }
}

runs_from_on_enter! {
    /// (b) Runs a task whose tool runs another task.
    struct NestingAgent runs OuterTask;
}

logged! {
    /// The first step of the group.
    #[agent_task(result = bool)]
    struct StepOne;

    /// The first step is done.
    #[function_tool]
    async fn step_one_done(&mut self, ctx: &mut TaskContext<'_, bool>) {
        ctx.complete(true);
    }
}

logged! {
    /// (c) Runs a task group.
    #[agent]
    struct GroupAgent;

    async fn on_enter(&mut self, ctx: &mut AgentContext<'_>) -> Result<()> {
        let mut group = TaskGroup::new().summarize_chat_ctx(false);
        let log = self.log.clone();
        group.add("step_one", "The first step", move || StepOne { log: log.clone() });
        let log = self.log.clone();
        group.add("step_two", "The second step", move || WaitTask { log: log.clone() });
        run_logged(ctx, &self.log, Self::ID, group).await.map(|_| ())
    }
}

logged! {
    /// (d) Just talks.
    #[agent]
    struct Talker;
}

logged! {
    /// Speaks from `on_enter` (a hook) before anything else.
    #[agent_task(result = String)]
    struct SpeakingTask;

    async fn on_enter(&mut self, ctx: &mut TaskContext<'_, String>) -> Result<()> {
        let r = ctx.generate_reply("Greet the user at length.").await;
        push(&self.log, format!("speaking_task reply {}", describe(&r)));
        r
    }
}

runs_from_on_enter! {
    /// (d2) Runs a task that speaks from its `on_enter`.
    struct HookSpeaker runs SpeakingTask;
}

logged! {
    /// A tool that takes its time.
    #[agent]
    struct SlowToolAgent;

    /// Ask the warehouse (slow).
    #[function_tool]
    async fn ask_warehouse(&mut self) -> String {
        tokio::time::sleep(Duration::from_secs(30)).await;
        "in stock".into()
    }
}

// ---------------------------------------------------------------- close while running

/// A scripted LLM that calls `tool` (when offered) on user text containing `word`.
fn calls_on(word: &str, tool: &str) -> ScriptedLlm {
    ScriptedLlm::new().rule(
        agents_core::testing::Rule::on_user(word)
            .reply(Reply::call(tool, json!({})))
            .if_tool_offered(tool),
    )
}

/// Starts the agent `make` builds around a fresh log, runs the turn `say` when given (it must
/// hand off to `wait_task`), checks the log holds `before`, then closes the session within the
/// bound and checks the log holds `after`: the unwinding order of the `on_exit` hooks and what
/// each awaiting caller saw.
async fn close_while_waiting<A: Agent>(
    llm: ScriptedLlm,
    make: impl FnOnce(Log) -> A,
    say: Option<&str>,
    before: &[&str],
    after: &[&str],
) {
    let log = Log::default();
    let session = AgentSession::new(llm);
    session.start(make(log.clone())).await.unwrap();
    if let Some(text) = say {
        let turn = session.run(text).await.unwrap();
        turn.expect().contains_agent_handoff("wait_task");
    }
    assert_eq!(lines(&log), before, "the task waits for the user");
    assert!(alive() >= 1, "the leak check sees the session loop");
    close_bounded(&session).await;
    assert_eq!(lines(&log), after);
}

const ENTER_AGENT_UNWOUND: [&str; 3] = [
    "exit wait_task",
    "enter_agent got Cancelled(wait_task)",
    "exit enter_agent",
];

#[test]
fn close_while_a_task_from_on_enter_waits() {
    leak_checked(|| {
        close_while_waiting(
            ScriptedLlm::new(),
            |log| EnterAgent { log },
            None,
            &[],
            &ENTER_AGENT_UNWOUND,
        )
    });
}

#[test]
fn dropping_the_session_without_close_unwinds_the_same_way() {
    leak_checked(|| async {
        let log = Log::default();
        let session = AgentSession::new(ScriptedLlm::new());
        session
            .start(EnterAgent { log: log.clone() })
            .await
            .unwrap();
        drop(session);
        tokio::time::timeout(CLOSE_BOUND, async {
            while lines(&log).len() < 3 {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
        .await
        .expect("the loop unwinds once the handle is dropped");
        assert_eq!(lines(&log), ENTER_AGENT_UNWOUND);
    });
}

#[test]
fn close_while_a_nested_task_waits() {
    leak_checked(|| {
        close_while_waiting(
            calls_on("deeper", "go_deeper"),
            |log| NestingAgent { log },
            Some("go deeper"),
            &[],
            &[
                "exit wait_task",
                "go_deeper got Cancelled(wait_task)",
                "exit outer_task",
                "nesting_agent got Cancelled(outer_task)",
                "exit nesting_agent",
            ],
        )
    });
}

#[test]
fn close_while_a_task_group_is_mid_flow() {
    leak_checked(|| {
        close_while_waiting(
            calls_on("one", "step_one_done"),
            |log| GroupAgent { log },
            Some("step one is done"),
            &["exit step_one"],
            &[
                "exit step_one",
                "exit wait_task",
                "group_agent got Cancelled(wait_task)",
                "exit group_agent",
            ],
        )
    });
}

/// A stream that says a few words and then stalls (comments keep the connection visibly open;
/// the idle timeout is long, so only a close or an interrupt can end it).
fn stalling_reply() -> Plan {
    Plan::Sse(vec![role(), text("Let me think"), Step::Ping])
}

/// A server whose first reply is `plan`, and a session on it whose provider waits long enough
/// for the next token that only a close or an interrupt ends a stalled stream.
async fn stalled_session(plan: Plan) -> (FaultServer, Arc<AgentSession>) {
    let server = FaultServer::start().await;
    server.push(plan);
    let llm = server
        .llm()
        .idle_timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    (server, Arc::new(AgentSession::new(llm)))
}

/// Runs the turn `text` in the background.
fn spawn_run(
    session: &Arc<AgentSession>,
    text: &'static str,
) -> tokio::task::JoinHandle<Result<RunResult>> {
    let s = session.clone();
    tokio::spawn(async move { s.run(text).await })
}

/// The outcome of a background call, which must end within the turn bound.
async fn join_within<T>(handle: tokio::task::JoinHandle<T>, what: &str) -> T {
    tokio::time::timeout(TURN_BOUND, handle)
        .await
        .unwrap_or_else(|_| panic!("{what}"))
        .unwrap()
}

#[test]
fn close_while_a_reply_streams_from_a_stalled_llm() {
    leak_checked(|| async {
        let log = Log::default();
        let (server, session) = stalled_session(stalling_reply()).await;
        session.start(Talker { log: log.clone() }).await.unwrap();
        let mut events = session.subscribe();
        let pending = spawn_run(&session, "tell me everything");
        wait_for_text(&mut events).await;
        close_bounded(&session).await;
        match join_within(pending, "the awaiting run() returns").await {
            Ok(turn) => {
                let msg = turn
                    .expect()
                    .contains_message(Role::Assistant)
                    .message()
                    .clone();
                assert_eq!(msg.content, "Let me think");
                assert!(msg.interrupted, "the cut reply is marked interrupted");
            }
            Err(e) => assert!(matches!(e, Error::Closed), "{e:?}"),
        }
        assert!(
            server.wait_for_drop(Duration::from_secs(1)).await,
            "the server saw the request go away"
        );
        assert_eq!(lines(&log), ["exit talker"]);
        drop(server);
    });
}

#[test]
fn close_while_a_hook_of_a_task_streams_from_a_stalled_llm() {
    leak_checked(|| async {
        let log = Log::default();
        let (server, session) = stalled_session(stalling_reply()).await;
        let mut events = session.subscribe();
        let s = session.clone();
        let l = log.clone();
        let starting = tokio::spawn(async move { s.start(HookSpeaker { log: l }).await });
        wait_for_text(&mut events).await;
        close_bounded(&session).await;
        let r = join_within(starting, "start() returns").await;
        assert!(matches!(r, Ok(_) | Err(Error::Closed)), "{r:?}");
        assert!(server.wait_for_drop(Duration::from_secs(1)).await);
        assert_eq!(
            lines(&log),
            [
                "speaking_task reply Ok",
                "exit speaking_task",
                "hook_speaker got Cancelled(speaking_task)",
                "exit hook_speaker"
            ]
        );
        drop(server);
    });
}

async fn wait_for_text(events: &mut tokio::sync::mpsc::UnboundedReceiver<SessionEvent>) {
    tokio::time::timeout(TURN_BOUND, async {
        loop {
            if let Some(SessionEvent::TextDelta { .. }) = events.recv().await {
                return;
            }
        }
    })
    .await
    .expect("the reply starts streaming");
}

/// After `[DONE]` the provider drains the rest of the body in a background task (so the
/// connection can be reused) for at most 1 s; a server that keeps the body open after `[DONE]`
/// therefore leaves that task alive briefly after close, but not for good.
#[test]
fn a_body_left_open_after_done_is_not_leaked() {
    leak_checked(|| async {
        let log = Log::default();
        let server = FaultServer::start().await;
        server.push(Plan::Sse(vec![
            role(),
            text("Done talking."),
            finish("stop"),
            done(),
            Step::Ping,
        ]));
        let session = AgentSession::new(server.llm().build().unwrap());
        session.start(Talker { log: log.clone() }).await.unwrap();
        let turn = session.run("hi").await.unwrap();
        assert_eq!(turn.assistant_text(), "Done talking.");
        close_bounded(&session).await;
        assert_eq!(lines(&log), ["exit talker"]);
        drop(server);
    });
}

/// A session whose close waits 300 ms for a running tool, with the slow tool's turn started in
/// the background and given 50 ms to reach the tool.
async fn slow_tool_turn() -> (
    Log,
    Arc<AgentSession>,
    tokio::task::JoinHandle<Result<RunResult>>,
) {
    let log = Log::default();
    let llm = ScriptedLlm::new().on_user("stock", Reply::call("ask_warehouse", json!({})));
    let session = AgentSession::builder(llm)
        .options(SessionOptions {
            close_timeout: Duration::from_millis(300),
            ..SessionOptions::default()
        })
        .build();
    let session = Arc::new(session);
    session
        .start(SlowToolAgent { log: log.clone() })
        .await
        .unwrap();
    let pending = spawn_run(&session, "is it in stock?");
    tokio::time::sleep(Duration::from_millis(50)).await;
    (log, session, pending)
}

#[test]
fn close_during_a_slow_tool_is_bounded_by_close_timeout() {
    leak_checked(|| async {
        let (_log, session, pending) = slow_tool_turn().await;
        let started = Instant::now();
        tokio::time::timeout(CLOSE_BOUND, session.close())
            .await
            .expect("close() returns within the bound");
        assert!(started.elapsed() < Duration::from_millis(300) + CLOSE_BOUND / 4);
        // The slow tool is dropped after the grace period and the turn ends with its events,
        // the call's output saying it was cancelled.
        let r = pending
            .await
            .unwrap()
            .expect("the turn in progress reports its events");
        let out = r
            .expect()
            .contains_function_call_output(true)
            .output()
            .clone();
        assert!(
            out.output.contains("cancelled: the session is closing"),
            "{out:?}"
        );
        assert!(session.is_closed());
        assert!(matches!(session.run("anyone?").await, Err(Error::Closed)));
    });
}

/// `close()` during a tool body awaiting something slow: the tool is dropped after a grace period
/// so the `on_exit` hooks still run.
#[test]
fn close_during_a_slow_tool_runs_on_exit_hooks() {
    leak_checked(|| async {
        let (log, session, pending) = slow_tool_turn().await;
        session.close().await;
        let _ = pending.await;
        assert_eq!(lines(&log), ["exit slow_tool_agent"], "on_exit ran");
        assert!(
            session.is_closed(),
            "the loop has ended when close() returns"
        );
    });
}

// ---------------------------------------------------------------- interrupt

/// A session on a stalled server (see [`stalled_session`]) with a [`Talker`] started.
async fn talking_on_stalled(plan: Plan) -> (FaultServer, Arc<AgentSession>) {
    let (server, session) = stalled_session(plan).await;
    let talker = Talker {
        log: Log::default(),
    };
    session.start(talker).await.unwrap();
    (server, session)
}

#[tokio::test]
async fn interrupt_during_a_turn_drops_the_llm_request() {
    let (server, session) = talking_on_stalled(stalling_reply()).await;
    let mut events = session.subscribe();
    let turn = spawn_run(&session, "tell me a long story");
    wait_for_text(&mut events).await;
    session.interrupt();
    let turn = join_within(turn, "the turn ends after the interrupt")
        .await
        .expect("an interrupted turn is not an error");
    let msg = turn
        .expect()
        .contains_message(Role::Assistant)
        .message()
        .clone();
    assert!(msg.interrupted && msg.content == "Let me think", "{msg:?}");
    assert!(
        server.wait_for_drop(Duration::from_secs(2)).await,
        "the server saw the connection drop"
    );
    // The session goes on, with both the user's text and the cut reply in the context.
    let next = session.run("go on").await.unwrap();
    assert!(!next.assistant_text().is_empty());
    let body = server.last_body();
    assert_eq!(user_texts(&body), ["tell me a long story", "go on"]);
    assert!(assistant_texts(&body).contains(&"Let me think".to_string()));
    session.close().await;
}

#[tokio::test]
async fn interrupt_before_the_first_token_drops_the_llm_request() {
    let (server, session) = talking_on_stalled(Plan::Sse(vec![Step::Ping])).await;
    let turn = spawn_run(&session, "hello?");
    tokio::time::timeout(TURN_BOUND, async {
        while server.request_count() == 0 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(30)).await;
    session.interrupt();
    let r = join_within(turn, "the turn ends after the interrupt")
        .await
        .unwrap();
    assert!(r.assistant_text().is_empty());
    assert!(server.wait_for_drop(Duration::from_secs(2)).await);
    let next = session.run("still there?").await.unwrap();
    assert!(!next.assistant_text().is_empty());
    assert_eq!(user_texts(&server.last_body()), ["hello?", "still there?"]);
}

// ---------------------------------------------------------------- isolation

#[derive(Debug, Clone, Default, PartialEq)]
struct Counter {
    name: String,
    hits: u32,
}

/// Counts hits in the session's userdata.
#[agent]
struct CountingAgent;

#[function_tools]
impl CountingAgent {
    /// Count a hit.
    #[function_tool]
    async fn count_hit(&mut self, ctx: &mut AgentContext<'_>) -> Result<String> {
        let c = ctx.userdata::<Counter>()?;
        c.hits += 1;
        Ok(format!("{} has {} hits", c.name, c.hits))
    }

    /// Breaks.
    #[function_tool]
    async fn crash(&mut self) -> String {
        panic!("injected tool panic")
    }
}

fn counting_llm() -> ScriptedLlm {
    ScriptedLlm::new()
        .on_user("count", Reply::call("count_hit", json!({})))
        .on_user("crash", Reply::call("crash", json!({})))
        .otherwise(Reply::dynamic(|req: &ChatRequest| {
            Reply::text(format!(
                "heard: {}",
                req.last_user_text().unwrap_or_default()
            ))
        }))
}

/// A started [`CountingAgent`] session on `llm` whose counter is `name` at `hits`.
async fn counting_session(llm: ScriptedLlm, name: String, hits: u32) -> AgentSession {
    let session = AgentSession::builder(llm)
        .userdata(Counter { name, hits })
        .build();
    session.start(CountingAgent).await.unwrap();
    session
}

/// The text of the turn's tool output.
fn tool_output(turn: &RunResult) -> String {
    turn.expect()
        .contains_function_call_output(None)
        .output()
        .output
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_sessions_share_nothing_and_a_panic_stays_local() {
    const SESSIONS: usize = 8;
    const TURNS: usize = 25;
    let mut handles = Vec::new();
    for s in 0..SESSIONS {
        handles.push(tokio::spawn(async move {
            let llm = counting_llm();
            let session = counting_session(llm.clone(), format!("s{s}"), 0).await;
            let mut rng = fastrand::Rng::with_seed(s as u64);
            let mut expected_hits = 0;
            for t in 0..TURNS {
                let text = match rng.u8(0..3) {
                    0 => {
                        expected_hits += 1;
                        format!("count s{s}-t{t}")
                    }
                    1 => format!("crash s{s}-t{t}"),
                    _ => format!("hello s{s}-t{t}"),
                };
                let r = tokio::time::timeout(TURN_BOUND, session.run(&text))
                    .await
                    .expect("no hang")
                    .expect("every turn of every session works");
                if text.starts_with("count") {
                    assert_eq!(tool_output(&r), format!("s{s} has {expected_hits} hits"));
                }
                tokio::task::yield_now().await;
            }
            let counter = session.userdata::<Counter>().await.unwrap();
            assert_eq!(counter.hits, expected_hits, "session {s}");
            // Nothing of another session reached this session's LLM.
            for req in llm.requests() {
                for m in req.chat_ctx.messages() {
                    if let Some(pos) = m.content.find(" s") {
                        let tag = &m.content[pos + 2..];
                        let owner: String =
                            tag.chars().take_while(|c| c.is_ascii_digit()).collect();
                        if !owner.is_empty() && m.role == Role::User {
                            assert_eq!(owner, s.to_string(), "{:?}", m.content);
                        }
                    }
                }
            }
            session.close().await;
        }));
    }
    for h in handles {
        h.await.expect("no session task panicked");
    }
}

#[tokio::test]
async fn interleaved_sessions_keep_their_userdata_mocks_and_llms_apart() {
    let (llm_a, llm_b) = (counting_llm(), counting_llm());
    let a = counting_session(llm_a.clone(), "alice".into(), 0).await;
    let b = counting_session(llm_b.clone(), "bob".into(), 10).await;
    b.mock_tool("count_hit", |_| "mocked for bob".to_string());

    let (ra, rb) = tokio::join!(a.run("count me (a)"), b.run("count me (b)"));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(tool_output(&ra), "alice has 1 hits");
    assert_eq!(tool_output(&rb), "mocked for bob");

    let (ra, rb) = tokio::join!(a.run("crash now (a)"), b.run("count again (b)"));
    let out_a = ra
        .unwrap()
        .expect()
        .contains_function_call_output(None)
        .output()
        .clone();
    assert!(out_a.is_error && out_a.output.contains("internal error"));
    assert_eq!(tool_output(&rb.unwrap()), "mocked for bob");
    b.clear_mocks();
    let rb = b.run("count for real (b)").await.unwrap();
    assert_eq!(tool_output(&rb), "bob has 11 hits");
    assert_eq!(a.userdata::<Counter>().await.unwrap().hits, 1);
    assert_eq!(b.userdata::<Counter>().await.unwrap().hits, 11);
    assert!(llm_a
        .requests()
        .iter()
        .all(|r| r.chat_ctx.messages().all(|m| !m.content.contains("(b)"))));
    assert!(llm_b
        .requests()
        .iter()
        .all(|r| r.chat_ctx.messages().all(|m| !m.content.contains("(a)"))));
    // Closing one leaves the other running.
    a.close().await;
    assert!(b.run("count last (b)").await.is_ok());
    b.close().await;
}

// ---------------------------------------------------------------- hostile input

async fn hostile_session(max_input_chars: Option<usize>) -> (FaultServer, AgentSession) {
    let server = FaultServer::start().await;
    let mut options = SessionOptions::default();
    if let Some(m) = max_input_chars {
        options.max_input_chars = m;
    }
    let session = AgentSession::builder(server.llm().build().unwrap())
        .options(options)
        .build();
    session
        .start(Talker {
            log: Log::default(),
        })
        .await
        .unwrap();
    (server, session)
}

/// The user text the server received for the latest turn.
fn last_user_text(server: &FaultServer) -> String {
    user_texts(&server.last_body()).pop().unwrap()
}

#[tokio::test]
async fn huge_input_is_cut_to_max_input_chars() {
    let (server, session) = hostile_session(None).await;
    let huge = "a".repeat(1 << 20);
    let r = tokio::time::timeout(TURN_BOUND, session.run(huge))
        .await
        .unwrap();
    assert!(r.is_ok(), "{r:?}");
    let seen = last_user_text(&server);
    assert_eq!(seen, format!("{} [cut]", "a".repeat(20_000)));

    // Multi-byte text is cut on a character boundary, at the configured limit.
    let (server, session) = hostile_session(Some(1_000)).await;
    let emoji = "👩‍👩‍👧é中".repeat(200_000);
    session.run(emoji.clone()).await.unwrap();
    let seen = last_user_text(&server);
    assert_eq!(
        seen,
        format!("{} [cut]", emoji.chars().take(1_000).collect::<String>())
    );
    assert!(session.run("and now?").await.is_ok());
}

#[tokio::test]
async fn empty_control_and_lossy_input_is_handled() {
    let (server, session) = hostile_session(None).await;
    session.run("").await.unwrap();
    assert_eq!(last_user_text(&server), "");
    session.run("   \n\t ").await.unwrap();
    assert_eq!(last_user_text(&server), "   \n\t ");

    session
        .run("\u{0}\u{7}bell\u{1b}[31mred\r\nline2\ttab\u{7f}\u{85}end")
        .await
        .unwrap();
    assert_eq!(last_user_text(&server), "bell[31mred\nline2\ttabend");

    // Lone surrogates cannot live in a Rust string: they arrive as invalid UTF-8 (CESU-8 or
    // WTF-8 from upstream) and are converted lossily before they reach the session.
    let raw: &[u8] = b"caf\xc3\xa9 \xed\xa0\x80 lone \xed\xb0\x80 \xff end";
    let lossy = String::from_utf8_lossy(raw).into_owned();
    session.run(lossy.clone()).await.unwrap();
    assert_eq!(last_user_text(&server), lossy);
    assert!(lossy.contains('\u{fffd}'));

    let mixed = "Grüße, 你好, مرحبا, שלום, Привет, नमस्ते 🇺🇳👍🏽👩‍💻 \u{202e}reversed\u{202c} z\u{301}";
    session.run(mixed).await.unwrap();
    assert_eq!(last_user_text(&server), mixed);

    assert_eq!(
        user_texts(&server.last_body()).len(),
        5,
        "every input is in the context"
    );
}

/// `sanitize_input` compares the raw input's length with `max_input_chars` after dropping
/// control characters from it, so input that fits once cleaned is still marked as cut.
#[tokio::test]
async fn control_characters_do_not_count_towards_the_cut() {
    let (server, session) = hostile_session(Some(10)).await;
    let text = format!("{}hello", "\u{7}".repeat(50));
    session.run(text).await.unwrap();
    assert_eq!(last_user_text(&server), "hello");
}
