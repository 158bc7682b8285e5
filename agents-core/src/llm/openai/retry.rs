//! Backoff delays and the `Retry-After` header.
//!
//! Jitter comes from `fastrand`: spreading retries needs no cryptographic randomness, and it is
//! a tiny dependency-free crate.

use reqwest::header::HeaderMap;
use std::time::Duration;

/// How the provider retries failures that happen before the first streamed token.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RetryPolicy {
    pub max_retries: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl RetryPolicy {
    /// The wait before retry number `retry` (0-based): the server's `Retry-After` when given,
    /// else exponential backoff with full jitter; both capped by `max_backoff`.
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(wait) = retry_after {
            return wait.min(self.max_backoff);
        }
        let ceiling = self
            .initial_backoff
            .saturating_mul(2u32.saturating_pow(retry))
            .min(self.max_backoff);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(fastrand::u64(0..=nanos))
    }
}

/// The server's requested wait: `retry-after-ms` (sent by some OpenAI-compatible servers), else
/// `retry-after` in seconds. HTTP-date forms and nonsense are ignored.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let parse = |name: &str, scale: f64| {
        let text = headers.get(name)?.to_str().ok()?.trim();
        let value: f64 = text.parse().ok()?;
        if !value.is_finite() || value < 0.0 {
            return None;
        }
        Duration::try_from_secs_f64(value * scale).ok()
    };
    parse("retry-after-ms", 0.001).or_else(|| parse("retry-after", 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn delays_are_capped_and_jittered() {
        let p = RetryPolicy {
            max_retries: 3,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(300),
        };
        for retry in 0..40 {
            let d = p.delay(retry, None);
            assert!(d <= Duration::from_millis(300));
            if retry == 0 {
                assert!(d <= Duration::from_millis(100));
            }
        }
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(5))),
            Duration::from_millis(300)
        );
        assert_eq!(
            p.delay(0, Some(Duration::from_millis(7))),
            Duration::from_millis(7)
        );
    }

    #[test]
    fn parses_retry_after() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert("retry-after", HeaderValue::from_static("2"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert("retry-after-ms", HeaderValue::from_static("250"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(250)));
        let mut h = HeaderMap::new();
        h.insert(
            "retry-after",
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h), None);
        h.insert("retry-after", HeaderValue::from_static("-3"));
        assert_eq!(retry_after(&h), None);
        h.insert("retry-after", HeaderValue::from_static("1e300"));
        assert_eq!(retry_after(&h), None);
    }
}
