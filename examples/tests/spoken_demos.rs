//! The demos with a capture task play their spoken conversation to its end over a phone call.
//!
//! Spoken input is read back and confirmed by the prebuilt capture tasks (typed input is not),
//! so these demos give the caller extra lines (the confirmations) and the script the replies
//! they need. Each demo's example serves a `sip --scripted` call on 127.0.0.1: the simulated
//! caller says one utterance per spoken line, each after the agent's answer to the one before,
//! and the scripted recogniser hears it as that line. The call's transcript must then hold
//! every line, the tools that confirm each captured value, the demo's last words, and never the
//! script's fallback answer (what the model says when a line matches nothing).
//!
//! The demos run at once, each on its own worker process and RTP ports, in real time (about a
//! minute in all).

mod support;

use std::time::Duration;

use agents_examples::{demos, Demo};
use agents_sip::testing::SimulatedCall;
use futures::future::join_all;
use support::{
    call_errors, ended_reason, first_utterance_8k, messages, of_type, place_call, wait_for_reply,
    PlacedCall,
};

/// Silence after the agent's speech that ends its answer.
const QUIET: Duration = Duration::from_millis(700);
/// Longest wait for an answer.
const TURN: Duration = Duration::from_secs(20);

/// One demo's spoken conversation and what its end looks like.
struct Case {
    /// The example (binary) name.
    name: &'static str,
    demo: fn() -> Demo,
    /// First of the 200 RTP ports of its worker (its caller's are 1000 above).
    rtp: u16,
    /// The agent speaks before the caller.
    greets: bool,
    /// The agent ends the call after its last words (else the caller hangs up).
    agent_ends: bool,
    /// Tools that must have been called (the capture confirmations among them).
    tools: &'static [&'static str],
    /// Tasks that must have completed, each with a part of its result (as JSON).
    tasks: &'static [(&'static str, &'static str)],
    /// The demo's last words.
    end: &'static str,
    /// What the script says when a line matches nothing.
    fallback: &'static str,
    /// User lines are redacted in the transcript (a sensitive task).
    sensitive: bool,
}

