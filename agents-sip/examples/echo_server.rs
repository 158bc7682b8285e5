//! A SIP server that echoes each caller's audio and digits back: point SIPp or a softphone
//! at it. SIGTERM (or Ctrl-C) stops taking calls and exits when the calls in progress end.
//!
//! `cargo run -p agents-sip --example echo_server -- --listen 127.0.0.1:5080`

use clap::Parser;

use agents_sip::ports::RtpPortPool;
use agents_sip::server::{SipConfig, SipServer};

#[derive(Parser)]
struct Args {
    /// SIP listen address (UDP).
    #[arg(long, default_value = "127.0.0.1:5080")]
    listen: std::net::SocketAddr,
    /// RTP port range, A-B.
    #[arg(long, default_value = "20000-20999")]
    rtp_ports: String,
    /// Address for SDP and Contact (needed when listening on 0.0.0.0).
    #[arg(long)]
    public_ip: Option<std::net::IpAddr>,
    /// Calls at once; more get 503.
    #[arg(long, default_value_t = 100)]
    max_calls: usize,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let mut config = SipConfig::new(args.listen);
    config.rtp_ports = RtpPortPool::parse_range(&args.rtp_ports)?;
    config.public_ip = args.public_ip;
    config.max_calls = args.max_calls;
    let server = SipServer::bind(config).await?;
    eprintln!("echo server on {}", server.local_addr());
    server.handle().shutdown_on_signal();
    server.serve(agents_sip::testing::echo_handler).await?;
    eprintln!("drained, exiting");
    Ok(())
}
