//! What a newcomer sees of the command line: a help text per example with the commands to try,
//! options under the subcommand they belong to, `--version`, `RUST_LOG`, and a cut input.

mod support;

use std::process::Command;
use support::{run_with_input, Output};

const EXAMPLES: [(&str, &str, &str); 9] = [
    (
        "consent",
        env!("CARGO_BIN_EXE_consent"),
        "consent to record",
    ),
    (
        "contact_info",
        env!("CARGO_BIN_EXE_contact_info"),
        "name, email and phone",
    ),
    ("dtmf", env!("CARGO_BIN_EXE_dtmf"), "phone keypad"),
    ("intake", env!("CARGO_BIN_EXE_intake"), "known email"),
    ("interview", env!("CARGO_BIN_EXE_interview"), "any order"),
    ("onboarding", env!("CARGO_BIN_EXE_onboarding"), "going back"),
    ("payment", env!("CARGO_BIN_EXE_payment"), "card payment"),
    (
        "survey",
        env!("CARGO_BIN_EXE_survey"),
        "one CSV row per call",
    ),
    (
        "warm_transfer",
        env!("CARGO_BIN_EXE_warm_transfer"),
        "warm transfer",
    ),
];

fn run(exe: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let Output {
        code,
        stdout,
        stderr,
        ..
    } = support::run(exe, args);
    (code, stdout, stderr)
}

#[test]
fn help_says_what_each_example_does_and_shows_the_commands() {
    for (name, exe, about) in EXAMPLES {
        let (code, help, _) = run(exe, &["--help"]);
        assert_eq!(code, Some(0), "{name}");
        assert!(help.contains(about), "{name}: {help}");
        assert!(!help.contains("A conversational agent"), "{name}: {help}");
        assert!(
            help.contains(&format!("--bin {name} -- demo")) && help.contains("-- console"),
            "{name}: {help}"
        );
        assert!(help.contains(&format!("Usage: {name} ")), "{name}: {help}");

        let (_, demo, _) = run(exe, &["demo", "--help"]);
        assert!(
            demo.contains("--stdin") && demo.contains("--over-http"),
            "{name}: {demo}"
        );
        assert!(
            !demo.contains("--model") && !demo.contains("--timeout"),
            "{name}: {demo}"
        );
        let (_, console, _) = run(exe, &["console", "--help"]);
        for option in [
            "--model",
            "--base-url",
            "--timeout",
            "--total-timeout",
            "--max-retries",
        ] {
            assert!(console.contains(option), "{name}: {option} in {console}");
        }
        assert!(
            !console.contains("--stdin") && !console.contains("--over-http"),
            "{name}: {console}"
        );
        // Options of the other mode are refused.
        let (code, _, err) = run(exe, &["console", "--stdin"]);
        assert_eq!(code, Some(2), "{name}: {err}");

        let (code, version, _) = run(exe, &["--version"]);
        assert_eq!(code, Some(0), "{name}");
        assert_eq!(
            version.trim(),
            format!("{name} {}", env!("CARGO_PKG_VERSION"))
        );
    }
}

/// Runs the consent demo with `input` on stdin and `rust_log` (or none).
fn consent_stdin(input: &str, rust_log: Option<&str>) -> (String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_consent"));
    cmd.args(["demo", "--stdin"]).env_remove("RUST_LOG");
    if let Some(filter) = rust_log {
        cmd.env("RUST_LOG", filter);
    }
    let out = run_with_input(&mut cmd, input);
    out.assert_success();
    (out.stdout, out.stderr)
}

#[test]
fn rust_log_shows_the_librarys_warnings_and_a_cut_input_is_announced() {
    let long = format!("yes {}\n", "word ".repeat(5_000));
    let (stdout, stderr) = consent_stdin(&long, Some("warn"));
    assert!(stderr.contains("max_input_chars"), "{stderr}");
    assert!(
        stdout.contains("[your input was too long: only its start was kept]"),
        "{stdout}"
    );
    // Without RUST_LOG, logging stays off; the console line is still there.
    let (stdout, stderr) = consent_stdin(&long, None);
    assert!(!stderr.contains("max_input_chars"), "{stderr}");
    assert!(stdout.contains("[your input was too long"), "{stdout}");
}
