//! `console` mode end to end: the example binary talks to an OpenAI-compatible server (here an
//! in-process one on loopback, found through `OPENAI_BASE_URL`), reads user turns from piped
//! stdin one line at a time, and exits 0 at end of input.

mod support;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use std::process::Command;
use std::sync::{Arc, Mutex};

type Requests = Arc<Mutex<Vec<Value>>>;

fn sse(chunks: &[Value]) -> String {
    let mut body = String::new();
    for c in chunks {
        body.push_str(&format!("data: {c}\n\n"));
    }
    body.push_str("data: [DONE]\n\n");
    body
}

fn text(words: &[&str]) -> String {
    let mut chunks: Vec<Value> = words
        .iter()
        .map(|w| json!({"choices": [{"index": 0, "delta": {"content": w}}]}))
        .collect();
    chunks.push(json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}));
    sse(&chunks)
}

/// Answers like a model would for the consent agent: asks, calls a tool on "yes", then helps.
async fn chat(
    State(requests): State<Requests>,
    Json(body): Json<Value>,
) -> impl axum::response::IntoResponse {
    requests.lock().unwrap().push(body.clone());
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    let last = messages.last().cloned().unwrap_or(Value::Null);
    let offers = |name: &str| {
        body["tools"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t["function"]["name"] == name))
    };
    let reply = if last["role"] == "user"
        && last["content"]
            .as_str()
            .unwrap_or("")
            .to_lowercase()
            .contains("yes")
        && offers("consent_given")
    {
        sse(&[
            json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "call_a", "type": "function", "function": {"name": "consent_given", "arguments": ""}}]}}]}),
            json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]}}]}),
            json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}),
        ])
    } else if last["role"] == "system"
        && last["content"]
            .as_str()
            .unwrap_or("")
            .contains("Offer your assistance")
    {
        text(&["Thanks! ", "How can ", "I help?"])
    } else if last["role"] == "user" && last["content"].as_str().unwrap_or("").contains("colour") {
        // A model (or a prompt injection) trying to drive the terminal.
        text(&[
            "\u{1b}[31mred\u{1b}[0m",
            " and \u{1b}]0;title\u{7}",
            "done\r",
        ])
    } else if last["role"] == "user" {
        text(&["We open ", "at nine."])
    } else {
        text(&["May I ", "record ", "this call?"])
    };
    ([("content-type", "text/event-stream")], reply)
}

#[test]
fn consent_console_with_an_openai_compatible_server() {
    let requests: Requests = Arc::default();
    let (_server, addr) = support::serve(
        Router::new()
            .route("/v1/chat/completions", post(chat))
            .with_state(requests.clone()),
    );

    let transcript =
        std::env::temp_dir().join(format!("agents-console-{}.jsonl", std::process::id()));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_consent"));
    cmd.args(["console", "--model", "test-model", "--transcript"])
        .arg(&transcript)
        .env("OPENAI_BASE_URL", format!("http://{addr}/v1"))
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_MODEL");
    let out = support::run_with_input(
        &mut cmd,
        "yes, go ahead\nwhen do you open?\nshow me colour\n",
    );
    out.assert_success();
    let stdout = out.stdout;
    support::assert_contains_all(
        &stdout,
        &[
            "agent: May I record this call?",
            "[call consent_given({})]",
            "agent: Thanks! How can I help?",
            "agent: We open at nine.",
        ],
    );
    // A one-line banner says which model, where, and how to end.
    let banner = stdout.lines().next().unwrap();
    assert!(
        banner.starts_with(&format!("console: model test-model at http://{addr}/v1."))
            && banner.contains("/dtmf")
            && banner.contains("Ctrl-D"),
        "{banner}"
    );
    // Piped input is echoed, so the output reads as a dialogue.
    let said = stdout.find("user: yes, go ahead").expect("echoed");
    let asked = stdout.find("agent: May I record this call?").unwrap();
    let answered = stdout.find("[call consent_given({})]").unwrap();
    assert!(asked < said && said < answered, "{stdout}");
    assert!(stdout.contains("user: when do you open?"), "{stdout}");
    // Terminal control characters from the model are not printed.
    assert!(
        !stdout.contains('\u{1b}') && !stdout.contains('\r'),
        "{stdout:?}"
    );
    assert!(
        stdout.contains("agent: [31mred[0m and ]0;titledone"),
        "{stdout}"
    );

    let requests = requests.lock().unwrap().clone();
    assert!(requests
        .iter()
        .all(|r| r["model"] == "test-model" && r["stream"] == true));
    // The consent task's request offers its tools in strict form.
    let with_tools = requests.iter().find(|r| r["tools"].is_array()).unwrap();
    assert_eq!(with_tools["tools"][0]["function"]["strict"], true);

    let lines = std::fs::read_to_string(&transcript).unwrap();
    let _ = std::fs::remove_file(&transcript);
    let types: Vec<String> = lines
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    for t in [
        "message",
        "function_call",
        "function_call_output",
        "agent_handoff",
        "task_completed",
    ] {
        assert!(types.iter().any(|x| x == t), "{t} missing from {types:?}");
    }
}
