//! Every example runs its built-in conversation against the scripted model (`demo` mode) and
//! leaves the expected transcript: the same path a user takes with `cargo run ... -- demo`.

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

/// Runs `bin demo --transcript FILE [extra..]` and returns stdout and the transcript events.
fn run_demo(bin: &str, exe: &str, extra: &[&str]) -> (String, Vec<Value>) {
    let path: PathBuf =
        std::env::temp_dir().join(format!("agents-demo-{bin}-{}.jsonl", std::process::id()));
    let out = Command::new(exe)
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
    let (stdout, events) = run_demo("consent", env!("CARGO_BIN_EXE_consent"), &[]);
    assert_eq!(calls(&events), ["consent_given"]);
    assert_eq!(completed(&events, "collect_consent"), [&Value::Bool(true)]);
    assert!(
        stdout.contains("agent: Thank you! How can I help you today?"),
        "{stdout}"
    );
    assert_eq!(events.last().unwrap()["type"], "closed");
}

#[test]
fn contact_info() {
    let (_, events) = run_demo("contact_info", env!("CARGO_BIN_EXE_contact_info"), &[]);
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
    let (_, events) = run_demo("interview", env!("CARGO_BIN_EXE_interview"), &[]);
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
    let (stdout, events) = run_demo("onboarding", env!("CARGO_BIN_EXE_onboarding"), &[]);
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
        [&serde_json::json!({"name": "Sam", "email": "sam@example.com"})]
    );
    assert!(
        stdout.contains("(task 'name' completed with \"Sam\")"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Onboarded Sam with email sam@example.com."),
        "{stdout}"
    );
}