const CASES: [Case; 5] = [
    Case {
        name: "survey",
        demo: demos::survey::demo,
        rtp: 52000,
        greets: true,
        agent_ends: true,
        tools: &[
            "update_email_address",
            "confirm_email_address",
            "record_commute_flexibility",
            "record_experience",
            "record_work_style",
        ],
        tasks: &[("get_email_task", r#"{"email_address":"alex@example.com"}"#)],
        end: "The team will be in touch soon!",
        fallback: "Could you say that again?",
        sensitive: false,
    },
    Case {
        name: "intake",
        demo: demos::intake::demo,
        rtp: 52200,
        greets: true,
        agent_ends: false,
        tools: &[
            "update_email_address",
            "confirm_email_address",
            "update_address",
            "confirm_address",
        ],
        tasks: &[
            ("get_email_task", "pat@example.com"),
            ("get_address_task", r#""postal_code":"62704""#),
        ],
        end: "Your profile is set up.",
        fallback: "Sorry, could you repeat that?",
        sensitive: false,
    },
    Case {
        name: "payment",
        demo: demos::payment::demo,
        rtp: 52400,
        greets: false,
        agent_ends: false,
        tools: &[
            "update_card_number",
            "confirm_card_number",
            "update_expiry_date",
            "confirm_expiry_date",
            "update_security_code",
            "confirm_security_code",
            "update_name",
            "confirm_name",
        ],
        tasks: &[
            ("card_number_step", "redacted"),
            ("expiry_step", "redacted"),
            ("security_code_step", "redacted"),
            ("get_name_task", "redacted"),
            ("get_credit_card_task", "redacted"),
        ],
        end: "Your order is confirmed.",
        fallback: "Is there anything else?",
        sensitive: true,
    },
    Case {
        name: "contact_info",
        demo: demos::contact_info::demo,
        rtp: 52600,
        greets: false,
        agent_ends: false,
        tools: &["collect_contact_info", "record_contact_info"],
        tasks: &[("get_contact_info_task", "jane.doe@example.com")],
        end: "your contact details are saved.",
        fallback: "How can I help you today?",
        sensitive: false,
    },
    Case {
        name: "onboarding",
        demo: demos::onboarding::demo,
        rtp: 52800,
        greets: false,
        agent_ends: false,
        tools: &["start_onboarding", "out_of_scope", "record_email"],
        tasks: &[("email_task", "sam@example.com")],
        end: "You're all set, Sam!",
        fallback: "Could you say that again?",
        sensitive: false,
    },
];

/// Plays `case`'s spoken lines on a call and checks its transcript; the error says what went
/// wrong, with the messages of the transcript.
async fn play(case: &Case) -> Result<(), String> {
    let lines: Vec<String> = (case.demo)()
        .spoken_lines()
        .iter()
        .map(|l| l.to_string())
        .collect();
    let exe = support::exe(case.name);
    let test = format!("spoken-{}", case.name);
    let PlacedCall {
        worker,
        sim: _sim,
        mut call,
        call_id,
    } = place_call(&test, exe, case.rtp, &["--scripted"], &[]).await;
    let played = converse(case, &mut call, &lines).await;
    if played.is_err() || !case.agent_ends {
        call.hangup().await;
    }
    let transcript = worker.transcript(&call_id).await;
    played
        .and_then(|()| check(case, &lines, &transcript))
        .map_err(|e| {
            let said: Vec<String> = of_type(&transcript, "message")
                .map(|m| format!("  {}: {}", m["role"], m["content"]))
                .collect();
            format!("{}: {e}\n{}", case.name, said.join("\n"))
        })
}

/// Says each line after the agent's answer to the one before (and its greeting, if it
/// greets); waits for the agent to end the call when it does.
async fn converse(case: &Case, call: &mut SimulatedCall, lines: &[String]) -> Result<(), String> {
    let utterance = first_utterance_8k();
    if case.greets && wait_for_reply(call, 0, QUIET, TURN).await == 0 {
        return Err("no greeting".into());
    }
    for (i, line) in lines.iter().enumerate() {
        call.play(&utterance)
            .await
            .map_err(|e| format!("cannot say {line:?}: {e}"))?;
        if i + 1 == lines.len() && case.agent_ends {
            break;
        }
        let from = call.recorded().len();
        if wait_for_reply(call, from, QUIET, TURN).await == 0 {
            return Err(format!("no answer to {line:?}"));
        }
    }
    if case.agent_ends && !call.wait_for_hangup(TURN).await {
        return Err("the agent did not end the call".into());
    }
    Ok(())
}

/// The transcript holds every spoken line, the tools, the tasks' results, the last words and
/// no fallback.
fn check(case: &Case, lines: &[String], transcript: &[serde_json::Value]) -> Result<(), String> {
    let heard = messages(transcript, "user");
    if case.sensitive {
        // Lines said inside the sensitive task are redacted: count them.
        if heard.len() != lines.len() {
            return Err(format!("heard {} lines, not {}", heard.len(), lines.len()));
        }
    } else if heard != lines {
        return Err(format!("heard {heard:?}, not {lines:?}"));
    }
    let called: Vec<&str> = of_type(transcript, "function_call")
        .filter_map(|v| v["name"].as_str())
        .collect();
    for tool in case.tools {
        if !called.contains(tool) {
            return Err(format!("{tool} was not called (called {called:?})"));
        }
    }
    for (task, result) in case.tasks {
        let done = of_type(transcript, "task_completed")
            .any(|v| v["name"] == *task && v["output"].to_string().contains(result));
        if !done {
            return Err(format!("{task} did not complete with {result}"));
        }
    }
    let said = messages(transcript, "assistant");
    if said.iter().any(|s| s.contains(case.fallback)) {
        return Err(format!("the fallback {:?} was said", case.fallback));
    }
    if !said.last().is_some_and(|s| s.contains(case.end)) {
        return Err(format!("the last words are not {:?}", case.end));
    }
    let errors = call_errors(transcript);
    if !errors.is_empty() {
        return Err(format!("call errors {errors:?}"));
    }
    let reason = ended_reason(transcript);
    let expected = if case.agent_ends {
        "agent_ended"
    } else {
        "caller_hung_up"
    };
    if reason != expected {
        return Err(format!("ended as {reason}, not {expected}"));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capture_demos_play_their_spoken_lines_to_the_end_over_a_call() {
    let results = join_all(CASES.iter().map(play)).await;
    let failures: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn typed_demos_keep_their_lines_and_capture_demos_add_the_confirmations() {
    for case in &CASES {
        let demo = (case.demo)();
        let (typed, spoken) = (demo.lines.clone(), demo.spoken_lines().to_vec());
        // Every typed line is still said, in order; the spoken lines only add turns.
        let mut rest = spoken.iter();
        for line in &typed {
            assert!(
                rest.any(|s| s == line),
                "{}: {line:?} is not among the spoken lines {spoken:?}",
                case.name
            );
        }
        // The demos whose capture tasks confirm on voice input say more than they type.
        let confirms = ["survey", "intake", "payment"].contains(&case.name);
        assert_eq!(
            spoken.len() > typed.len(),
            confirms,
            "{}: {} spoken lines for {} typed",
            case.name,
            spoken.len(),
            typed.len()
        );
    }
}
