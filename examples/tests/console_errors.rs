//! `console` mode when the model server fails: every example exits non-zero, prints the error
//! once on stderr, and closes the session; a server that never answers is given up on after
//! the configured timeouts, retries are announced, and the settings come from the command line
//! or the environment.

use axum::routing::post;
use axum::Router;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const EXAMPLES: [(&str, &str); 9] = [
    ("consent", env!("CARGO_BIN_EXE_consent")),
    ("contact_info", env!("CARGO_BIN_EXE_contact_info")),
    ("dtmf", env!("CARGO_BIN_EXE_dtmf")),
    ("intake", env!("CARGO_BIN_EXE_intake")),
    ("interview", env!("CARGO_BIN_EXE_interview")),
    ("onboarding", env!("CARGO_BIN_EXE_onboarding")),
    ("payment", env!("CARGO_BIN_EXE_payment")),
    ("survey", env!("CARGO_BIN_EXE_survey")),
    ("warm_transfer", env!("CARGO_BIN_EXE_warm_transfer")),
];

struct Output {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    took: Duration,
}

/// Runs `exe console args..` against `base_url` with `input` piped in.
fn console(exe: &str, base_url: &str, args: &[&str], env: &[(&str, &str)], input: &str) -> Output {
    let dir = std::env::temp_dir();
    let mut cmd = Command::new(exe);
    cmd.arg("console")
        .args(args)
        .current_dir(&dir)
        .env("OPENAI_BASE_URL", base_url)
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_MODEL")
        .env_remove("OPENAI_TIMEOUT_SECS")
        .env_remove("OPENAI_MAX_RETRIES")
        .env_remove("RUST_LOG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    Output {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        took: started.elapsed(),
    }
}

/// The session ended because of the error: non-zero exit, the error once on stderr, the
/// session's end on stdout.
fn assert_failed_once(name: &str, out: &Output, error: &str) {
    assert_eq!(out.code, Some(1), "{name}\n{}\n{}", out.stdout, out.stderr);
    let errors: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect();
    assert_eq!(errors.len(), 1, "{name}: {}", out.stderr);
    assert!(errors[0].contains(error), "{name}: {}", out.stderr);
    assert!(
        out.stdout.trim_end().ends_with("[session closed]"),
        "{name}: {}",
        out.stdout
    );
    assert!(!out.stdout.contains("[error"), "{name}: {}", out.stdout);
}

#[test]
fn every_example_exits_non_zero_when_every_model_request_fails() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let app = Router::new().route(
        "/v1/chat/completions",
        post(|| async { (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "overloaded") }),
    );
    runtime.spawn(async move { axum::serve(listener, app).await });
    let output = std::env::temp_dir().join(format!("agents-fail-{}.csv", std::process::id()));
    for (name, exe) in EXAMPLES {
        let mut args = vec!["--max-retries", "0"];
        if name == "survey" {
            args.extend(["--output", output.to_str().unwrap()]);
        }
        let out = console(
            exe,
            &url,
            &args,
            &[],
            "hello, I need help\nyes please\nstill there?\n",
        );
        assert_failed_once(name, &out, "HTTP 500");
    }
    let _ = std::fs::remove_file(&output);
}

#[test]
fn a_closed_port_fails_the_same_way() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/v1");
    for (name, exe) in [EXAMPLES[0], EXAMPLES[1]] {
        let out = console(exe, &url, &["--max-retries", "0"], &[], "hello\nyes\n");
        assert_failed_once(name, &out, "LLM connection failed");
    }
}

/// Accepts connections on loopback and never answers.
fn silent_server(runtime: &tokio::runtime::Runtime) -> String {
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    runtime.spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    url
}

#[test]
fn a_silent_model_server_is_given_up_on_and_retries_are_announced() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let url = silent_server(&runtime);
    let out = console(
        EXAMPLES[1].1,
        &url,
        &["--timeout", "0.3", "--max-retries", "1"],
        &[],
        "hello\n",
    );
    assert_failed_once("contact_info", &out, "no response within 300 ms");
    assert!(
        out.stderr.contains(
            "[model: LLM connection failed: no response within 300 ms; retrying (1 of 1)"
        ),
        "{}",
        out.stderr
    );
    assert!(out.took < Duration::from_secs(20), "{:?}", out.took);
}

#[test]
fn timeouts_and_retries_come_from_the_environment() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let url = silent_server(&runtime);
    let out = console(
        EXAMPLES[1].1,
        &url,
        &[],
        &[("OPENAI_TIMEOUT_SECS", "0.3"), ("OPENAI_MAX_RETRIES", "0")],
        "hello\n",
    );
    assert_failed_once("contact_info", &out, "no response within 300 ms");
    assert!(!out.stderr.contains("retrying"), "{}", out.stderr);
    // A malformed value is refused before the call, naming the variable.
    let out = console(
        EXAMPLES[1].1,
        &url,
        &[],
        &[("OPENAI_TIMEOUT_SECS", "soon")],
        "hello\n",
    );
    assert_eq!(out.code, Some(1));
    assert!(out.stderr.contains("OPENAI_TIMEOUT_SECS"), "{}", out.stderr);
    assert!(!out.stdout.contains("[session"), "{}", out.stdout);
}
