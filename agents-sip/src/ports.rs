//! The pool of local RTP ports (`--rtp-ports A-B`): one even port per call, returned to the
//! pool when the call's media stops (the lease is dropped after its socket).

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::sync::{Arc, Mutex};

use tokio::net::UdpSocket;

use crate::error::SipError;

/// Hands out RTP ports from a range.
#[derive(Debug)]
pub struct RtpPortPool {
    ip: IpAddr,
    range: RangeInclusive<u16>,
    state: Mutex<PoolState>,
}

#[derive(Debug)]
struct PoolState {
    in_use: HashSet<u16>,
    cursor: u16,
}

impl RtpPortPool {
    /// A pool binding on `ip` within `range` (even ports only, RTCP convention).
    pub fn new(ip: IpAddr, range: RangeInclusive<u16>) -> Result<Arc<Self>, SipError> {
        let (lo, hi) = (*range.start(), *range.end());
        if lo == 0 || lo > hi || (lo..=hi).all(|p| p % 2 == 1) {
            return Err(SipError::Config(format!("bad RTP port range {lo}-{hi}")));
        }
        Ok(Arc::new(Self {
            ip,
            range,
            state: Mutex::new(PoolState {
                in_use: HashSet::new(),
                cursor: lo + (lo % 2),
            }),
        }))
    }

    /// Parses `A-B` (as given to `--rtp-ports`).
    pub fn parse_range(s: &str) -> Result<RangeInclusive<u16>, SipError> {
        let bad = || SipError::Config(format!("RTP ports must be 'A-B', got {s:?}"));
        let (a, b) = s.split_once('-').ok_or_else(bad)?;
        let a: u16 = a.trim().parse().map_err(|_| bad())?;
        let b: u16 = b.trim().parse().map_err(|_| bad())?;
        if a == 0 || a > b {
            return Err(bad());
        }
        Ok(a..=b)
    }

    /// Ports currently leased.
    pub fn in_use(&self) -> usize {
        self.lock().in_use.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Binds a UDP socket on the next free even port.
    pub fn bind(self: &Arc<Self>) -> Result<(UdpSocket, PortLease), SipError> {
        let (lo, hi) = (*self.range.start(), *self.range.end());
        let evens = usize::from((hi - lo) / 2 + 1);
        for _ in 0..evens {
            let port = {
                let mut st = self.lock();
                let p = st.cursor;
                st.cursor = if p.saturating_add(2) > hi {
                    lo + (lo % 2)
                } else {
                    p + 2
                };
                if p > hi || !st.in_use.insert(p) {
                    continue;
                }
                p
            };
            let lease = PortLease {
                pool: self.clone(),
                port,
            };
            match std::net::UdpSocket::bind(SocketAddr::new(self.ip, port)) {
                Ok(sock) => {
                    sock.set_nonblocking(true).map_err(SipError::Io)?;
                    let sock = UdpSocket::from_std(sock).map_err(SipError::Io)?;
                    return Ok((sock, lease));
                }
                // Taken by another process: try the next one (the lease frees this one).
                Err(_) => continue,
            }
        }
        Err(SipError::NoRtpPort)
    }
}

/// A leased port; dropping it returns the port to the pool.
#[derive(Debug)]
pub struct PortLease {
    pool: Arc<RtpPortPool>,
    port: u16,
}

impl PortLease {
    /// The leased port.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for PortLease {
    fn drop(&mut self) {
        self.pool.lock().in_use.remove(&self.port);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn leases_even_ports_and_returns_them() {
        let pool = RtpPortPool::new("127.0.0.1".parse().unwrap(), 41000..=41005).unwrap();
        let a = pool.bind().unwrap();
        let b = pool.bind().unwrap();
        let c = pool.bind().unwrap();
        let ports: HashSet<u16> = [a.1.port(), b.1.port(), c.1.port()].into();
        assert_eq!(ports, [41000, 41002, 41004].into());
        assert_eq!(pool.in_use(), 3);
        assert!(matches!(pool.bind(), Err(SipError::NoRtpPort)));
        drop(b);
        assert_eq!(pool.in_use(), 2);
        let d = pool.bind().unwrap();
        assert_eq!(d.1.port(), 41002);
    }

    #[test]
    fn parses_ranges() {
        assert_eq!(
            RtpPortPool::parse_range("20000-20999").unwrap(),
            20000..=20999
        );
        for bad in ["", "1", "5-1", "0-10", "a-b", "1-70000"] {
            assert!(RtpPortPool::parse_range(bad).is_err(), "{bad}");
        }
        assert!(RtpPortPool::new("127.0.0.1".parse().unwrap(), 41001..=41001).is_err());
    }
}
