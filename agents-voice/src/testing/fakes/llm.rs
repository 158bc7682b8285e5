//! Adds the reference's fake LLM timings to any [`Llm`] (e.g. a `ScriptedLlm`).

use std::sync::Arc;
use std::time::Duration;

use agents_core::llm::{ChatChunk, ChatRequest, ChatStream, Llm, LlmError};
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};

/// Wraps an LLM so its first text arrives `ttft` after the request and its last text at
/// `duration` (texts in between spread evenly); the usage reports the ttft. Tool calls and
/// usage follow the text without delay.
#[derive(Clone)]
pub struct DelayedLlm {
    inner: Arc<dyn Llm>,
    ttft: Duration,
    duration: Duration,
}

impl DelayedLlm {
    /// `inner` with a time to first token and a total duration.
    pub fn new(inner: impl Llm, ttft: Duration, duration: Duration) -> Self {
        DelayedLlm {
            inner: Arc::new(inner),
            ttft,
            duration: duration.max(ttft),
        }
    }
}

impl Llm for DelayedLlm {
    fn chat(&self, request: ChatRequest) -> BoxFuture<'_, Result<ChatStream, LlmError>> {
        async move {
            let start = tokio::time::Instant::now();
            let chunks: Vec<Result<ChatChunk, LlmError>> =
                self.inner.chat(request).await?.collect().await;
            let texts = chunks
                .iter()
                .filter(|c| matches!(c, Ok(ChatChunk::Text(_))))
                .count();
            let (ttft, duration) = (self.ttft, self.duration);
            let mut n = 0usize;
            let timed = chunks.into_iter().map(move |c| {
                let at = match &c {
                    Ok(ChatChunk::Text(_)) => {
                        n += 1;
                        let span = duration - ttft;
                        let frac = if texts > 1 {
                            (n - 1) as f64 / (texts - 1) as f64
                        } else {
                            0.0
                        };
                        Some(start + ttft + span.mul_f64(frac))
                    }
                    _ => None,
                };
                let c = match c {
                    Ok(ChatChunk::Usage(mut u)) => {
                        u.time_to_first_token = Some(ttft);
                        Ok(ChatChunk::Usage(u))
                    }
                    other => other,
                };
                (at, c)
            });
            let stream = futures::stream::iter(timed).then(move |(at, c)| async move {
                match at {
                    Some(t) => tokio::time::sleep_until(t).await,
                    None => tokio::time::sleep_until(start + duration).await,
                }
                c
            });
            Ok(stream.boxed())
        }
        .boxed()
    }

    fn label(&self) -> String {
        format!("delayed({})", self.inner.label())
    }
}
