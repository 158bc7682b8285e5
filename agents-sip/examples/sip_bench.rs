//! Load benchmark over loopback, one process: a server whose handler runs a VAD on the
//! caller's audio and talks continuously, and a call simulator placing the calls (so both
//! ends of every call run here). Prints JSON lines:
//! - `sip_setup`: INVITE → 200 OK (+ACK) latency at a fixed call rate, p50/p99;
//! - `sip_concurrent`: N calls each sending and receiving 20 ms G.711; the server's RTP
//!   pacing lateness (p50/p99/max), packets lost or dropped inside the process, CPU and
//!   memory per call.
//!
//! `cargo run --release -p agents-sip --example sip_bench -- --calls 200 --seconds 10`

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agents_sip::audio::{mono_8k, AudioOutput, InputEvent};
use agents_sip::call::Call;
use agents_sip::server::{SipConfig, SipServer};
use agents_sip::testing::CallSimulator;
use agents_voice::vad::{EarshotVad, Vad, VadOptions};
use clap::Parser;
use serde_json::json;

#[derive(Parser)]
struct Args {
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
}

#[derive(Default)]
struct Totals {
    timing: Vec<u32>,
    frames_in: u64,
    input_dropped: u64,
    lost: u64,
    late_ticks: u64,
    sent: u64,
}

fn proc_stat() -> (f64, u64) {
    // (CPU seconds of this process, resident set in KiB)
    let tick = 100.0;
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, r)| r.split_whitespace().collect())
        .unwrap_or_default();
    let cpu = fields
        .get(11)
        .and_then(|u| u.parse::<f64>().ok())
        .unwrap_or(0.0)
        + fields
            .get(12)
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(0.0);
    let rss = std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0);
    (cpu / tick, rss)
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
            let m = media.media();
            let mut t = totals.lock().unwrap();
            t.frames_in += frames;
            t.input_dropped += m.stats().input_dropped.load(Ordering::Relaxed);
            t.lost += m.stats().lost.load(Ordering::Relaxed);
            t.late_ticks += m.stats().late_ticks.load(Ordering::Relaxed);
            t.sent += m.stats().sent.load(Ordering::Relaxed);
        })
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let mut cfg = SipConfig::new("127.0.0.1:0".parse()?);
    cfg.rtp_ports = 20000..=29999;
    cfg.max_calls = args.calls.max(args.setup_calls) + 10;
    cfg.record_send_timing = true;
    let server = SipServer::bind(cfg).await?;
    let addr = server.local_addr();
    let handle = server.handle();
    let totals = Arc::new(Mutex::new(Totals::default()));
    let vad = (!args.no_vad).then(|| Arc::new(EarshotVad::new(VadOptions::default())));
    let controls: Controls = Arc::default();
    tokio::spawn(server.serve(handler(totals.clone(), controls.clone(), vad)));
    let mut sim = CallSimulator::with_rtp_ports(30000..=39999).await?;
    sim.set_record_audio(false);

    // Call setup latency at a fixed rate.
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
    totals.lock().unwrap().timing.clear();
    *totals.lock().unwrap() = Totals::default();

    // Concurrent calls.
    let (_, rss0) = proc_stat();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    for _ in 0..args.calls {
        let c = sim.call(addr).await?;
        let mut speaker = c.output();
        tokio::spawn(async move {
            let talk: Vec<i16> = (0..160)
                .map(|n| ((n as f64 * 0.2).sin() * 3000.0) as i16)
                .collect();
            while speaker.capture_frame(mono_8k(talk.clone())).await.is_ok() {}
        });
        calls.push(c);
    }
    // Measure the steady state only: all calls up.
    controls.lock().unwrap().retain(|c| !c.is_ended());
    for c in controls.lock().unwrap().iter() {
        c.media().take_send_timing();
    }
    let (cpu0, rss1) = proc_stat();
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    let (cpu1, _) = proc_stat();
    let wall = t0.elapsed().as_secs_f64();
    let mut timing: Vec<u32> = Vec::new();
    for c in controls.lock().unwrap().iter() {
        timing.extend(c.media().take_send_timing());
    }
    for c in calls.drain(..) {
        c.hangup().await;
    }
    // Let handlers record their figures.
    let deadline = Instant::now() + Duration::from_secs(10);
    while handle.stats().active_calls > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut t = std::mem::take(&mut *totals.lock().unwrap());
    t.timing = timing;
    t.timing.sort_unstable();
    let cpu_share = (cpu1 - cpu0) / wall;
    println!(
        "{}",
        json!({
            "bench": "sip_concurrent", "calls": args.calls, "seconds": args.seconds,
            "vad": !args.no_vad, "both_ends_in_process": true, "loadavg": load.trim(),
            "send_lateness_p50_ms": pct(&t.timing, 0.5), "send_lateness_p99_ms": pct(&t.timing, 0.99),
            "send_lateness_max_ms": pct(&t.timing, 1.0), "ticks": t.timing.len(),
            "late_ticks_over_2ms_whole_calls": t.late_ticks, "packets_sent_by_server": t.sent,
            "frames_received_by_server": t.frames_in, "input_dropped": t.input_dropped,
            "lost": t.lost, "cpu_cores_used": cpu_share,
            "cpu_pct_of_one_core_per_call": cpu_share * 100.0 / args.calls as f64,
            "rss_kib_per_call": (rss1.saturating_sub(rss0)) as f64 / args.calls as f64,
        })
    );
    Ok(())
}
