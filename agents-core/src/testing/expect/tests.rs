//! Tests of the turn assertions.

use super::*;
use crate::llm::{AgentHandoff, ChatMessage, FunctionCall, FunctionCallOutput, Role};
use crate::session::RunEvent;
use crate::testing::run_result_from_events;
use serde_json::json;

struct CollectConsent;

fn handoff(old: Option<&str>, new: &str, ty: &'static str) -> RunEvent {
    RunEvent::AgentHandoff {
        item: AgentHandoff::new(old.map(String::from), new),
        new_agent_type: ty,
    }
}

fn message(role: Role, text: &str) -> RunEvent {
    RunEvent::Message(ChatMessage::new(role, text))
}

fn call(name: &str, args: &str) -> RunEvent {
    RunEvent::FunctionCall(FunctionCall::new("c1", name, args))
}

fn output(name: &str, text: &str, is_error: bool) -> RunEvent {
    let call = FunctionCall::new("c1", name, "{}");
    RunEvent::FunctionCallOutput(FunctionCallOutput::new(&call, text, is_error))
}

fn consent_turn() -> RunResult {
    run_result_from_events(vec![
        handoff(
            Some("customer_service"),
            "collect_consent",
            std::any::type_name::<CollectConsent>(),
        ),
        message(Role::Assistant, "Hi there"),
        call("consent_given", "{}"),
    ])
}

fn full_turn() -> RunResult {
    run_result_from_events(vec![
        message(Role::Assistant, "Let me check."),
        call(
            "lookup",
            r#"{"id": 7, "when": {"day": "mon", "hour": 9.0}, "tags": ["a", {"k": 1}], "n": null}"#,
        ),
        output("lookup", "Order 7 SHIPPED", false),
        call("cancel", ""),
        output("cancel", "not allowed", true),
        handoff(
            Some("support"),
            "collect_consent",
            std::any::type_name::<CollectConsent>(),
        ),
        message(Role::Assistant, "Your order has shipped."),
    ])
}

#[track_caller]
fn panic_message(f: impl FnOnce()) -> String {
    let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .expect_err("the assertion should have failed");
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(payload) => payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .unwrap_or_default(),
    }
}

#[test]
fn failure_listing_is_exact() {
    let result = consent_turn();
    let msg = panic_message(|| {
        let mut turn = result.expect();
        turn.skip_next(1);
        turn.next_event().is_function_call("consent_given", None);
    });
    assert_eq!(
        msg,
        r#"expected a function call `consent_given`, found message assistant: "Hi there"
events of the turn:
    [0] agent_handoff customer_service -> collect_consent
>>> [1] message assistant: "Hi there"
    [2] function_call consent_given({})"#
    );
}

#[test]
fn next_event_walks_in_order() {
    let result = consent_turn();
    let mut turn = expect(&result);
    turn.next_event().is_agent_handoff("collect_consent");
    assert_eq!(turn.cursor(), 1);
    let m = turn.next_event().is_message(Role::Assistant);
    assert_eq!(m.content(), "Hi there");
    assert_eq!(m.event().index(), 1);
    turn.next_event()
        .is_function_call("consent_given", json!({}));
    turn.no_more_events();

    let msg = panic_message(|| {
        turn.next_event();
    });
    assert!(
        msg.starts_with("expected another event, but the turn has only 3 events\n"),
        "{msg}"
    );
    assert!(!msg.contains(">>>"), "{msg}");
}

#[test]
fn no_more_events_marks_the_first_extra_event() {
    let result = consent_turn();
    let mut turn = result.expect();
    turn.skip_next(2);
    let msg = panic_message(|| turn.no_more_events());
    assert!(
        msg.starts_with("expected no more events, found function_call consent_given({})\n"),
        "{msg}"
    );
    assert!(msg.contains(">>> [2]"), "{msg}");
    let msg = panic_message(|| {
        turn.skip_next(2);
    });
    assert!(
        msg.starts_with("expected at least 2 more events to skip, found 1\n"),
        "{msg}"
    );
}

#[test]
fn empty_turn_listing() {
    let result = run_result_from_events(Vec::new());
    result.expect().no_more_events();
    let msg = panic_message(|| {
        result.expect().next_event();
    });
    assert_eq!(
        msg,
        "expected another event, but the turn has only 0 events\nevents of the turn:\n    (none)"
    );
}

