//! Every example runs its built-in conversation against the scripted model (`demo` mode) and
//! leaves the expected transcript: the same path a user takes with `cargo run ... -- demo`.

mod support;

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;
use support::{assert_contains_all, Output};

/// Runs `bin demo --transcript FILE [extra..]` and returns stdout and the transcript events.
///
/// Each demo is played twice: with the scripted model in process, and `--over-http`, where the
/// same script answers through the real OpenAI-compatible client and an in-process server that
/// rejects any request the Chat Completions API would reject. Both must hold the same
/// conversation.
fn run_demo(bin: &str, extra: &[&str]) -> (String, Vec<Value>) {
    let (stdout, events) = run_demo_once(bin, extra);
    let mut over_http_args = extra.to_vec();
    over_http_args.push("--over-http");
    let (http_stdout, http_events) = run_demo_once(bin, &over_http_args);
    assert_eq!(
        conversation(&http_events),
        conversation(&events),
        "{bin}: the demo over HTTP differs\nstdout over HTTP:\n{http_stdout}"
    );
    (stdout, events)
}

/// The events that make the conversation (not usage figures), without ids.
fn conversation(events: &[Value]) -> Vec<Value> {
    events
        .iter()
        .filter(|e| e["type"] != "usage")
        .map(|e| {
            let mut e = e.clone();
            if let Some(o) = e.as_object_mut() {
                o.remove("call_id");
            }
            e
        })
        .collect()
}

