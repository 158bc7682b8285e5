//! Load benchmark over loopback, two processes: this process is the agent (a SIP server
//! whose handler runs a VAD on the caller's audio and talks continuously); it starts a
//! copy of itself with `--role callers` that places the calls with the call simulator, so
//! the figures below are the agent process's alone. Prints JSON lines:
//! - `sip_setup`: INVITE → 200 OK (+ACK) latency at a fixed call rate, p50/p99 (measured
//!   by the callers process);
//! - `sip_concurrent`: N calls each sending and receiving 20 ms G.711; the agent's RTP
//!   pacing lateness (p50/p99/max), packets dropped inside the agent process, its CPU and
//!   memory per call, and what the callers sent and received.
//!
//! `cargo run --release -p agents-sip --example sip_bench -- --calls 200 --seconds 10`
//! (`--in-process` runs both ends in this process, as earlier versions did.)

use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agents_sip::audio::{mono_8k, AudioOutput, InputEvent};
use agents_sip::call::Call;
use agents_sip::server::{SipConfig, SipServer};
use agents_sip::testing::{CallSimulator, SimulatedCall};
use agents_voice::vad::{EarshotVad, Vad, VadOptions};
use clap::{Parser, ValueEnum};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Role {
    /// The SIP server with the agent handler (starts the callers process).
    Agent,
    /// The simulated callers (started by the agent process).
    Callers,
}

#[derive(Parser)]
struct Args {
    /// Which end of the calls this process runs.
    #[arg(long, value_enum, default_value_t = Role::Agent)]
    role: Role,
    /// Concurrent calls.
    #[arg(long, default_value_t = 200)]
    calls: usize,
    /// Measurement window with all calls up.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Calls placed for the setup-latency measurement.
    #[arg(long, default_value_t = 50)]
    setup_calls: usize,
    /// Call rate for the setup measurement (calls per second).
    #[arg(long, default_value_t = 10.0)]
    setup_rate: f64,
    /// Skip the VAD in the handler.
    #[arg(long)]
    no_vad: bool,
    /// Run the agent's RTP pacing thread at real-time priority.
    #[arg(long)]
    realtime_pacing: bool,
    /// Run the callers in this process too (both ends counted).
    #[arg(long)]
    in_process: bool,
    /// The agent's SIP address (callers role).
    #[arg(long)]
    target: Option<SocketAddr>,
}

#[derive(Default)]
struct Totals {
    frames_in: u64,
    input_dropped: u64,
    lost: u64,
    late_ticks: u64,
    sent: u64,
    send_failed: u64,
}

fn proc_stat() -> (f64, u64) {
    // (CPU seconds of this process, resident set in KiB)
    let tick = 100.0;
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, r)| r.split_whitespace().collect())
        .unwrap_or_default();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|u| u.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let cpu = field(11) + field(12);
    let rss = std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0);
    (cpu / tick, rss)
}

/// UDP datagrams the kernel dropped for a full receive buffer (whole machine).
fn udp_rcvbuf_errors() -> u64 {
    let snmp = std::fs::read_to_string("/proc/net/snmp").unwrap_or_default();
    let mut udp = snmp.lines().filter(|l| l.starts_with("Udp:"));
    let (Some(names), Some(values)) = (udp.next(), udp.next()) else {
        return 0;
    };
    names
        .split_whitespace()
        .zip(values.split_whitespace())
        .find(|(n, _)| *n == "RcvbufErrors")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0)
}

fn pct(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    f64::from(sorted[i]) / 1000.0
}

type Controls = Arc<Mutex<Vec<agents_sip::CallControl>>>;

fn handler(
    totals: Arc<Mutex<Totals>>,
    controls: Controls,
    vad: Option<Arc<EarshotVad>>,
) -> impl Fn(Call) -> futures::future::BoxFuture<'static, ()> + Send + Sync {
    move |mut call: Call| {
        let totals = totals.clone();
        let vad = vad.clone();
        controls.lock().unwrap().push(call.control());
        Box::pin(async move {
            let mut input = call.take_input().expect("input");
            let mut out = call.output();
            let talk = tokio::spawn(async move {
                let tone: Vec<i16> = (0..160)
                    .map(|n| ((n as f64 * 0.345).sin() * 4000.0) as i16)
                    .collect();
                while out.capture_frame(mono_8k(tone.clone())).await.is_ok() {}
            });
            let mut stream = vad.map(|v| v.stream());
            let mut frames = 0u64;
            while let Some(ev) = input.recv().await {
                match ev {
                    InputEvent::Audio(f) => {
                        frames += 1;
                        if let Some(s) = stream.as_mut() {
                            s.push_frame(&f);
                        }
                    }
                    InputEvent::Hangup => break,
                    InputEvent::Dtmf(_) => {}
                }
            }
            talk.abort();
            let media = call.control();
            let s = media.media().stats();
            let mut t = totals.lock().unwrap();
            t.frames_in += frames;
            t.input_dropped += s.input_dropped.load(Ordering::Relaxed);
            t.lost += s.lost.load(Ordering::Relaxed);
            t.late_ticks += s.late_ticks.load(Ordering::Relaxed);
            t.sent += s.sent.load(Ordering::Relaxed);
            t.send_failed += s.send_failed.load(Ordering::Relaxed);
        })
    }
}