#[test]
fn is_message_pass_and_fail() {
    let result = full_turn();
    let turn = result.expect();
    turn.at(0)
        .is_message(Role::Assistant)
        .containing("LET ME")
        .containing("check");
    let msg = panic_message(|| {
        turn.at(0).is_message(Role::User);
    });
    assert!(
        msg.starts_with(r#"expected a user message, found message assistant: "Let me check.""#),
        "{msg}"
    );
    let msg = panic_message(|| {
        turn.at(1).is_message(Role::Assistant);
    });
    assert!(msg.starts_with("expected an assistant message, found function_call lookup("));
    let msg = panic_message(|| {
        turn.at(0).is_message(Role::Assistant).containing("shipped");
    });
    assert!(
        msg.starts_with(r#"expected the assistant message to contain "shipped", found message assistant: "Let me check.""#),
        "{msg}"
    );
    assert!(msg.contains(">>> [0]"), "{msg}");
}

#[test]
fn is_function_call_subset_matching() {
    let result = full_turn();
    let turn = result.expect();
    let ev = turn.at(1);
    ev.is_function_call("lookup", None);
    ev.is_function_call("lookup", json!({}));
    ev.is_function_call("lookup", json!({"id": 7}));
    ev.is_function_call("lookup", json!({"id": 7.0}));
    ev.is_function_call("lookup", json!({"when": {"hour": 9}}));
    ev.is_function_call("lookup", json!({"tags": ["a", {}]}));
    ev.is_function_call("lookup", json!({"tags": ["a", {"k": 1}], "n": null}));
    let args = ev.is_function_call("lookup", None).arguments();
    assert_eq!(args["when"]["day"], "mon");
    // Empty arguments count as {}.
    turn.at(3).is_function_call("cancel", json!({}));
    assert_eq!(
        turn.at(3).is_function_call("cancel", None).arguments(),
        json!({})
    );

    let cases = [
        (json!({"id": 8}), "(`arguments.id` is 7, expected 8)"),
        (json!({"id": "7"}), "(`arguments.id` is 7, expected \"7\")"),
        (
            json!({"when": {"minute": 0}}),
            "(`arguments.when.minute` is missing)",
        ),
        (
            json!({"when": {"hour": 9.5}}),
            "(`arguments.when.hour` is 9.0, expected 9.5)",
        ),
        (
            json!({"tags": ["a"]}),
            "(`arguments.tags` has 2 elements, expected 1)",
        ),
        (
            json!({"tags": ["a", {"k": 2}]}),
            "(`arguments.tags[1].k` is 1, expected 2)",
        ),
        (json!({"n": 0}), "(`arguments.n` is null, expected 0)"),
        (json!([]), "(`arguments` is {"),
    ];
    for (expected, detail) in cases {
        let msg = panic_message(|| {
            ev.is_function_call("lookup", expected.clone());
        });
        let headline = msg.lines().next().unwrap();
        assert!(
            headline.starts_with(&format!(
                "expected a function call `lookup` with arguments {expected}, found function_call lookup("
            )),
            "{msg}"
        );
        assert!(headline.contains(detail), "{expected}: {msg}");
    }
    let msg = panic_message(|| {
        ev.is_function_call("other", None);
    });
    assert!(msg.starts_with("expected a function call `other`, found function_call lookup("));
}

#[test]
fn invalid_json_arguments() {
    let result = run_result_from_events(vec![call("f", "{not json")]);
    let turn = result.expect();
    turn.at(0).is_function_call("f", None);
    let msg = panic_message(|| {
        turn.at(0).is_function_call("f", json!({}));
    });
    assert!(msg.contains("its arguments are not valid JSON"), "{msg}");
    let msg = panic_message(|| {
        turn.at(0).is_function_call("f", None).arguments();
    });
    assert!(
        msg.starts_with("expected the arguments of `f` to be JSON"),
        "{msg}"
    );
}

#[test]
fn function_call_output_checks() {
    let result = full_turn();
    let turn = result.expect();
    let out = turn
        .at(2)
        .is_function_call_output()
        .with_output_containing("shipped")
        .is_error(false);
    assert_eq!(out.output().name, "lookup");
    turn.at(4).is_function_call_output().is_error(true);

    let msg = panic_message(|| {
        turn.at(0).is_function_call_output();
    });
    assert!(
        msg.starts_with("expected a function call output, found message"),
        "{msg}"
    );
    let msg = panic_message(|| {
        turn.at(2)
            .is_function_call_output()
            .with_output_containing("lost");
    });
    assert!(
        msg.starts_with(r#"expected the output of `lookup` to contain "lost", found function_call_output lookup: "Order 7 SHIPPED""#),
        "{msg}"
    );
    let msg = panic_message(|| {
        turn.at(2).is_function_call_output().is_error(true);
    });
    assert!(
        msg.starts_with("expected the output of `lookup` to be an error"),
        "{msg}"
    );
    let msg = panic_message(|| {
        turn.at(4).is_function_call_output().is_error(false);
    });
    assert!(
        msg.starts_with(r#"expected the output of `cancel` not to be an error, found function_call_output cancel [error]: "not allowed""#),
        "{msg}"
    );
}

#[test]
fn agent_handoff_checks() {
    let result = full_turn();
    let turn = result.expect();
    let h = turn.at(5).is_agent_handoff("collect_consent");
    assert_eq!(h.handoff().old_agent_id.as_deref(), Some("support"));
    assert_eq!(h.new_agent_type(), std::any::type_name::<CollectConsent>());
    assert_eq!(h.event().index(), 5);
    turn.at(5)
        .is_agent_handoff_to::<CollectConsent>()
        .from_agent("support");
    let msg = panic_message(|| {
        turn.at(5)
            .is_agent_handoff_to::<CollectConsent>()
            .from_agent("billing");
    });
    assert!(
        msg.starts_with(
            "expected a handoff from `billing`, found agent_handoff support -> collect_consent\n"
        ),
        "{msg}"
    );

    let msg = panic_message(|| {
        turn.at(5).is_agent_handoff("billing");
    });
    assert!(
        msg.starts_with("expected an agent handoff to `billing`, found agent_handoff support -> collect_consent\n"),
        "{msg}"
    );
    let msg = panic_message(|| {
        turn.at(5).is_agent_handoff_to::<String>();
    });
    assert!(
        msg.starts_with("expected an agent handoff to an agent of type `alloc::string::String`, found agent_handoff support -> collect_consent (the new agent's type is `"),
        "{msg}"
    );
    let msg = panic_message(|| {
        turn.at(0).is_agent_handoff("collect_consent");
    });
    assert!(msg.starts_with("expected an agent handoff to `collect_consent`, found message"));
}

#[test]
fn contains_searches_the_whole_turn() {
    let result = full_turn();
    let mut turn = result.expect();
    turn.skip_next(7);
    assert_eq!(
        turn.contains_function_call("lookup", None).event().index(),
        1
    );
    assert_eq!(
        turn.contains_function_call("lookup", json!({"when": {"day": "mon"}}))
            .event()
            .index(),
        1
    );
    assert_eq!(
        turn.contains_function_call("cancel", json!({}))
            .event()
            .index(),
        3
    );
    assert_eq!(turn.contains_message(Role::Assistant).event().index(), 0);
    assert_eq!(turn.contains_function_call_output(None).event().index(), 2);
    assert_eq!(turn.contains_function_call_output(true).event().index(), 4);
    assert_eq!(turn.contains_function_call_output(false).event().index(), 2);
    assert_eq!(
        turn.contains_agent_handoff("collect_consent")
            .event()
            .index(),
        5
    );
    assert_eq!(
        turn.contains_agent_handoff_to::<CollectConsent>()
            .event()
            .index(),
        5
    );

    let fails: [(&dyn Fn(), &str); 6] = [
        (
            &|| {
                turn.contains_function_call("lookup", json!({"id": 1}));
            },
            "expected a function call `lookup` with arguments {\"id\":1} in the turn, found none\n",
        ),
        (
            &|| {
                turn.contains_function_call("missing", None);
            },
            "expected a function call `missing` in the turn, found none\n",
        ),
        (
            &|| {
                turn.contains_message(Role::User);
            },
            "expected a user message in the turn, found none\n",
        ),
        (
            &|| {
                turn.contains_agent_handoff("other");
            },
            "expected an agent handoff to `other` in the turn, found none\n",
        ),
        (
            &|| {
                turn.contains_agent_handoff_to::<u8>();
            },
            "expected an agent handoff to an agent of type `u8` in the turn, found none\n",
        ),
        (
            &|| {
                run_result_from_events(vec![output("x", "", false)])
                    .expect()
                    .contains_function_call_output(true);
            },
            "expected a function call output that is an error in the turn, found none\n",
        ),
    ];
    for (f, start) in fails {
        let msg = panic_message(f);
        assert!(msg.starts_with(start), "{msg}");
        assert!(!msg.contains(">>>"), "{msg}");
    }
}

#[test]
fn indexing_and_ranges() {
    let result = full_turn();
    let turn = result.expect();
    assert!(matches!(turn[1], RunEvent::FunctionCall(_)));
    assert_eq!(turn.at_back(0).index(), 6);
    turn.at_back(1).is_agent_handoff("collect_consent");
    let evs = turn.range(2..4);
    assert_eq!(evs.len(), 2);
    evs[0].is_function_call_output();
    evs[1].is_function_call("cancel", None);
    assert_eq!(turn.range(..).len(), 7);
    assert_eq!(turn.range(5..=6).len(), 2);
    assert_eq!(turn.range(7..).len(), 0);
    assert_eq!(turn.events().len(), 7);

    let msg = panic_message(|| {
        let _ = &turn[7];
    });
    assert!(
        msg.starts_with("expected an event at index 7, but the turn has only 7 events\n"),
        "{msg}"
    );
    let msg = panic_message(|| {
        turn.at_back(7);
    });
    assert!(
        msg.starts_with("expected an event at 7 from the end"),
        "{msg}"
    );
    let msg = panic_message(|| {
        turn.range(3..9);
    });
    assert!(
        msg.starts_with("expected events 3..9, but the turn has only 7 events"),
        "{msg}"
    );
    #[allow(clippy::reversed_empty_ranges)]
    let msg = panic_message(|| {
        turn.range(4..2);
    });
    assert!(msg.starts_with("expected events 4..2"), "{msg}");
}
