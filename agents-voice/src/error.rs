//! Error types of the voice crate: audio format errors and provider/pipeline errors.
//!
//! Every provider error says whether a retry may help (`retryable`), so the retry
//! policy in [`crate::retry`] and the pipeline's error budget can decide without
//! string matching.

use std::time::Duration;

/// An audio buffer or format was not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AudioError {
    /// A sample rate of zero (or otherwise unusable) was given.
    #[error("invalid sample rate {0} Hz: must be greater than zero")]
    InvalidSampleRate(u32),
    /// A channel count of zero was given.
    #[error("invalid channel count {0}: must be greater than zero")]
    InvalidChannels(u16),
    /// Interleaved samples do not divide evenly into the channels.
    #[error("{len} interleaved samples cannot be split evenly into {channels} channels")]
    UnevenChannels {
        /// Number of samples given.
        len: usize,
        /// Number of channels declared.
        channels: u16,
    },
    /// 16-bit PCM bytes must come in pairs.
    #[error("odd byte count {0}: 16-bit PCM needs an even number of bytes")]
    OddByteCount(usize),
    /// A stream received a frame in a format other than the one it was set up for.
    #[error("format mismatch: expected {expected_rate} Hz/{expected_channels} ch, got {rate} Hz/{channels} ch")]
    FormatMismatch {
        /// Rate the stream was created for.
        expected_rate: u32,
        /// Channel count the stream was created for.
        expected_channels: u16,
        /// Rate of the offending frame.
        rate: u32,
        /// Channels of the offending frame.
        channels: u16,
    },
    /// WAV reading or writing failed (I/O, bad header, unsupported encoding).
    #[error("WAV error: {0}")]
    Wav(String),
    /// The resampler could not be built or failed.
    #[error("resampler error: {0}")]
    Resample(String),
}

/// Any error of the voice stack.
#[derive(Debug, Clone, thiserror::Error)]
pub enum VoiceError {
    /// Bad audio input or format.
    #[error(transparent)]
    Audio(#[from] AudioError),
    /// A speech provider (STT/TTS) failed.
    #[error("{provider} error{}: {message}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
    Provider {
        /// Provider label, e.g. `openai-stt`.
        provider: String,
        /// What went wrong, as reported by the provider or transport.
        message: String,
        /// Whether retrying the same request may succeed (network errors, 5xx, 429).
        retryable: bool,
        /// HTTP status, when there was one.
        status: Option<u16>,
    },
    /// A provider did not answer in time.
    #[error("{provider} timed out after {after:?}")]
    Timeout {
        /// Provider label.
        provider: String,
        /// The configured timeout that elapsed.
        after: Duration,
    },
    /// Configuration is missing or invalid (names the environment variables involved).
    #[error("voice configuration error: {0}")]
    Config(String),
    /// The stream or channel was closed.
    #[error("stream closed")]
    Closed,
}

impl VoiceError {
    /// Builds a [`VoiceError::Provider`].
    pub fn provider(
        provider: impl Into<String>,
        message: impl Into<String>,
        retryable: bool,
        status: Option<u16>,
    ) -> Self {
        VoiceError::Provider {
            provider: provider.into(),
            message: message.into(),
            retryable,
            status,
        }
    }

    /// Whether a retry of the same request may help. Timeouts are retryable; audio,
    /// configuration and closed-stream errors are not.
    pub fn is_retryable(&self) -> bool {
        match self {
            VoiceError::Provider { retryable, .. } => *retryable,
            VoiceError::Timeout { .. } => true,
            VoiceError::Audio(_) | VoiceError::Config(_) | VoiceError::Closed => false,
        }
    }

    /// Returns the same error marked as not retryable (used once audio went out).
    pub fn into_non_retryable(self) -> Self {
        match self {
            VoiceError::Provider {
                provider,
                message,
                status,
                ..
            } => VoiceError::Provider {
                provider,
                message,
                retryable: false,
                status,
            },
            VoiceError::Timeout { provider, after } => VoiceError::Provider {
                provider,
                message: format!("timed out after {after:?} after audio was emitted"),
                retryable: false,
                status: None,
            },
            other => other,
        }
    }
}

/// Result alias of the voice crate.
pub type VoiceResult<T> = Result<T, VoiceError>;

/// Whether an HTTP status is worth retrying (408, 409, 429 and 5xx).
pub fn status_is_retryable(status: u16) -> bool {
    matches!(status, 408 | 409 | 429) || (500..600).contains(&status)
}

/// Maps a transport error: connection/timeout failures are retryable, others are not.
pub(crate) fn from_reqwest(provider: &str, e: reqwest::Error) -> VoiceError {
    let status = e.status().map(|s| s.as_u16());
    let retryable = e.is_connect()
        || e.is_timeout()
        || e.is_request()
        || e.is_body()
        || status.is_some_and(status_is_retryable);
    VoiceError::provider(provider, e.to_string(), retryable, status)
}

/// Turns a non-success HTTP response into an error carrying the body text.
pub(crate) async fn check_status(
    provider: &str,
    resp: reqwest::Response,
) -> VoiceResult<reqwest::Response> {
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    let code = status.as_u16();
    let body = resp.text().await.unwrap_or_default();
    let body: String = body.chars().take(500).collect();
    Err(VoiceError::provider(
        provider,
        format!("HTTP {code}: {body}"),
        status_is_retryable(code),
        Some(code),
    ))
}

/// The current tokio runtime, or a clear error instead of the panic `tokio::spawn` gives
/// outside one (provider streams run on their own tasks).
pub(crate) fn runtime(provider: &str) -> VoiceResult<tokio::runtime::Handle> {
    tokio::runtime::Handle::try_current().map_err(|_| {
        VoiceError::Config(format!(
            "{provider}: stream() must be called inside a tokio runtime"
        ))
    })
}
