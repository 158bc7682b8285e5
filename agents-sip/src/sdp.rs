//! SDP (RFC 4566) parsing and the audio offer/answer we need (RFC 3264): G.711 μ-law or A-law,
//! optional RFC 4733 `telephone-event`, 20 ms packets, and the direction attributes used for hold.
//!
//! Written by hand: the subset is small, and the parser must refuse bad input with an error
//! (mapped to a SIP status) rather than panic on anything a peer sends.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

/// Largest SDP body accepted; real audio offers are well under 2 KB.
pub const MAX_SDP_LEN: usize = 16 * 1024;
/// Most `m=` sections accepted in one body.
const MAX_MEDIA: usize = 16;

/// Why an SDP body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdpError {
    /// The body is not valid SDP (bad line syntax, bad number, missing `v=`...).
    #[error("malformed SDP at line {line}: {reason}")]
    Malformed {
        /// 1-based line number.
        line: usize,
        /// What was wrong.
        reason: String,
    },
    /// Larger than [`MAX_SDP_LEN`] or with too many media sections.
    #[error("SDP too large")]
    TooLarge,
    /// No usable audio stream (no `m=audio` with a non-zero port and RTP/AVP).
    #[error("no audio stream offered")]
    NoAudio,
    /// An audio stream, but with no codec we speak (PCMU/PCMA at 8 kHz).
    #[error("no supported codec (PCMU or PCMA) offered")]
    NoCommonCodec,
    /// No connection address (`c=`) for the chosen stream.
    #[error("no connection address for the audio stream")]
    NoConnection,
}

impl SdpError {
    /// The SIP status an INVITE with this SDP gets: 488 Not Acceptable Here when the offer
    /// is well-formed but unusable, 400 Bad Request when it is not SDP at all.
    pub fn sip_status(&self) -> u16 {
        match self {
            SdpError::Malformed { .. } | SdpError::TooLarge => 400,
            SdpError::NoAudio | SdpError::NoCommonCodec | SdpError::NoConnection => 488,
        }
    }
}

/// Media direction (RFC 3264 §5.1); `sendonly`/`inactive` from a peer mean "on hold".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    /// Both ways (the default when absent).
    #[default]
    SendRecv,
    /// The sender of this SDP only sends.
    SendOnly,
    /// The sender of this SDP only receives.
    RecvOnly,
    /// No media either way.
    Inactive,
}

impl Direction {
    fn parse(attr: &str) -> Option<Self> {
        match attr {
            "sendrecv" => Some(Direction::SendRecv),
            "sendonly" => Some(Direction::SendOnly),
            "recvonly" => Some(Direction::RecvOnly),
            "inactive" => Some(Direction::Inactive),
            _ => None,
        }
    }

    /// The attribute name.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// The direction an answerer uses for an offer with this direction (RFC 3264 §6.1).
    pub fn answer(self) -> Self {
        match self {
            Direction::SendRecv => Direction::SendRecv,
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            Direction::Inactive => Direction::Inactive,
        }
    }

    /// Whether the side using this direction sends media.
    pub fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }

    /// Whether the side using this direction receives media.
    pub fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }
}

/// One `a=rtpmap` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpMap {
    /// Payload type number.
    pub payload_type: u8,
    /// Encoding name as written (e.g. `PCMU`, `telephone-event`).
    pub encoding: String,
    /// Clock rate in Hz.
    pub clock_rate: u32,
}

/// One `m=` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaDescription {
    /// Media type (`audio`, `video`, ...).
    pub kind: String,
    /// Transport port (0 = stream rejected or disabled).
    pub port: u16,
    /// Transport protocol (`RTP/AVP`, ...).
    pub proto: String,
    /// Format list as written (payload type numbers for RTP).
    pub formats: Vec<String>,
    /// Media-level `c=` address, overriding the session's.
    pub connection: Option<IpAddr>,
    /// `a=rtpmap` entries.
    pub rtpmaps: Vec<RtpMap>,
    /// Media-level direction attribute, if any.
    pub direction: Option<Direction>,
    /// `a=ptime` in milliseconds, if any.
    pub ptime: Option<u32>,
}

impl MediaDescription {
    /// Encoding name and clock rate of payload type `pt`: its rtpmap, else the static
    /// assignment of RFC 3551 for the types we know.
    pub fn encoding_of(&self, pt: u8) -> Option<(String, u32)> {
        if let Some(m) = self.rtpmaps.iter().find(|m| m.payload_type == pt) {
            return Some((m.encoding.clone(), m.clock_rate));
        }
        match pt {
            0 => Some(("PCMU".into(), 8000)),
            8 => Some(("PCMA".into(), 8000)),
            _ => None,
        }
    }
}