/// Places `setup_calls` at `setup_rate` and prints the setup latency line.
async fn measure_setup(sim: &CallSimulator, addr: SocketAddr, args: &Args) -> Result<(), Error> {
    let mut setup = Vec::new();
    let mut calls = Vec::new();
    let gap = Duration::from_secs_f64(1.0 / args.setup_rate);
    let mut next = Instant::now();
    for _ in 0..args.setup_calls {
        tokio::time::sleep_until(next.into()).await;
        next += gap;
        let t0 = Instant::now();
        calls.push(sim.call(addr).await?);
        setup.push(t0.elapsed().as_micros() as u32);
    }
    for c in calls.drain(..) {
        c.hangup().await;
    }
    setup.sort_unstable();
    println!(
        "{}",
        json!({"bench": "sip_setup", "calls": args.setup_calls, "rate_cps": args.setup_rate,
               "p50_ms": pct(&setup, 0.5), "p99_ms": pct(&setup, 0.99), "max_ms": pct(&setup, 1.0)})
    );
    Ok(())
}

/// Places `n` calls, each talking continuously; a call that fails to set up is counted
/// (second value) and not retried.
async fn place_calls(sim: &CallSimulator, addr: SocketAddr, n: usize) -> (Vec<SimulatedCall>, u64) {
    let mut calls = Vec::with_capacity(n);
    let mut failed = 0;
    for _ in 0..n {
        let c = match sim.call(addr).await {
            Ok(c) => c,
            Err(e) => {
                eprintln!("call set-up failed: {e}");
                failed += 1;
                continue;
            }
        };
        let mut speaker = c.output();
        tokio::spawn(async move {
            let talk: Vec<i16> = (0..160)
                .map(|n| ((n as f64 * 0.2).sin() * 3000.0) as i16)
                .collect();
            while speaker.capture_frame(mono_8k(talk.clone())).await.is_ok() {}
        });
        calls.push(c);
    }
    (calls, failed)
}

/// Media counters of the callers' side: (packets sent, packets received, lost).
fn caller_counts(calls: &[SimulatedCall]) -> (u64, u64, u64) {
    calls.iter().fold((0, 0, 0), |(s, r, l), c| {
        let ctl = c.control();
        let st = ctl.media().stats();
        (
            s + st.sent.load(Ordering::Relaxed),
            r + st.received.load(Ordering::Relaxed),
            l + st.lost.load(Ordering::Relaxed),
        )
    })
}

type Error = Box<dyn std::error::Error + Send + Sync>;

/// The callers process: setup measurement, then `calls` concurrent calls until the agent
/// writes a line on stdin (or closes it), bounded by a deadline of its own.
async fn run_callers(args: Args) -> Result<(), Error> {
    let addr = args
        .target
        .ok_or("--target is required with --role callers")?;
    let limit = Duration::from_secs(args.seconds + 120 + args.calls as u64 / 10);
    let work = async {
        let mut sim = CallSimulator::with_rtp_ports(30000..=39999).await?;
        sim.set_record_audio(false);
        measure_setup(&sim, addr, &args).await?;
        let (calls, failed) = place_calls(&sim, addr, args.calls).await;
        println!(
            "{}",
            json!({"bench": "sip_callers_up", "calls": calls.len(), "failed": failed})
        );
        println!("ready");
        let mut stdin = BufReader::new(tokio::io::stdin());
        let mut line = String::new();
        let _ = stdin.read_line(&mut line).await;
        let (sent, received, lost) = caller_counts(&calls);
        for c in calls {
            c.hangup().await;
        }
        println!(
            "{}",
            json!({"bench": "sip_callers", "sent": sent, "received": received, "lost": lost})
        );
        Ok::<_, Error>(())
    };
    tokio::time::timeout(limit, work)
        .await
        .map_err(|_| "callers process ran out of time")?
}

/// Starts the callers process and returns it with its stdout lines.
fn spawn_callers(
    args: &Args,
    addr: SocketAddr,
) -> Result<
    (
        tokio::process::Child,
        tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    ),
    Error,
