//! Hand-written SIP over a raw UDP socket, for the cases a well-behaved UA never sends.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use agents_sip::server::{ServerHandle, SipConfig, SipServer};
use tokio::net::UdpSocket;

pub const PCMA_OFFER: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 7000 RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n";
pub const G722_OFFER: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 7000 RTP/AVP 9\r\na=rtpmap:9 G722/8000\r\n";

pub struct RawUa {
    pub sock: UdpSocket,
    pub server: SocketAddr,
}

pub struct Req<'a> {
    pub method: &'a str,
    pub call_id: &'a str,
    pub cseq: u32,
    pub branch: &'a str,
    pub to_tag: Option<&'a str>,
    pub body: &'a str,
    pub contact: bool,
}

impl RawUa {
    pub async fn new(server: SocketAddr) -> Self {
        RawUa {
            sock: UdpSocket::bind("127.0.0.1:0").await.unwrap(),
            server,
        }
    }

    pub fn build(&self, r: &Req<'_>) -> String {
        let me = self.sock.local_addr().unwrap();
        let to_tag = r.to_tag.map(|t| format!(";tag={t}")).unwrap_or_default();
        let contact = if r.contact {
            format!("Contact: <sip:raw@{me}>\r\n")
        } else {
            String::new()
        };
        let ctype = if r.body.is_empty() {
            String::new()
        } else {
            "Content-Type: application/sdp\r\n".into()
        };
        format!(
            "{m} sip:agent@{srv} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK{b};rport\r\nMax-Forwards: 70\r\nFrom: <sip:raw@{me}>;tag=rawtag\r\nTo: <sip:agent@{srv}>{to_tag}\r\nCall-ID: {cid}\r\nCSeq: {seq} {m}\r\n{contact}{ctype}Content-Length: {len}\r\n\r\n{body}",
            m = r.method, srv = self.server, b = r.branch, cid = r.call_id, seq = r.cseq,
            len = r.body.len(), body = r.body,
        )
    }

    pub async fn send(&self, text: &str) {
        self.sock
            .send_to(text.as_bytes(), self.server)
            .await
            .unwrap();
    }

    /// Next message received within `t`.
    pub async fn recv(&self, t: Duration) -> Option<String> {
        let mut buf = vec![0u8; 8192];
        let (n, _) = tokio::time::timeout(t, self.sock.recv_from(&mut buf))
            .await
            .ok()?
            .ok()?;
        Some(String::from_utf8_lossy(&buf[..n]).into_owned())
    }

    /// Receives until a final response for `method` arrives (provisionals collected too).
    pub async fn until_final(&self, method: &str) -> Vec<String> {
        let mut got = Vec::new();
        while let Some(m) = self.recv(Duration::from_secs(5)).await {
            let is_resp = m.starts_with("SIP/2.0 ");
            let ours = header(&m, "CSeq").is_some_and(|c| c.ends_with(method));
            let fin = is_resp && ours && status(&m) >= 200;
            got.push(m);
            if fin {
                break;
            }
        }
        got
    }
}

pub fn status(msg: &str) -> u16 {
    msg.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

pub fn header(msg: &str, name: &str) -> Option<String> {
    msg.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_owned())
    })
}

pub fn to_tag(msg: &str) -> Option<String> {
    let to = header(msg, "To")?;
    to.split(";tag=")
        .nth(1)
        .map(|t| t.split(';').next().unwrap_or(t).to_owned())
}

pub fn body(msg: &str) -> &str {
    msg.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("")
}

pub async fn start_server(
    cfg: impl FnOnce(&mut SipConfig),
    rtp: std::ops::RangeInclusive<u16>,
) -> (SocketAddr, ServerHandle, tokio::task::JoinHandle<()>) {
    let mut c = SipConfig::new("127.0.0.1:0".parse().unwrap());
    c.rtp_ports = rtp;
    cfg(&mut c);
    serve(c, agents_sip::testing::echo_handler).await
}

/// A server on 127.0.0.1 with RTP ports `rtp` whose calls run `handler`.
pub async fn start_server_with<H, F>(
    rtp: std::ops::RangeInclusive<u16>,
    handler: H,
) -> (SocketAddr, ServerHandle, tokio::task::JoinHandle<()>)
where
    H: Fn(agents_sip::Call) -> F + Send + Sync + 'static,
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let mut c = SipConfig::new("127.0.0.1:0".parse().unwrap());
    c.rtp_ports = rtp;
    serve(c, handler).await
}

async fn serve<H, F>(
    config: SipConfig,
    handler: H,
) -> (SocketAddr, ServerHandle, tokio::task::JoinHandle<()>)
where
    H: Fn(agents_sip::Call) -> F + Send + Sync + 'static,
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let server = SipServer::bind(config).await.unwrap();
    let addr = server.local_addr();
    let handle = server.handle();
    let task = tokio::spawn(async move {
        server.serve(handler).await.unwrap();
    });
    (addr, handle, task)
}

/// Waits until the server holds no calls, tasks, ports or dialogs.
pub async fn assert_clean(handle: &ServerHandle) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let s = handle.stats();
        if s.active_calls == 0 && s.live_tasks == 0 && s.rtp_ports_in_use == 0 && s.dialogs == 0 {
            return;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("resources left after calls ended: {s:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A 440 Hz tone at 8 kHz.
pub fn tone(ms: usize, amplitude: f64) -> Vec<i16> {
    (0..ms * 8)
        .map(|n| {
            ((n as f64 * 2.0 * std::f64::consts::PI * 440.0 / 8000.0).sin() * amplitude) as i16
        })
        .collect()
}