fn run_demo_once(bin: &str, extra: &[&str]) -> (String, Vec<Value>) {
    // Unique per run: tests of the same example run in parallel.
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let path: PathBuf = std::env::temp_dir().join(format!(
        "agents-demo-{bin}-{}-{run}.jsonl",
        std::process::id()
    ));
    let out = Command::new(support::exe(bin))
        .arg("demo")
        .arg("--transcript")
        .arg(&path)
        .args(extra)
        .output()
        .expect("the example binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{bin} exited with {:?}\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !stdout.contains("[error:"),
        "{bin} {extra:?}: a turn failed:\n{stdout}"
    );
    let text = std::fs::read_to_string(&path).expect("a transcript was written");
    let _ = std::fs::remove_file(&path);
    let events = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each transcript line is JSON"))
        .collect();
    (stdout, events)
}

fn calls(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["type"] == "function_call")
        .map(|e| e["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn completed<'a>(events: &'a [Value], task: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e["type"] == "task_completed" && e["name"] == task)
        .map(|e| &e["output"])
        .collect()
}

#[test]
fn consent() {
    let (stdout, events) = run_demo("consent", &[]);
    assert_eq!(calls(&events), ["consent_given"]);
    assert_eq!(completed(&events, "collect_consent"), [&Value::Bool(true)]);
    assert_contains_all(&stdout, &["agent: Thank you! How can I help you today?"]);
    assert_eq!(events.last().unwrap()["type"], "closed");
}

#[test]
fn contact_info() {
    let (_, events) = run_demo("contact_info", &[]);
    assert_eq!(
        calls(&events),
        ["collect_contact_info", "record_contact_info"]
    );
    let output = events
        .iter()
        .find(|e| e["type"] == "function_call_output" && e["name"] == "collect_contact_info")
        .unwrap();
    assert_eq!(output["output"], "Recorded contact info for Jane Doe.");
    assert_eq!(output["is_error"], false);
}

#[test]
fn interview() {
    let (_, events) = run_demo("interview", &[]);
    assert_eq!(
        calls(&events),
        ["record_work_style", "record_strengths", "record_weaknesses"]
    );
    let result = completed(&events, "behavioral_task");
    assert_eq!(result.len(), 1, "completes once, after all three");
    assert_eq!(result[0]["weaknesses"], "public speaking");
}

#[test]
fn onboarding() {
    let (stdout, events) = run_demo("onboarding", &[]);
    assert_eq!(
        calls(&events),
        [
            "start_onboarding",
            "record_name",
            "out_of_scope",
            "record_name",
            "record_email"
        ]
    );
    let group = completed(&events, "task_group");
    assert_eq!(
        group,
        [&serde_json::json!({"name_task": "Sam", "email_task": "sam@example.com"})]
    );
    assert_contains_all(
        &stdout,
        &[
            "(task 'name_task' completed with \"Sam\")",
            "Onboarded Sam with email sam@example.com.",
        ],
    );
}

/// Runs `exe args..` in `dir` (or the current directory) with `input` on stdin.
fn run_in(exe: &str, args: &[&str], input: &str, dir: Option<&std::path::Path>) -> Output {
    let mut cmd = Command::new(exe);
    cmd.args(args);
    if let Some(dir) = dir {
        cmd.current_dir(dir);
    }
    support::run_with_input(&mut cmd, input)
}

/// Runs the survey demo with `input` as the user's turns (or the built-in ones) and `output`;
/// the call must end cleanly.
fn run_survey(output: &std::path::Path, input: Option<&str>) -> String {
    let mut args = vec!["demo", "--output", output.to_str().unwrap()];
    if input.is_some() {
        args.push("--stdin");
    }
    let out = run_in(
        env!("CARGO_BIN_EXE_survey"),
        &args,
        input.unwrap_or(""),
        None,
    );
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    assert!(!out.stdout.contains("[error"), "{}", out.stdout);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    assert!(
        out.stdout.trim_end().ends_with("[session closed]"),
        "{}",
        out.stdout
    );
    out.stdout
}

#[test]
fn survey_appends_one_csv_row_per_call() {
    let output = std::env::temp_dir().join(format!("agents-survey-{}.csv", std::process::id()));
    let _ = std::fs::remove_file(&output);
    let stdout = run_survey(&output, None);
    assert_contains_all(&stdout, &["[task_group completed:"]);
    // A second call: disqualified after the email, recorded too, header not repeated.
    let stdout = run_survey(
        &output,
        Some("Hi, I'm Alex.\nMy email is alex at example dot com.\nSorry, please stop the interview.\n"),
    );
    assert_contains_all(&stdout, &["[call disqualify("]);
    assert!(!stdout.contains("[task_group completed:"), "{stdout}");
    // A third: the candidate declines to give an email; the survey ends politely.
    let stdout = run_survey(
        &output,
        Some("Hi, I'm Alex.\nI'd rather not give my email.\n"),
    );
    assert_contains_all(
        &stdout,
        &[
            "[call decline_email_capture(",
            "agent: I understand. We need an email",
        ],
    );
    // A fourth: the caller hangs up after the intro.
    run_survey(&output, Some("Hi, I'm Alex.\n"));

    let mut reader = csv::Reader::from_path(&output).unwrap();
    let headers = reader.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let _ = std::fs::remove_file(&output);
    let col = |row: &csv::StringRecord, name: &str| {
        row[headers.iter().position(|h| h == name).unwrap()].to_string()
    };
    assert_eq!(rows.len(), 4);
    assert_eq!(col(&rows[0], "name"), "Alex");
    assert_eq!(col(&rows[0], "email"), "alex@example.com");
    assert_eq!(col(&rows[0], "commute_method"), "subway");
    assert_eq!(col(&rows[0], "years_of_experience"), "6");
    assert!(col(&rows[0], "evaluation").contains("advance"));
    assert_eq!(col(&rows[0], "status"), "complete");
    assert_eq!(col(&rows[0], "disqualified"), "");
    assert_eq!(col(&rows[1], "name"), "Alex");
    assert_eq!(col(&rows[1], "status"), "disqualified");
    assert_eq!(col(&rows[1], "disqualified"), "the candidate asked to stop");
    assert_eq!(
        col(&rows[1], "email"),
        "alex@example.com",
        "recorded before the stop"
    );
    assert_eq!(col(&rows[2], "status"), "declined: email address");
    assert_eq!(col(&rows[2], "name"), "Alex");
    assert_eq!(col(&rows[3], "status"), "incomplete");
    assert_eq!(col(&rows[3], "name"), "Alex");
}

#[test]
fn survey_checks_its_output_before_the_call() {
    let out = run_in(
        env!("CARGO_BIN_EXE_survey"),
        &["demo", "--output", "/nonexistent-dir/results.csv"],
        "",
        None,
    );
    assert_ne!(out.code, Some(0), "{}", out.stdout);
    assert!(
        out.stderr
            .contains("cannot write --output /nonexistent-dir/results.csv"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stdout.contains("agent:"),
        "no call started: {}",
        out.stdout
    );
}

#[test]
fn survey_demo_without_output_writes_no_file() {
    let dir = std::env::temp_dir().join(format!("agents-survey-cwd-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let out = run_in(env!("CARGO_BIN_EXE_survey"), &["demo"], "", Some(&dir));
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(files.is_empty(), "{files:?}");
    assert!(
        out.stdout.contains("not saved without --output"),
        "{}",
        out.stdout
    );
}

/// Declining a prebuilt task's value is a normal end: no error, a polite close, exit 0.
#[test]
fn declines_end_the_flow_politely() {
    for (exe, input, said) in [
        (
            env!("CARGO_BIN_EXE_intake"),
            "I'd rather not say.\nHello?\n",
            "agent: No problem. We need an email address",
        ),
        (
            env!("CARGO_BIN_EXE_payment"),
            "I'd like to pay for my order.\nI'd rather not give my card.\n",
            "agent: No problem, I can send you a payment link instead.",
        ),
        (
            env!("CARGO_BIN_EXE_contact_info"),
            "Hi, I'd like to update my contact details.\nI'd rather not share them.\n",
            "agent: No problem, we'll keep things as they are.",
        ),
    ] {
        let out = run_in(exe, &["demo", "--stdin"], input, None);
        assert_eq!(out.code, Some(0), "{exe}\n{}\n{}", out.stdout, out.stderr);
        assert!(out.stderr.is_empty(), "{exe}: {}", out.stderr);
        assert!(!out.stdout.contains("[error"), "{exe}: {}", out.stdout);
        assert!(out.stdout.contains(said), "{exe}: {}", out.stdout);
    }
}

/// Lines printed by tools and callbacks come after the tool call that caused them, in the
/// same order in process and over HTTP.
#[test]
fn callback_lines_follow_their_tool_call() {
    for extra in [&[][..], &["--over-http"][..]] {
        let (stdout, _) = run_demo_once("onboarding", extra);
        let call = stdout
            .find(r#"[call record_name({"name":"Alex"})]"#)
            .unwrap_or_else(|| panic!("{stdout}"));
        let line = stdout
            .find(r#"(task 'name_task' completed with "Alex")"#)
            .unwrap_or_else(|| panic!("{stdout}"));
        assert!(call < line, "{extra:?}:\n{stdout}");
    }
}

/// The task ids `out_of_scope` takes are the ones the console shows.
#[test]
fn out_of_scope_ids_are_the_ids_shown() {
    let (stdout, events) = run_demo("onboarding", &[]);
    let shown: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("[task_group -> "))
        .map(|rest| rest.trim_end_matches(']'))
        .collect();
    let call = events
        .iter()
        .find(|e| e["type"] == "function_call" && e["name"] == "out_of_scope")
        .unwrap();
    let args: Value = serde_json::from_str(call["arguments"].as_str().unwrap()).unwrap();
    let ids = args["task_ids"].as_array().unwrap();
    assert!(!ids.is_empty() && !shown.is_empty(), "{ids:?} / {shown:?}");
    for id in ids {
        assert!(
            shown.contains(&id.as_str().unwrap()),
            "{id} not in {shown:?}"
        );
    }
}

#[test]
fn intake_ends_early_for_a_known_email() {
    let profiles = std::env::temp_dir().join(format!("agents-profiles-{}.txt", std::process::id()));
    std::fs::write(&profiles, "someone@example.com\nPat@Example.com\n").unwrap();
    let known = profiles.to_str().unwrap().to_string();
    let (stdout, events) = run_demo("intake", &["--profiles", &known]);
    let _ = std::fs::remove_file(&profiles);
    assert_eq!(
        calls(&events),
        ["update_email_address", "confirm_email_address"],
        "read back, confirmed, no address step"
    );
    assert!(
        completed(&events, "task_group").is_empty(),
        "the group ended early"
    );
    assert_contains_all(&stdout, &["agent: Welcome back!"]);

    let (stdout, events) = run_demo("intake", &[]);
    assert_eq!(
        calls(&events),
        [
            "update_email_address",
            "confirm_email_address",
            "update_address"
        ]
    );
    let group = completed(&events, "task_group");
    assert_eq!(group[0]["get_address_task"]["postal_code"], "62704");
    assert_contains_all(&stdout, &["agent: Your profile is set up."]);
}

#[test]
fn dtmf() {
    let (stdout, events) = run_demo("dtmf", &[]);
    assert!(
        stdout.starts_with("demo mode: the model's replies are scripted"),
        "{stdout}"
    );
    assert_contains_all(&stdout, &["You entered 2 digits, but I need 6."]);
    assert_eq!(
        completed(&events, "get_dtmf_task"),
        [&serde_json::json!({"digits": "407129"})]
    );
}

#[test]
fn warm_transfer() {
    let exe = env!("CARGO_BIN_EXE_warm_transfer");
    let (stdout, events) = run_demo("warm_transfer", &[]);
    assert_contains_all(
        &stdout,
        &["(telephony: hold caller, dial +15105550100, listen human_agent, say human_agent, listen human_agent, bridge human_agent -> caller, unhold caller, hang_up agent)"],
    );
    assert_eq!(completed(&events, "warm_transfer_task").len(), 1);
    // After the hand-over the agent says nothing more, and the session ends.
    let after = &stdout[stdout.find("hang_up agent").unwrap()..];
    assert!(!after.contains("agent:"), "{stdout}");
    assert_eq!(events.last().unwrap()["type"], "closed");
    let out = run_in(
        exe,
        &["demo", "--stdin"],
        "My internet is down.\nYes, please.\nHello? Are you still there?\n",
        None,
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(!out.stdout.contains("How can I help?"), "{}", out.stdout);
    assert!(
        out.stdout.trim_end().ends_with("[session closed]"),
        "{}",
        out.stdout
    );

    for (human, why) in [
        ("decline", "the technician declined"),
        ("busy", "the line was busy"),
        ("no-answer", "nobody answered"),
        ("voicemail", "it went to voicemail"),
    ] {
        let args = ["--human", human, "--ringing-timeout", "1"];
        let (stdout, events) = run_demo("warm_transfer", &args);
        let output = events
            .iter()
            .find(|e| e["type"] == "function_call_output" && e["name"] == "transfer_to_human")
            .unwrap_or_else(|| panic!("{human}: no tool output\n{stdout}"));
        assert_eq!(output["is_error"], true, "{human}");
        assert!(
            output["output"].as_str().unwrap().contains(why),
            "{human}: {output}"
        );
        assert!(
            stdout.contains("unhold caller"),
            "{human}: the caller resumes\n{stdout}"
        );
        assert!(
            stdout.contains("Can I take a message?"),
            "{human}\n{stdout}"
        );
    }
}

#[test]
fn payment_keeps_the_card_out_of_the_transcript() {
    let (stdout, events) = run_demo("payment", &[]);
    for event in &events {
        let line = event.to_string();
        for secret in [
            "4242 4242",
            "4242424242424242",
            "The code is 123",
            "Jane Doe",
            "12/39",
        ] {
            assert!(!line.contains(secret), "{secret} in the transcript: {line}");
        }
    }
    assert_eq!(
        completed(&events, "get_credit_card_task"),
        [&Value::String("[redacted]".into())]
    );
    let last = events
        .iter()
        .rev()
        .find(|e| e["type"] == "message")
        .unwrap();
    assert_eq!(last["role"], "assistant");
    assert!(
        last["content"]
            .as_str()
            .unwrap()
            .contains("Visa ending in 4242"),
        "{last}"
    );
    // The console shows the agent's speech in full.
    assert_contains_all(&stdout, &["agent: Sure. What's the card number?"]);
}
