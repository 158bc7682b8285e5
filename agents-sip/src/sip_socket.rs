//! The SIP socket under rsipstack's UDP transport. A request the SIP parser refuses is
//! answered here with `400 Bad Request` (rsipstack's transport would drop it unanswered, and
//! the caller would retransmit until its timer gives up); every other datagram is handed on.
//!
//! A 400 needs the request's `Via`, `From`, `To`, `Call-ID` and `CSeq` to reach its sender
//! and match its transaction: they are copied line by line from the raw text. Without them
//! (or when the datagram is not text, or is a response) nothing can be answered and the
//! datagram goes on to rsipstack, which drops it. Each datagram is parsed here and again by
//! rsipstack: signalling is a few messages per call, so that is cheap. The answer comes before
//! rsipstack's source whitelist, which this server does not set.

use std::net::SocketAddr;

use rsipstack::platform::net::UdpSocket as PlatformUdpSocket;

/// The server's SIP socket.
pub(crate) struct SipSocket {
    socket: tokio::net::UdpSocket,
}

impl SipSocket {
    /// Binds `listen`.
    pub(crate) async fn bind(listen: SocketAddr) -> std::io::Result<Self> {
        Ok(SipSocket {
            socket: tokio::net::UdpSocket::bind(listen).await?,
        })
    }
}

#[async_trait::async_trait]
impl PlatformUdpSocket for SipSocket {
    async fn recv_from(&self, buf: &mut [u8]) -> rsipstack::Result<(usize, SocketAddr)> {
        loop {
            let (len, from) = self.socket.recv_from(buf).await?;
            let Some(reply) = bad_request_reply(&buf[..len]) else {
                return Ok((len, from));
            };
            tracing::info!(%from, "unparseable SIP request answered with 400");
            if let Err(e) = self.socket.send_to(reply.as_bytes(), from).await {
                tracing::debug!(%from, error = %e, "could not send a 400");
            }
        }
    }

    async fn send_to(&self, buf: &[u8], addr: SocketAddr) -> rsipstack::Result<usize> {
        Ok(self.socket.send_to(buf, addr).await?)
    }

    fn local_addr(&self) -> rsipstack::Result<SocketAddr> {
        Ok(self.socket.local_addr()?)
    }
}

/// Headers a response must echo, by full and compact name, in the order they are written.
const ECHOED: [(&str, Option<&str>); 5] = [
    ("via", Some("v")),
    ("from", Some("f")),
    ("to", Some("t")),
    ("call-id", Some("i")),
    ("cseq", None),
];

/// The `400 Bad Request` for `packet` when it is a SIP request the parser refuses and it
/// carries what a response needs; `None` for anything else (it goes on unchanged).
pub(crate) fn bad_request_reply(packet: &[u8]) -> Option<String> {
    if packet.iter().all(u8::is_ascii_whitespace) {
        return None; // keep-alive
    }
    if rsipstack::sip::SipMessage::try_from(packet).is_ok() {
        return None;
    }
    let text = std::str::from_utf8(packet).ok()?;
    let mut lines = text.split('\n').map(|l| l.trim_end_matches('\r'));
    let first = lines.next()?;
    if first.starts_with("SIP/") || first.split_whitespace().count() != 3 {
        return None; // a response, or not a request line at all
    }
    let mut found: [Vec<&str>; 5] = Default::default();
    for line in lines.take_while(|l| !l.is_empty()) {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim().to_ascii_lowercase();
        let value = value.trim();
        let slot = ECHOED
            .iter()
            .position(|(full, compact)| name == *full || Some(name.as_str()) == *compact);
        if let Some(i) = slot {
            found[i].push(value);
        }
    }
    if found.iter().any(Vec::is_empty) {
        return None;
    }
    let mut reply = String::from("SIP/2.0 400 Bad Request\r\n");
    for via in &found[0] {
        reply.push_str(&format!("Via: {via}\r\n"));
    }
    let to = found[2][0];
    let to = if to.to_ascii_lowercase().contains(";tag=") {
        to.to_string()
    } else {
        format!("{to};tag={:08x}", fastrand::u32(..))
    };
    reply.push_str(&format!(
        "From: {}\r\nTo: {to}\r\nCall-ID: {}\r\nCSeq: {}\r\nContent-Length: 0\r\n\r\n",
        found[1][0], found[3][0], found[4][0]
    ));
    Some(reply)
}

#[cfg(test)]
mod tests {
    use super::bad_request_reply;

    const HEADERS: &str = "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa\r\nv: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKb\r\nf: <sip:alice@example.com>;tag=1\r\nTo: <sip:agent@example.com>\r\ni: abc@10.0.0.1\r\nCSeq: 7 INVITE\r\nContent-Length: 0\r\n\r\n";

    #[test]
    fn a_request_with_a_broken_request_line_gets_a_400_that_matches_it() {
        // A port out of range in the Request-URI: the parser refuses the whole message.
        let packet = format!("INVITE sip:agent@example.com:99999 SIP/2.0\r\n{HEADERS}");
        let reply = bad_request_reply(packet.as_bytes()).expect("a 400");
        assert!(reply.starts_with("SIP/2.0 400 Bad Request\r\n"), "{reply}");
        for line in [
            "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa\r\nVia: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKb\r\n",
            "From: <sip:alice@example.com>;tag=1\r\n",
            "Call-ID: abc@10.0.0.1\r\n",
            "CSeq: 7 INVITE\r\n",
            "Content-Length: 0\r\n\r\n",
        ] {
            assert!(reply.contains(line), "{line:?} in {reply}");
        }
        assert!(
            reply.contains("To: <sip:agent@example.com>;tag="),
            "{reply}"
        );
    }

    #[test]
    fn valid_messages_responses_keepalives_and_headerless_junk_pass_through() {
        let valid = format!("OPTIONS sip:agent@127.0.0.1 SIP/2.0\r\n{HEADERS}");
        assert_eq!(bad_request_reply(valid.as_bytes()), None);
        assert_eq!(bad_request_reply(b"\r\n\r\n"), None);
        assert_eq!(bad_request_reply(b"\x00\x01garbage"), None);
        // An unparseable response (status not a number) is not answered either.
        let response = format!("SIP/2.0 2x0 OK\r\n{HEADERS}");
        assert!(rsipstack::sip::SipMessage::try_from(response.as_bytes()).is_err());
        assert_eq!(bad_request_reply(response.as_bytes()), None);
        // Without a Call-ID a response cannot be matched: nothing to answer.
        let no_call_id = "INVITE sip:agent@example.com:99999 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKa\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCSeq: 1 INVITE\r\n\r\n";
        assert_eq!(bad_request_reply(no_call_id.as_bytes()), None);
    }
}
