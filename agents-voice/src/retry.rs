//! Retry and timeout policy for provider requests, as the reference's
//! `APIConnectOptions`: at most 3 retries, the first after 0.1 s, later ones after
//! 2.0 s; each attempt bounded by a timeout (10 s) so a hanging provider fails.
//!
//! Only errors marked retryable (see [`VoiceError::is_retryable`]) are retried.
//! Streaming TTS callers use [`RetryPolicy::attempt_delay`] directly so that they can
//! stop retrying once audio went out.

use std::future::Future;
use std::time::Duration;

use crate::error::{VoiceError, VoiceResult};

/// When and how often to retry a provider request.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (3).
    pub max_retries: u32,
    /// Delay before the first retry (0.1 s).
    pub first_retry_delay: Duration,
    /// Delay before every later retry (2.0 s).
    pub retry_interval: Duration,
    /// Bound on one attempt; also the bound on the gap between streamed chunks (10 s).
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            first_retry_delay: Duration::from_millis(100),
            retry_interval: Duration::from_secs(2),
            timeout: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries (timeouts still apply).
    pub fn no_retry(timeout: Duration) -> Self {
        Self {
            max_retries: 0,
            timeout,
            ..Self::default()
        }
    }

    /// Delay before retry number `retry` (0-based), or `None` when retries are used up.
    pub fn attempt_delay(&self, retry: u32) -> Option<Duration> {
        if retry >= self.max_retries {
            None
        } else if retry == 0 {
            Some(self.first_retry_delay)
        } else {
            Some(self.retry_interval)
        }
    }

    /// Runs `op` under the timeout, retrying retryable failures per the policy.
    /// Returns the last error when all attempts failed.
    pub async fn run<T, F, Fut>(&self, provider: &str, mut op: F) -> VoiceResult<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = VoiceResult<T>>,
    {
        let mut retry = 0;
        loop {
            let result = match tokio::time::timeout(self.timeout, op()).await {
                Ok(r) => r,
                Err(_) => Err(VoiceError::Timeout {
                    provider: provider.to_string(),
                    after: self.timeout,
                }),
            };
            match result {
                Ok(v) => return Ok(v),
                Err(e) if e.is_retryable() => match self.attempt_delay(retry) {
                    Some(delay) => {
                        tracing::warn!(provider, error = %e, retry = retry + 1, ?delay, "provider request failed; retrying");
                        tokio::time::sleep(delay).await;
                        retry += 1;
                    }
                    None => return Err(e),
                },
                Err(e) => return Err(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    fn err(retryable: bool) -> VoiceError {
        VoiceError::provider("p", "boom", retryable, Some(500))
    }

    #[tokio::test(start_paused = true)]
    async fn retries_at_0_1_then_2_s_at_most_three_times() {
        let calls = Arc::new(AtomicU32::new(0));
        let start = tokio::time::Instant::now();
        let times = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (c, t) = (calls.clone(), times.clone());
        let r: VoiceResult<()> = RetryPolicy::default()
            .run("p", move || {
                c.fetch_add(1, Ordering::SeqCst);
                t.lock().unwrap().push(start.elapsed());
                async { Err(err(true)) }
            })
            .await;
        assert!(r.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 4, "1 attempt + 3 retries");
        let ms: Vec<u128> = times
            .lock()
            .unwrap()
            .iter()
            .map(|d| d.as_millis())
            .collect();
        assert_eq!(ms, vec![0, 100, 2100, 4100]);
    }

    #[tokio::test(start_paused = true)]
    async fn non_retryable_fails_at_once_and_success_stops() {
        let calls = Arc::new(AtomicU32::new(0));
        let c = calls.clone();
        let r: VoiceResult<()> = RetryPolicy::default()
            .run("p", move || {
                c.fetch_add(1, Ordering::SeqCst);
                async { Err(err(false)) }
            })
            .await;
        assert!(matches!(
            r,
            Err(VoiceError::Provider {
                retryable: false,
                ..
            })
        ));
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        let c = Arc::new(AtomicU32::new(0));
        let c2 = c.clone();
        let r = RetryPolicy::default()
            .run("p", move || {
                let n = c2.fetch_add(1, Ordering::SeqCst);
                async move {
                    if n == 0 {
                        Err(err(true))
                    } else {
                        Ok(7)
                    }
                }
            })
            .await;
        assert_eq!(r.unwrap(), 7);
        assert_eq!(c.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_hang_times_out() {
        let policy = RetryPolicy::no_retry(Duration::from_secs(1));
        let r: VoiceResult<()> = policy.run("slow", futures::future::pending).await;
        match r {
            Err(VoiceError::Timeout { provider, after }) => {
                assert_eq!(provider, "slow");
                assert_eq!(after, Duration::from_secs(1));
            }
            other => panic!("expected a timeout, got {other:?}"),
        }
    }
}