/// A parsed SDP body (the parts offer/answer needs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription {
    /// Session-level `c=` address.
    pub connection: Option<IpAddr>,
    /// Session-level direction attribute, if any.
    pub direction: Option<Direction>,
    /// `m=` sections in order.
    pub media: Vec<MediaDescription>,
}

/// G.711 variant carried on a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// μ-law (static payload type 0).
    Pcmu,
    /// A-law (static payload type 8).
    Pcma,
}

impl Codec {
    fn from_encoding(name: &str, rate: u32) -> Option<Self> {
        if rate != 8000 {
            return None;
        }
        if name.eq_ignore_ascii_case("PCMU") {
            Some(Codec::Pcmu)
        } else if name.eq_ignore_ascii_case("PCMA") {
            Some(Codec::Pcma)
        } else {
            None
        }
    }

    /// The encoding name used in `a=rtpmap`.
    pub fn name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
        }
    }
}

/// What offer/answer settled on for the call's audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    /// The voice codec.
    pub codec: Codec,
    /// The payload type used for the voice codec.
    pub payload_type: u8,
    /// Payload type of `telephone-event/8000`, when both sides support RFC 4733.
    pub telephone_event: Option<u8>,
    /// Where the peer wants our RTP.
    pub remote: SocketAddr,
    /// Our direction (what we put, or would put, in our SDP).
    pub local_direction: Direction,
}

impl Negotiated {
    /// Whether we may send audio now (false while the peer holds the call).
    pub fn we_send(&self) -> bool {
        self.local_direction.sends() && !self.remote.ip().is_unspecified()
    }
}

/// Our side of the media: where we receive RTP, for building SDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalMedia {
    /// Address written in `o=` and `c=` (the public IP when behind NAT).
    pub ip: IpAddr,
    /// Our RTP port.
    pub port: u16,
    /// `o=` session id (stable for the call).
    pub session_id: u64,
    /// `o=` version (incremented for each new offer or answer that changes).
    pub version: u64,
}

/// Payload type we offer for `telephone-event`.
pub const OFFER_TELEPHONE_EVENT_PT: u8 = 101;

fn malformed(line: usize, reason: impl Into<String>) -> SdpError {
    SdpError::Malformed {
        line,
        reason: reason.into(),
    }
}

/// Parses `c=IN IP4 addr` / `c=IN IP6 addr` (a multicast TTL suffix is refused).
fn parse_connection(value: &str, line: usize) -> Result<IpAddr, SdpError> {
    let mut it = value.split_ascii_whitespace();
    let (net, kind, addr) = (it.next(), it.next(), it.next());
    if net != Some("IN") || it.next().is_some() {
        return Err(malformed(line, "c= must be 'IN <IP4|IP6> <address>'"));
    }
    let addr = addr.ok_or_else(|| malformed(line, "c= without address"))?;
    let ip: IpAddr = addr
        .parse()
        .map_err(|_| malformed(line, format!("bad connection address {addr:?}")))?;
    match (kind, ip) {
        (Some("IP4"), IpAddr::V4(_)) | (Some("IP6"), IpAddr::V6(_)) => Ok(ip),
        _ => Err(malformed(
            line,
            "c= address type does not match the address",
        )),
    }
}

fn parse_media(value: &str, line: usize) -> Result<MediaDescription, SdpError> {
    let mut it = value.split_ascii_whitespace();
    let kind = it.next().ok_or_else(|| malformed(line, "empty m="))?;
    let port = it
        .next()
        .ok_or_else(|| malformed(line, "m= without port"))?;
    // "port/count" is allowed by RFC 4566; we use the first port.
    let port = port.split('/').next().unwrap_or_default();
    let port: u16 = port
        .parse()
        .map_err(|_| malformed(line, format!("bad m= port {port:?}")))?;
    let proto = it
        .next()
        .ok_or_else(|| malformed(line, "m= without proto"))?;
    let formats: Vec<String> = it.map(str::to_owned).collect();
    if formats.is_empty() {
        return Err(malformed(line, "m= without formats"));
    }
    Ok(MediaDescription {
        kind: kind.to_owned(),
        port,
        proto: proto.to_owned(),
        formats,
        connection: None,
        rtpmaps: Vec::new(),
        direction: None,
        ptime: None,
    })
}

