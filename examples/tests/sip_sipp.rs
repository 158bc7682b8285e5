//! SIPp (Debian `sip-tester`), a SIP peer we did not write, against an example's `sip
//! --scripted` worker: the repository's `tests/sipp/uac_dtmf.xml` caller speaks (a pcap of
//! G.711 audio), presses 1 2 # as RFC 4733 events, waits for the agent's audio and hangs up.
//! Prints "skipped ..." and returns when `sipp` is not installed, or not running as root (pcap
//! playback needs a raw socket); when it can run, it must pass.

mod support;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use support::{assert_keypad_call, temp_dir, Worker};

fn sipp_or_skip(test: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let Some(sipp) = std::env::split_paths(&path)
        .map(|d| d.join("sipp"))
        .find(|p| p.is_file())
    else {
        eprintln!("skipped {test}: sipp not installed (apt-get install -y sip-tester)");
        return None;
    };
    let root = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false);
    if !root {
        eprintln!("skipped {test}: SIPp pcap playback needs root (raw socket)");
        return None;
    }
    Some(sipp)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sipp_calls_the_dtmf_example_and_its_digits_reach_the_agent() {
    let Some(sipp) = sipp_or_skip("sipp_calls_the_dtmf_example") else {
        return;
    };
    let dir = temp_dir("sipp-dtmf");
    let worker = Worker::scripted(env!("CARGO_BIN_EXE_dtmf"), "48000-48199", &dir);
    let scenario = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/sipp/uac_dtmf.xml");
    let errors = dir.join("sipp-errors.log");
    let run = tokio::task::spawn_blocking({
        let (dir, errors, addr) = (dir.clone(), errors.clone(), worker.addr);
        move || {
            Command::new(sipp)
                .current_dir(&dir)
                .args([
                    "-sf",
                    scenario,
                    "-i",
                    "127.0.0.1",
                    "-mi",
                    "127.0.0.1",
                    "-nostdin",
                ])
                .args(["-p", "48560", "-mp", "48600", "-m", "1", "-l", "1"])
                .args([
                    "-timeout",
                    "40s",
                    "-timeout_error",
                    "-trace_err",
                    "-error_file",
                ])
                .arg(&errors)
                .arg(addr.to_string())
                .output()
                .unwrap()
        }
    });
    let out = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("sipp finished within 60 s")
        .unwrap();
    assert!(
        out.status.success(),
        "sipp failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        std::fs::read_to_string(&errors).unwrap_or_default()
    );

    // SIPp's Call-ID is `1-<pid>@127.0.0.1`: the one transcript in the directory.
    let call_id = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .find_map(|n| n.strip_suffix(".jsonl").map(str::to_string))
        .expect("a transcript");
    let transcript = worker.transcript(&call_id).await;
    assert_keypad_call(&transcript, "12#");
}
