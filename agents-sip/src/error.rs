//! Errors of the SIP transport.

use crate::sdp::SdpError;

/// What went wrong in signalling or media.
#[derive(Debug, thiserror::Error)]
pub enum SipError {
    /// Bad configuration (listen address, port range...).
    #[error("configuration: {0}")]
    Config(String),
    /// Socket error.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    /// All RTP ports of the range are in use.
    #[error("no free RTP port in the configured range")]
    NoRtpPort,
    /// Unusable SDP.
    #[error("SDP: {0}")]
    Sdp(#[from] SdpError),
    /// Audio error (wrong format, output closed).
    #[error("audio: {0}")]
    Voice(#[from] agents_voice::VoiceError),
    /// Error from the SIP stack.
    #[error("SIP stack: {0}")]
    Stack(String),
    /// The peer answered a request with a failure status.
    #[error("peer answered {status}")]
    Rejected {
        /// The SIP status code.
        status: u16,
    },
    /// A digit that is not 0-9, *, #, A-D.
    #[error("invalid DTMF digit {0:?}")]
    BadDigit(char),
    /// The call is over.
    #[error("call ended")]
    CallEnded,
    /// An operation did not complete in time.
    #[error("timed out: {0}")]
    Timeout(&'static str),
}

impl From<rsipstack::Error> for SipError {
    fn from(e: rsipstack::Error) -> Self {
        SipError::Stack(e.to_string())
    }
}