fn parse_rtpmap(value: &str, line: usize) -> Result<RtpMap, SdpError> {
    let (pt, rest) = value
        .split_once(' ')
        .ok_or_else(|| malformed(line, "rtpmap without encoding"))?;
    let payload_type: u8 = pt
        .parse()
        .ok()
        .filter(|pt| *pt < 128)
        .ok_or_else(|| malformed(line, format!("bad rtpmap payload type {pt:?}")))?;
    let mut parts = rest.trim().split('/');
    let encoding = parts.next().unwrap_or_default();
    let rate = parts.next().unwrap_or_default();
    let clock_rate: u32 = rate
        .parse()
        .map_err(|_| malformed(line, format!("bad rtpmap clock rate {rate:?}")))?;
    if encoding.is_empty() {
        return Err(malformed(line, "rtpmap with empty encoding"));
    }
    Ok(RtpMap {
        payload_type,
        encoding: encoding.to_owned(),
        clock_rate,
    })
}

impl SessionDescription {
    /// Parses an SDP body (CRLF or LF line ends). Unknown lines and attributes are ignored.
    pub fn parse(body: &[u8]) -> Result<Self, SdpError> {
        if body.len() > MAX_SDP_LEN {
            return Err(SdpError::TooLarge);
        }
        let text = std::str::from_utf8(body).map_err(|_| malformed(0, "not UTF-8"))?;
        let mut sdp = SessionDescription {
            connection: None,
            direction: None,
            media: Vec::new(),
        };
        let mut seen_version = false;
        for (idx, raw) in text.lines().enumerate() {
            let n = idx + 1;
            let raw = raw.trim_end_matches('\r');
            if raw.trim().is_empty() {
                continue;
            }
            let bytes = raw.as_bytes();
            if bytes.len() < 2 || bytes[1] != b'=' || !bytes[0].is_ascii_lowercase() {
                return Err(malformed(n, "line is not '<letter>=<value>'"));
            }
            let (kind, value) = (bytes[0], &raw[2..]);
            if !seen_version {
                if kind != b'v' || value.trim() != "0" {
                    return Err(malformed(n, "SDP must start with v=0"));
                }
                seen_version = true;
                continue;
            }
            match kind {
                b'c' => {
                    let ip = parse_connection(value, n)?;
                    match sdp.media.last_mut() {
                        Some(m) => m.connection = Some(ip),
                        None => sdp.connection = Some(ip),
                    }
                }
                b'm' => {
                    if sdp.media.len() >= MAX_MEDIA {
                        return Err(SdpError::TooLarge);
                    }
                    sdp.media.push(parse_media(value, n)?);
                }
                b'a' => {
                    let (name, arg) = match value.split_once(':') {
                        Some((name, arg)) => (name, Some(arg)),
                        None => (value, None),
                    };
                    if let Some(dir) = Direction::parse(name) {
                        match sdp.media.last_mut() {
                            Some(m) => m.direction = Some(dir),
                            None => sdp.direction = Some(dir),
                        }
                        continue;
                    }
                    let Some(m) = sdp.media.last_mut() else {
                        continue;
                    };
                    match (name, arg) {
                        ("rtpmap", Some(arg)) => m.rtpmaps.push(parse_rtpmap(arg, n)?),
                        ("ptime", Some(arg)) => {
                            m.ptime =
                                Some(arg.trim().parse().map_err(|_| malformed(n, "bad ptime"))?)
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        if !seen_version {
            return Err(malformed(0, "empty SDP"));
        }
        Ok(sdp)
    }

    /// Index of the first usable audio stream (RTP/AVP or RTP/AVPF, port ≠ 0).
    fn audio_index(&self) -> Result<usize, SdpError> {
        self.media
            .iter()
            .position(|m| {
                m.kind == "audio" && m.port != 0 && (m.proto == "RTP/AVP" || m.proto == "RTP/AVPF")
            })
            .ok_or(SdpError::NoAudio)
    }

    /// Picks codec and telephone-event from `media` in the order of its format list.
    fn choose(media: &MediaDescription) -> Result<(Codec, u8, Option<u8>), SdpError> {
        let mut codec = None;
        let mut event = None;
        for f in &media.formats {
            let Ok(pt) = f.parse::<u8>() else { continue };
            let Some((name, rate)) = media.encoding_of(pt) else {
                continue;
            };
            if codec.is_none() {
                if let Some(c) = Codec::from_encoding(&name, rate) {
                    codec = Some((c, pt));
                }
            }
            if event.is_none() && name.eq_ignore_ascii_case("telephone-event") && rate == 8000 {
                event = Some(pt);
            }
        }
        let (c, pt) = codec.ok_or(SdpError::NoCommonCodec)?;
        Ok((c, pt, event))
    }

    /// The remote RTP address and direction of stream `idx`.
    fn remote_of(&self, idx: usize) -> Result<(SocketAddr, Direction), SdpError> {
        let m = &self.media[idx];
        let ip = m
            .connection
            .or(self.connection)
            .ok_or(SdpError::NoConnection)?;
        let dir = m.direction.or(self.direction).unwrap_or_default();
        Ok((SocketAddr::new(ip, m.port), dir))
    }

    /// Answers this offer: chooses the first PCMU/PCMA in the offer's order, echoes the
    /// offer's telephone-event payload type, and returns the negotiated parameters with
    /// the answer body. Other media sections are refused with port 0 as RFC 3264 requires.
    pub fn answer(&self, local: &LocalMedia) -> Result<(Negotiated, String), SdpError> {
        let idx = self.audio_index()?;
        let (codec, pt, event) = Self::choose(&self.media[idx])?;
        let (remote, remote_dir) = self.remote_of(idx)?;
        // An old-style hold (c=0.0.0.0) means the same as sendonly from the peer.
        let remote_dir = if remote.ip().is_unspecified() && remote_dir == Direction::SendRecv {
            Direction::SendOnly
        } else {
            remote_dir
        };
        let local_direction = remote_dir.answer();
        let mut out = session_header(local);
        for (i, m) in self.media.iter().enumerate() {
            if i == idx {
                write_audio(
                    &mut out,
                    local,
                    &[(pt, codec.name())],
                    event,
                    local_direction,
                );
            } else {
                let _ = write!(
                    out,
                    "m={} 0 {} {}\r\n",
                    m.kind,
                    m.proto,
                    m.formats.join(" ")
                );
            }
        }
        let negotiated = Negotiated {
            codec,
            payload_type: pt,
            telephone_event: event,
            remote,
            local_direction,
        };
        Ok((negotiated, out))
    }

    /// Reads the peer's answer to an offer built with [`build_offer`].
    pub fn negotiated_from_answer(&self) -> Result<Negotiated, SdpError> {
        let idx = self.audio_index()?;
        let (codec, pt, event) = Self::choose(&self.media[idx])?;
        let (remote, remote_dir) = self.remote_of(idx)?;
        Ok(Negotiated {
            codec,
            payload_type: pt,
            telephone_event: event,
            remote,
            local_direction: remote_dir.answer(),
        })
    }
}

fn session_header(local: &LocalMedia) -> String {
    let fam = if local.ip.is_ipv4() { "IP4" } else { "IP6" };
    format!(
        "v=0\r\no=- {} {} IN {fam} {}\r\ns=agents\r\nc=IN {fam} {}\r\nt=0 0\r\n",
        local.session_id, local.version, local.ip, local.ip
    )
}

fn write_audio(
    out: &mut String,
    local: &LocalMedia,
    codecs: &[(u8, &str)],
    event: Option<u8>,
    dir: Direction,
) {
    let mut fmts: Vec<String> = codecs.iter().map(|(pt, _)| pt.to_string()).collect();
    if let Some(ev) = event {
        fmts.push(ev.to_string());
    }
    let _ = write!(out, "m=audio {} RTP/AVP {}\r\n", local.port, fmts.join(" "));
    for (pt, name) in codecs {
        let _ = write!(out, "a=rtpmap:{pt} {name}/8000\r\n");
    }
    if let Some(ev) = event {
        let _ = write!(
            out,
            "a=rtpmap:{ev} telephone-event/8000\r\na=fmtp:{ev} 0-16\r\n"
        );
    }
    let _ = write!(out, "a=ptime:20\r\na={}\r\n", dir.as_str());
}

/// Builds our offer (outbound calls, re-INVITE for hold): PCMU, PCMA, telephone-event.
pub fn build_offer(local: &LocalMedia, dir: Direction) -> String {
    let mut out = session_header(local);
    write_audio(
        &mut out,
        local,
        &[(0, "PCMU"), (8, "PCMA")],
        Some(OFFER_TELEPHONE_EVENT_PT),
        dir,
    );
    out
}

#[cfg(test)]
#[path = "sdp_tests.rs"]
mod tests;