> {
    let mut child = tokio::process::Command::new(std::env::current_exe()?)
        .args(["--role", "callers", "--target", &addr.to_string()])
        .args(["--calls", &args.calls.to_string()])
        .args(["--seconds", &args.seconds.to_string()])
        .args(["--setup-calls", &args.setup_calls.to_string()])
        .args(["--setup-rate", &args.setup_rate.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let out = child.stdout.take().ok_or("no stdout")?;
    Ok((child, BufReader::new(out).lines()))
}

async fn run_agent(args: Args) -> Result<(), Error> {
    let mut cfg = SipConfig::new("127.0.0.1:0".parse()?);
    cfg.rtp_ports = 20000..=29999;
    cfg.max_calls = args.calls.max(args.setup_calls) + 10;
    cfg.record_send_timing = true;
    cfg.realtime_pacing = args.realtime_pacing;
    let server = SipServer::bind(cfg).await?;
    let addr = server.local_addr();
    let handle = server.handle();
    let totals = Arc::new(Mutex::new(Totals::default()));
    let vad = (!args.no_vad).then(|| Arc::new(EarshotVad::new(VadOptions::default())));
    let controls: Controls = Arc::default();
    tokio::spawn(server.serve(handler(totals.clone(), controls.clone(), vad)));
    let (_, rss0) = proc_stat();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();

    // Set-up measurement and all calls up, in this process or the callers process.
    let mut local_calls = Vec::new();
    let mut local_sim = None;
    let mut child = None;
    if args.in_process {
        let mut sim = CallSimulator::with_rtp_ports(30000..=39999).await?;
        sim.set_record_audio(false);
        measure_setup(&sim, addr, &args).await?;
        let (calls, failed) = place_calls(&sim, addr, args.calls).await;
        println!(
            "{}",
            json!({"bench": "sip_callers_up", "calls": calls.len(), "failed": failed})
        );
        local_calls = calls;
        local_sim = Some(sim);
    } else {
        let (c, mut lines) = spawn_callers(&args, addr)?;
        let deadline = Duration::from_secs(60 + args.calls as u64 / 5);
        loop {
            let line = tokio::time::timeout(deadline, lines.next_line())
                .await
                .map_err(|_| "callers did not get ready in time")??
                .ok_or("callers process ended early")?;
            if line == "ready" {
                break;
            }
            println!("{line}");
        }
        child = Some((c, lines));
    }
    // Only the steady state, all calls up, is measured.
    controls.lock().unwrap().retain(|c| !c.is_ended());
    let calls_up = controls.lock().unwrap().len();
    for c in controls.lock().unwrap().iter() {
        c.media().take_send_timing();
    }
    // Setup calls have ended; count from here.
    *totals.lock().unwrap() = Totals::default();
    let rcvbuf0 = udp_rcvbuf_errors();
    let (cpu0, rss1) = proc_stat();
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    let (cpu1, _) = proc_stat();
    let wall = t0.elapsed().as_secs_f64();
    let rcvbuf = udp_rcvbuf_errors().saturating_sub(rcvbuf0);
    let mut timing: Vec<u32> = Vec::new();
    for c in controls.lock().unwrap().iter() {
        timing.extend(c.media().take_send_timing());
    }
    let mut callers = serde_json::Value::Null;
    if let Some((mut c, mut lines)) = child {
        if let Some(mut stdin) = c.stdin.take() {
            let _ = stdin.write_all(b"stop\n").await;
        }
        let read = async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                    callers = v;
                }
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(60), read).await;
        let _ = tokio::time::timeout(Duration::from_secs(5), c.wait()).await;
    } else {
        let (sent, received, lost) = caller_counts(&local_calls);
        callers = json!({"sent": sent, "received": received, "lost": lost});
        for c in local_calls {
            c.hangup().await;
        }
        drop(local_sim);
    }
    // Let handlers record their figures.
    let deadline = Instant::now() + Duration::from_secs(10);
    while handle.stats().active_calls > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let t = std::mem::take(&mut *totals.lock().unwrap());
    timing.sort_unstable();
    let cpu_share = (cpu1 - cpu0) / wall;
    println!(
        "{}",
        json!({
            "bench": "sip_concurrent", "calls": args.calls, "calls_up": calls_up,
            "seconds": args.seconds,
            "vad": !args.no_vad, "both_ends_in_process": args.in_process,
            "realtime_pacing": args.realtime_pacing, "loadavg": load.trim(),
            "send_lateness_p50_ms": pct(&timing, 0.5), "send_lateness_p99_ms": pct(&timing, 0.99),
            "send_lateness_max_ms": pct(&timing, 1.0), "ticks": timing.len(),
            "late_ticks_over_2ms_whole_calls": t.late_ticks, "packets_sent_by_agent": t.sent,
            "send_failed": t.send_failed, "frames_received_by_agent": t.frames_in,
            "input_dropped": t.input_dropped, "lost_by_agent": t.lost,
            "udp_rcvbuf_errors_machine": rcvbuf,
            "callers_sent": callers["sent"], "callers_received": callers["received"],
            "cpu_cores_used": cpu_share,
            "cpu_pct_of_one_core_per_call": cpu_share * 100.0 / calls_up.max(1) as f64,
            "rss_kib_per_call": (rss1.saturating_sub(rss0)) as f64 / calls_up.max(1) as f64,
            "rss_mib": rss1 as f64 / 1024.0,
        })
    );
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Error> {
    let args = Args::parse();
    match args.role {
        Role::Agent => run_agent(args).await,
        Role::Callers => run_callers(args).await,
    }
}
