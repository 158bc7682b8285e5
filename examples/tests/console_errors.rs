//! `console` mode when the model server fails: every example exits non-zero, prints the error
//! once on stderr, and closes the session; a server that never answers is given up on after
//! the configured timeouts, retries are announced, and the settings come from the command line
//! or the environment.

mod support;

use axum::routing::post;
use axum::Router;
use std::process::Command;
use std::time::Duration;
use support::{run_with_input, Output, EXAMPLES};

/// Runs `exe console args..` against `base_url` with `input` piped in.
fn console(exe: &str, base_url: &str, args: &[&str], env: &[(&str, &str)], input: &str) -> Output {
    let mut cmd = Command::new(exe);
    cmd.arg("console")
        .args(args)
        .current_dir(std::env::temp_dir())
        .env("OPENAI_BASE_URL", base_url)
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_MODEL")
        .env_remove("OPENAI_TIMEOUT_SECS")
        .env_remove("OPENAI_MAX_RETRIES")
        .env_remove("RUST_LOG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    run_with_input(&mut cmd, input)
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
    let (_server, addr) = support::serve(Router::new().route(
        "/v1/chat/completions",
        post(|| async { (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "overloaded") }),
    ));
    let url = format!("http://{addr}/v1");
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

/// A model server on loopback that accepts connections and never answers, and its URL; it
/// runs as long as the returned runtime.
fn silent_server() -> (tokio::runtime::Runtime, String) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
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
    (runtime, url)
}

/// The contact_info console against `url`, saying "hello" once.
fn hello_to_contact_info(url: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    console(EXAMPLES[1].1, url, args, env, "hello\n")
}

#[test]
fn a_silent_model_server_is_given_up_on_and_retries_are_announced() {
    let (_server, url) = silent_server();
    let out = hello_to_contact_info(&url, &["--timeout", "0.3", "--max-retries", "1"], &[]);
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
    let (_server, url) = silent_server();
    let from_env = [("OPENAI_TIMEOUT_SECS", "0.3"), ("OPENAI_MAX_RETRIES", "0")];
    let out = hello_to_contact_info(&url, &[], &from_env);
    assert_failed_once("contact_info", &out, "no response within 300 ms");
    assert!(!out.stderr.contains("retrying"), "{}", out.stderr);
    // A malformed value is refused before the call, naming the variable.
    let out = hello_to_contact_info(&url, &[], &[("OPENAI_TIMEOUT_SECS", "soon")]);
    assert_eq!(out.code, Some(1));
    assert!(out.stderr.contains("OPENAI_TIMEOUT_SECS"), "{}", out.stderr);
    assert!(!out.stdout.contains("[session"), "{}", out.stdout);
}
