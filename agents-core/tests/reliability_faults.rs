//! Fault injection through the real stack: an `AgentSession` with `OpenAiLlm` against the
//! in-process fault server of `common`. For every provider fault and every kind of model
//! misbehaviour the turn ends in a reply or a typed error, what the user said reaches the next
//! request the server receives, and the next turn works.

mod common;

use agents_core::llm::LlmError;
use agents_core::prelude::*;
use common::address::ask_for_address;
use common::*;
use std::time::{Duration, Instant};

/// You help customers with their orders.
#[agent]
struct Shop;

#[function_tools]
impl Shop {
    /// Look up an order.
    ///
    /// # Arguments
    /// * `order_id` - The order number
    /// * `express` - Whether it was sent express
    #[function_tool]
    async fn lookup_order(&mut self, order_id: u32, express: bool) -> String {
        format!(
            "order {order_id} shipped{}",
            if express { " express" } else { "" }
        )
    }

    /// Check the stock (always breaks).
    #[function_tool]
    async fn crash(&mut self) -> String {
        panic!("injected tool panic")
    }

    /// Collect the delivery address.
    #[function_tool]
    async fn collect_address(&mut self, ctx: &mut AgentContext<'_>) -> Result<String> {
        ask_for_address(ctx).await
    }
}

const TURN_BOUND: Duration = Duration::from_secs(5);
const FOLLOW_UP: &str = "are you still there?";

async fn session_with(llm: agents_core::llm::openai::OpenAiLlm) -> AgentSession {
    let session = AgentSession::builder(llm).max_tool_steps(3).build();
    session.start(Shop).await.unwrap();
    session
}

async fn session_for(server: &FaultServer) -> AgentSession {
    session_with(server.llm().build().unwrap()).await
}

/// One turn, bounded: a hang fails the test.
async fn turn(session: &AgentSession, text: &str) -> Result<RunResult> {
    tokio::time::timeout(TURN_BOUND, session.run(text))
        .await
        .unwrap_or_else(|_| panic!("the turn {text:?} did not end within {TURN_BOUND:?}"))
}

/// The next turn works, and its request holds everything the user said so far, in order.
async fn next_turn_works(server: &FaultServer, session: &AgentSession, said: &[&str]) {
    let next = turn(session, FOLLOW_UP)
        .await
        .expect("the turn after the fault works");
    assert!(!next.assistant_text().is_empty(), "{next:?}");
    let mut expected: Vec<String> = said.iter().map(|s| s.to_string()).collect();
    expected.push(FOLLOW_UP.into());
    let seen = user_texts(&server.last_body());
    assert!(
        is_subsequence(&expected, &seen),
        "the user's words were lost: expected {expected:?} in order in {seen:?}"
    );
}

/// Asserts that `outcome` is the provider's typed HTTP status error.
#[track_caller]
fn assert_status_error(outcome: &Result<RunResult>, status: u16, retryable: bool) {
    assert!(
        matches!(
            outcome,
            Err(Error::Llm(LlmError::Status { status: s, retryable: r, .. }))
                if *s == status && *r == retryable
        ),
        "{outcome:?}"
    );
}

/// Runs one turn against the planned responses, checks that a typed error is also reported as a
/// session event, then checks the follow-up turn.
async fn fault_turn(plans: Vec<Plan>, said: &str) -> (FaultServer, Result<RunResult>) {
    let server = FaultServer::start().await;
    for p in plans {
        server.push(p);
    }
    let session = session_for(&server).await;
    let mut events = session.subscribe();
    let outcome = turn(&session, said).await;
    if outcome.is_err() {
        let mut saw_error_event = false;
        while let Ok(ev) = events.try_recv() {
            saw_error_event |= matches!(ev, SessionEvent::Error { .. });
        }
        assert!(saw_error_event, "a failed turn emits an Error event");
    }
    // The failed turn's text must be in the next request.
    assert!(
        user_texts(&server.last_body()).iter().any(|t| t == said),
        "the faulty turn's request carried the user's text"
    );
    next_turn_works(&server, &session, &[said]).await;
    session.close().await;
    (server, outcome)
}

fn sse(steps: Vec<Step>) -> Plan {
    Plan::Sse(steps)
}

// ---------------------------------------------------------------- provider faults

#[tokio::test]
async fn refused_connection_is_a_connection_error_and_the_next_turn_works() {
    let port = closed_port();
    let url = format!("http://127.0.0.1:{port}/v1");
    let session = session_with(llm_for(&url).build().unwrap()).await;
    let said = "where is order 12?";
    let outcome = turn(&session, said).await;
    assert!(
        matches!(outcome, Err(Error::Llm(LlmError::Connection(_)))),
        "{outcome:?}"
    );
    // The server comes up on that port: the next turn reaches it and carries the first text.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let server = FaultServer::start_on(listener);
    next_turn_works(&server, &session, &[said]).await;
    assert_eq!(server.request_count(), 1);
    session.close().await;
}

#[tokio::test]
async fn rate_limit_with_retry_after_is_retried() {
    let server = FaultServer::start().await;
    server.push(status(429, &[("retry-after-ms", "60")], "slow down"));
    let llm = server
        .llm()
        .max_backoff(Duration::from_millis(500))
        .build()
        .unwrap();
    let session = session_with(llm).await;
    let started = Instant::now();
    let ok = turn(&session, "hello").await.expect("retried after 429");
    assert!(
        started.elapsed() >= Duration::from_millis(60),
        "Retry-After honoured"
    );
    assert!(!ok.assistant_text().is_empty());
    assert_eq!(server.request_count(), 2);
    next_turn_works(&server, &session, &["hello"]).await;
}

#[tokio::test]
async fn rate_limit_that_persists_is_a_typed_status_error() {
    let limited = || status(429, &[("retry-after", "0.001")], "rate limited");
    let (server, outcome) = fault_turn(vec![limited(), limited(), limited()], "order 7?").await;
    assert_status_error(&outcome, 429, true);
    assert_eq!(
        server.request_count(),
        3 + 1,
        "1 try + 2 retries, then the next turn"
    );
}

#[tokio::test]
async fn server_errors_are_retried_then_the_reply_arrives() {
    let (server, outcome) = fault_turn(
        vec![status(503, &[], "unavailable"), status(500, &[], "oops")],
        "hi there",
    )
    .await;
    assert!(outcome.is_ok(), "{outcome:?}");
    assert_eq!(server.request_count(), 3 + 1);
}

#[tokio::test]
async fn server_errors_that_persist_are_a_typed_status_error() {
    let e = || status(500, &[], "internal error");
    let (_, outcome) = fault_turn(vec![e(), e(), e()], "hi there").await;
    assert_status_error(&outcome, 500, true);
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let (server, outcome) = fault_turn(vec![status(400, &[], "bad request")], "hi").await;
    assert_status_error(&outcome, 400, false);
    assert_eq!(server.request_count(), 1 + 1);
}

#[tokio::test]
async fn stream_cut_mid_reply_is_a_stream_error_and_keeps_the_partial_text() {
    let said = "when does it arrive?";
    let (server, outcome) = fault_turn(
        vec![sse(vec![
            role(),
            text("Your order "),
            text("arrives on "),
            Step::Delay(10),
            Step::Abort,
        ])],
        said,
    )
    .await;
    assert!(
        matches!(outcome, Err(Error::Llm(LlmError::Stream(_)))),
        "{outcome:?}"
    );
    assert_eq!(
        server.request_count(),
        2,
        "a cut after tokens is not retried"
    );
    let bodies = server.bodies();
    assert!(
        assistant_texts(&bodies[1])
            .iter()
            .any(|t| t == "Your order arrives on "),
        "the partial reply stays in the conversation: {:?}",
        assistant_texts(&bodies[1])
    );
}

#[tokio::test]
async fn stream_cut_before_the_first_token_is_retried() {
    let (server, outcome) = fault_turn(vec![sse(vec![role(), Step::Abort])], "hi").await;
    assert!(outcome.is_ok(), "{outcome:?}");
    assert_eq!(server.request_count(), 2 + 1);
}

#[tokio::test]
async fn stalled_stream_mid_reply_hits_the_idle_timeout() {
    let started = Instant::now();
    let (_, outcome) = fault_turn(
        vec![sse(vec![role(), text("Let me check"), Step::Stall])],
        "status?",
    )
    .await;
    match outcome {
        Err(Error::Llm(LlmError::Stream(msg))) => assert!(msg.contains("idle"), "{msg}"),
        other => panic!("expected an idle stream error, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn stalled_stream_before_the_first_token_is_retried_then_reported() {
    let stall = || sse(vec![Step::Stall]);
    let (_, outcome) = fault_turn(vec![stall(), stall(), stall()], "status?").await;
    match outcome {
        Err(Error::Llm(LlmError::Connection(msg))) => assert!(msg.contains("idle"), "{msg}"),
        other => panic!("expected an idle connection error, got {other:?}"),
    }
    let (server, outcome) = fault_turn(vec![stall()], "status?").await;
    assert!(outcome.is_ok(), "one stall is retried: {outcome:?}");
    assert_eq!(server.request_count(), 2 + 1);
}

#[tokio::test]
async fn garbage_in_data_is_a_protocol_error() {
    let (_, outcome) = fault_turn(
        vec![sse(vec![Step::Raw(
            b"data: {\"choices\": [garbage\x01\x02\n\n".to_vec(),
        )])],
        "hello",
    )
    .await;
    assert!(
        matches!(outcome, Err(Error::Llm(LlmError::Protocol(_)))),
        "{outcome:?}"
    );

    let (server, outcome) = fault_turn(
        vec![sse(vec![role(), text("Hello "), Step::Data("%%%".into())])],
        "hello",
    )
    .await;
    assert!(
        matches!(outcome, Err(Error::Llm(LlmError::Protocol(_)))),
        "{outcome:?}"
    );
    assert!(assistant_texts(&server.bodies()[1]).contains(&"Hello ".to_string()));
}

#[tokio::test]
async fn invalid_utf8_in_the_stream_is_a_protocol_error() {
    let (_, outcome) = fault_turn(
        vec![sse(vec![
            role(),
            text("Hi"),
            Step::Raw(b"data: {\"x\": \"\xff\xfe\"}\n\n".to_vec()),
            finish("stop"),
            done(),
        ])],
        "hello",
    )
    .await;
    assert!(
        matches!(outcome, Err(Error::Llm(LlmError::Protocol(_)))),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn error_inside_the_stream_is_a_stream_error() {
    let (server, outcome) = fault_turn(
        vec![sse(vec![Step::Data(
            r#"{"error": {"message": "model overloaded", "type": "server_error"}}"#.into(),
        )])],
        "hello",
    )
    .await;
    match outcome {
        Err(Error::Llm(LlmError::Stream(msg))) => assert!(msg.contains("overloaded"), "{msg}"),
        other => panic!("expected a provider stream error, got {other:?}"),
    }
    assert_eq!(
        server.request_count(),
        1 + 1,
        "provider errors are not retried"
    );
}

#[tokio::test]
async fn json_or_empty_body_instead_of_a_stream_is_a_protocol_error() {
    let (_, outcome) = fault_turn(
        vec![status(
            200,
            &[("content-type", "application/json")],
            r#"{"choices": []}"#,
        )],
        "hello",
    )
    .await;
    assert!(
        matches!(outcome, Err(Error::Llm(LlmError::Protocol(_)))),
        "{outcome:?}"
    );
    let (_, outcome) = fault_turn(vec![sse(Vec::new())], "hello").await;
    assert!(
        matches!(outcome, Err(Error::Llm(LlmError::Protocol(_)))),
        "{outcome:?}"
    );
}

/// A UTF-8 byte order mark before the first event is allowed by the SSE spec. The
/// `eventsource-stream` parser strips it with `&string[1..]`, slicing inside the 3-byte
/// character: the provider panics inside the session task, the session dies, and the turn (and
/// every later one) fails with `Error::Closed`.
#[tokio::test]
async fn byte_order_mark_before_the_first_event_is_tolerated() {
    let server = FaultServer::start().await;
    server.push(sse(vec![
        Step::Raw("\u{feff}".as_bytes().to_vec()),
        role(),
        text("Hello!"),
        finish("stop"),
        done(),
    ]));
    let session = session_for(&server).await;
    let outcome = turn(&session, "hi").await;
    assert!(outcome.is_ok(), "{outcome:?}");
    next_turn_works(&server, &session, &["hi"]).await;
}

#[tokio::test]
async fn the_api_key_never_reaches_errors_or_events() {
    const KEY: &str = "sk-live-SECRET-4242";
    let server = FaultServer::start().await;
    // Some gateways echo the credentials they rejected.
    server.push(status(
        401,
        &[],
        &format!("invalid api key {KEY} (Authorization: Bearer {KEY})"),
    ));
    let llm = server.llm().api_key(KEY).build().unwrap();
    assert!(!format!("{llm:?}").contains(KEY));
    let session = session_with(llm).await;
    let mut events = session.subscribe();
    let outcome = turn(&session, "hello").await;
    let err = outcome.expect_err("401 is an error");
    assert!(
        matches!(err, Error::Llm(LlmError::Status { status: 401, .. })),
        "{err:?}"
    );
    assert!(!err.to_string().contains(KEY), "{err}");
    assert!(!format!("{err:?}").contains(KEY), "{err:?}");
    while let Ok(ev) = events.try_recv() {
        let line = serde_json::to_string(&ev).unwrap();
        assert!(!line.contains(KEY), "{line}");
    }
    next_turn_works(&server, &session, &["hello"]).await;
}

// ---------------------------------------------------------------- model misbehaviour

/// The turn's tool outputs as (output, is_error).
fn outputs(turn: &RunResult) -> Vec<(String, bool)> {
    turn.events()
        .iter()
        .filter_map(|e| match e {
            RunEvent::FunctionCallOutput(o) => Some((o.output.clone(), o.is_error)),
            _ => None,
        })
        .collect()
}

/// The LLM calls `name(args)`; the tool's error output must contain `expected`, reach the LLM in
/// the follow-up request, and the session goes on.
async fn bad_call(name: &str, args: &str, expected: &str) {
    let server = FaultServer::start().await;
    server.push(call_reply("call_bad", name, args));
    let session = session_for(&server).await;
    let said = "look up my order";
    let result = turn(&session, said)
        .await
        .expect("a bad call is a tool error");
    let outs = outputs(&result);
    assert_eq!(outs.len(), 1, "{result:?}");
    assert!(outs[0].1, "flagged as an error: {outs:?}");
    assert!(
        outs[0].0.contains(expected),
        "{:?} lacks {expected:?}",
        outs[0].0
    );
    assert_eq!(result.assistant_text(), "Noted.");
    let follow_up = &server.bodies()[1];
    assert!(
        tool_outputs(follow_up).iter().any(|o| o.contains(expected)),
        "the LLM sees the error: {:?}",
        tool_outputs(follow_up)
    );
    next_turn_works(&server, &session, &[said]).await;
    session.close().await;
}

#[tokio::test]
async fn invalid_json_arguments_are_a_tool_error() {
    bad_call(
        "lookup_order",
        r#"{"order_id": 12, "express": tr"#,
        "Invalid arguments for tool `lookup_order`",
    )
    .await;
}

#[tokio::test]
async fn wrong_argument_types_are_a_tool_error() {
    bad_call(
        "lookup_order",
        r#"{"order_id": "twelve", "express": "yes"}"#,
        "invalid type",
    )
    .await;
    bad_call(
        "lookup_order",
        r#"{"order_id": -3, "express": true}"#,
        "invalid value",
    )
    .await;
    bad_call("lookup_order", r#""just a string""#, "invalid type").await;
    bad_call("lookup_order", "null", "invalid type").await;
}

#[tokio::test]
async fn missing_fields_are_a_tool_error() {
    bad_call(
        "lookup_order",
        r#"{"order_id": 12}"#,
        "missing field `express`",
    )
    .await;
    bad_call("lookup_order", "", "missing field `order_id`").await;
}

#[tokio::test]
async fn unknown_tools_are_a_tool_error_listing_the_real_ones() {
    bad_call("launch_rockets", "{}", "Unknown tool `launch_rockets`").await;
    bad_call("launch_rockets", "{}", "lookup_order").await;
}

#[tokio::test]
async fn a_panicking_tool_is_a_tool_error() {
    bad_call("crash", "{}", "internal error").await;
}

#[tokio::test]
async fn tools_of_another_task_are_unknown_where_they_are_not_offered() {
    let server = FaultServer::start().await;
    // Turn 1: the agent calls the task's tool (not its own), then starts the task.
    server.push(call_reply(
        "c1",
        "record_address",
        r#"{"street": "x", "city": "y"}"#,
    ));
    server.push(call_reply("c2", "collect_address", "{}"));
    // Turn 2: the task calls the agent's tool, then completes (twice in one reply).
    server.push(call_reply(
        "c3",
        "lookup_order",
        r#"{"order_id": 1, "express": false}"#,
    ));
    server.push(calls_reply(&[
        (
            "c4",
            "record_address",
            r#"{"street": "Main St 1", "city": "Springfield"}"#,
        ),
        (
            "c5",
            "record_address",
            r#"{"street": "Elm", "city": "Shelby"}"#,
        ),
    ]));
    let session = session_for(&server).await;

    let first = turn(&session, "please deliver it").await.unwrap();
    let outs = outputs(&first);
    assert!(
        outs[0].1 && outs[0].0.contains("Unknown tool `record_address`"),
        "{outs:?}"
    );
    first.expect().contains_agent_handoff("get_address");

    let second = turn(&session, "Main St 1, Springfield").await.unwrap();
    let bodies = server.bodies();
    assert_eq!(
        offered_tools(&bodies[2]),
        ["record_address"],
        "the task's tools only"
    );
    let outs = outputs(&second);
    assert!(
        outs[0].1 && outs[0].0.contains("Unknown tool `lookup_order`"),
        "{outs:?}"
    );
    assert!(outs[0].0.contains("record_address"), "{outs:?}");
    assert!(!outs[1].1, "{outs:?}");
    assert!(outs[2].1 && outs[2].0.contains("Not run"), "{outs:?}");
    assert_eq!(
        second.final_output::<String>().unwrap(),
        "Main St 1, Springfield"
    );
    assert!(
        tool_outputs(&server.last_body())
            .iter()
            .any(|o| o == "address: Main St 1, Springfield"),
        "the awaiting tool got the task's result"
    );
    next_turn_works(
        &server,
        &session,
        &["please deliver it", "Main St 1, Springfield"],
    )
    .await;
}

#[tokio::test]
async fn a_tool_called_in_a_loop_is_stopped_after_max_tool_steps() {
    let server = FaultServer::start().await;
    server.set_responder(|_| {
        call_reply(
            "loop",
            "lookup_order",
            r#"{"order_id": 1, "express": true}"#,
        )
    });
    let session = session_for(&server).await;
    let mut events = session.subscribe();
    let outcome = turn(&session, "check again and again").await;
    match &outcome {
        Err(Error::Usage(msg)) => assert!(msg.contains("kept calling tools"), "{msg}"),
        other => panic!("expected the step limit, got {other:?}"),
    }
    assert_eq!(server.request_count(), 3 + 1, "max_tool_steps = 3");
    let last = server.last_body();
    assert!(
        offered_tools(&last).is_empty(),
        "the last step offers no tools"
    );
    let mut limit_event = false;
    while let Ok(ev) = events.try_recv() {
        if let SessionEvent::Error { content, .. } = ev {
            limit_event |= content.contains("max_tool_steps");
        }
    }
    assert!(limit_event, "the stop is reported as a session event");
    server.set_responder(echo);
    next_turn_works(&server, &session, &["check again and again"]).await;
}

#[tokio::test]
async fn a_task_that_never_completes_keeps_every_user_turn() {
    let server = FaultServer::start().await;
    server.push(call_reply("c1", "collect_address", "{}"));
    let session = session_for(&server).await;
    let mut said = vec!["deliver it please".to_string()];
    turn(&session, &said[0]).await.unwrap();
    for i in 0..5 {
        let text = format!("I'd rather not say ({i})");
        let r = turn(&session, &text).await.unwrap();
        said.push(text);
        assert!(!r.assistant_text().is_empty());
        let body = server.last_body();
        assert_eq!(
            offered_tools(&body),
            ["record_address"],
            "the task is still in control"
        );
        assert!(is_subsequence(&said, &user_texts(&body)), "{said:?}");
    }
    // It can still complete later, and the agent's conversation then holds every turn.
    server.push(call_reply(
        "c9",
        "record_address",
        r#"{"street": "A 1", "city": "B"}"#,
    ));
    let done = turn(&session, "fine: A 1, B").await.unwrap();
    said.push("fine: A 1, B".into());
    assert_eq!(done.final_output::<String>().unwrap(), "A 1, B");
    let refs: Vec<&str> = said.iter().map(String::as_str).collect();
    next_turn_works(&server, &session, &refs).await;
    assert!(offered_tools(&server.last_body()).contains(&"lookup_order".to_string()));
}

#[tokio::test]
async fn odd_tool_call_streams_do_not_break_the_turn() {
    let server = FaultServer::start().await;
    // A call without a name (dropped by the provider), then huge arguments.
    server.push(sse(vec![
        role(),
        tool_args(0, r#"{"a": 1}"#),
        finish("tool_calls"),
        done(),
    ]));
    let huge = format!(
        r#"{{"order_id": 5, "express": false, "note": "{}"}}"#,
        "x".repeat(200_000)
    );
    let session = session_for(&server).await;
    let r = turn(&session, "first")
        .await
        .expect("a nameless call is dropped");
    assert!(outputs(&r).is_empty(), "{r:?}");
    server.push(call_reply("big", "lookup_order", &huge));
    let r = turn(&session, "second").await.unwrap();
    assert_eq!(outputs(&r), [("order 5 shipped".to_string(), false)]);
    next_turn_works(&server, &session, &["first", "second"]).await;
}
