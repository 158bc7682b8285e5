//! [`SentenceTtsAdapter`]: makes a whole-text [`BatchTts`] streamable, as the reference's
//! `tts.StreamAdapter`: streamed text is cleaned (markdown, emoji), split into sentences
//! (`min_sentence_len` 20) and each sentence synthesized in order while more text
//! arrives. A sentence whose request fails before any of its audio went out is retried
//! per the [`RetryPolicy`]; once audio went out the error ends the stream, marked not
//! retryable. A provider that stays silent for `timeout` fails the request.

use std::sync::Arc;

use futures::StreamExt;
use tokio::sync::mpsc;

use super::emitter::Emitter;
use super::{BatchTts, Tts, TtsInput, TtsStream, STREAM_CAPACITY};
use crate::audio::MonoResampler;
use crate::error::{VoiceError, VoiceResult};
use crate::retry::RetryPolicy;
use crate::text::{SentenceSplitter, TtsTextFilter};

/// Sentence-splitting streaming wrapper around a [`BatchTts`].
pub struct SentenceTtsAdapter<B: BatchTts> {
    batch: Arc<B>,
    retry: RetryPolicy,
    min_sentence_len: usize,
    filter_text: bool,
    label: String,
}

impl<B: BatchTts> SentenceTtsAdapter<B> {
    /// Wraps `batch` with the default retry policy, 20-character sentences and text filters on.
    pub fn new(batch: B) -> Self {
        let label = batch.label().to_string();
        Self {
            batch: Arc::new(batch),
            retry: RetryPolicy::default(),
            min_sentence_len: 20,
            filter_text: true,
            label,
        }
    }

    /// Sets the retry/timeout policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets the minimum sentence length.
    pub fn with_min_sentence_len(mut self, len: usize) -> Self {
        self.min_sentence_len = len;
        self
    }

    /// Turns the markdown/emoji filters off (for text that is already plain).
    pub fn without_text_filters(mut self) -> Self {
        self.filter_text = false;
        self
    }
}

enum Job {
    Sentence(String),
    SegmentEnd,
}

impl<B: BatchTts> Tts for SentenceTtsAdapter<B> {
    fn sample_rate(&self) -> u32 {
        self.batch.sample_rate()
    }

    fn stream(&self) -> VoiceResult<TtsStream> {
        let rt = crate::error::runtime(&self.label)?;
        let (input_tx, mut input_rx) = mpsc::channel::<TtsInput>(STREAM_CAPACITY);
        let (out_tx, out_rx) = mpsc::channel(STREAM_CAPACITY);
        let (job_tx, mut job_rx) = mpsc::unbounded_channel::<Job>();
        let (min_len, filter_text) = (self.min_sentence_len, self.filter_text);
        rt.spawn(async move {
            let mut filter = TtsTextFilter::new();
            let mut splitter = SentenceSplitter::new(min_len);
            let mut open = false;
            while let Some(input) = input_rx.recv().await {
                let (text, end_segment, end_input) = match input {
                    TtsInput::Text(t) => {
                        (if filter_text { filter.push(&t) } else { t }, false, false)
                    }
                    TtsInput::Flush => (filter.finish(), true, false),
                    TtsInput::EndInput => (filter.finish(), true, true),
                };
                open |= !text.is_empty();
                let mut sentences = splitter.push(&text);
                if end_segment {
                    sentences.extend(splitter.flush());
                }
                for s in sentences {
                    if job_tx.send(Job::Sentence(s)).is_err() {
                        return;
                    }
                }
                if end_segment && open {
                    open = false;
                    if job_tx.send(Job::SegmentEnd).is_err() {
                        return;
                    }
                }
                if end_input {
                    return;
                }
            }
            // Input dropped without EndInput: speak what is left.
            let rest = filter.finish();
            splitter.push(&rest);
            if let Some(s) = splitter.flush() {
                let _ = job_tx.send(Job::Sentence(s));
            }
            if open {
                let _ = job_tx.send(Job::SegmentEnd);
            }
        });
        let batch = self.batch.clone();
        let retry = self.retry.clone();
        let label = self.label.clone();
        rt.spawn(async move {
            let mut emitter = Emitter::new(out_tx.clone(), batch.sample_rate(), 1);
            while let Some(job) = job_rx.recv().await {
                let ok = match job {
                    Job::Sentence(text) => {
                        match speak(&*batch, &label, &retry, &text, &mut emitter).await {
                            Ok(ok) => ok,
                            Err(e) => {
                                let _ = out_tx.send(Err(e)).await;
                                return;
                            }
                        }
                    }
                    Job::SegmentEnd => emitter.end_segment().await,
                };
                if !ok {
                    return;
                }
            }
        });
        Ok(TtsStream {
            input: input_tx,
            output: out_rx,
        })
    }

    fn label(&self) -> &str {
        &self.label
    }
}

/// Synthesizes one sentence with retries before its first audio. `Ok(false)`: consumer gone.
async fn speak<B: BatchTts>(
    batch: &B,
    label: &str,
    retry: &RetryPolicy,
    text: &str,
    emitter: &mut Emitter,
) -> VoiceResult<bool> {
    let rate = batch.sample_rate();
    let mut attempt = 0;
    loop {
        emitter.add_text(if attempt == 0 { text } else { "" });
        let mut stream = batch.synthesize(text.to_string());
        let mut to_rate = MonoResampler::new(rate);
        let mut emitted = false;
        let failure = loop {
            let next = match tokio::time::timeout(retry.timeout, stream.next()).await {
                Ok(n) => n,
                Err(_) => {
                    break VoiceError::Timeout {
                        provider: label.to_string(),
                        after: retry.timeout,
                    }
                }
            };
            match next {
                Some(Ok(frame)) => {
                    let mono = to_rate.process_owned(frame)?;
                    if mono.is_empty() {
                        continue;
                    }
                    emitted = true;
                    if !emitter.push(&mono.samples).await {
                        return Ok(false);
                    }
                }
                Some(Err(e)) => break e,
                None => {
                    if let Some(tail) = to_rate.flush() {
                        if !emitter.push(&tail.samples).await {
                            return Ok(false);
                        }
                    }
                    if emitted {
                        return Ok(true);
                    }
                    break VoiceError::provider(label, "no audio frames were pushed", true, None);
                }
            }
        };
        if emitted {
            return Err(failure.into_non_retryable());
        }
        match retry.attempt_delay(attempt) {
            Some(delay) if failure.is_retryable() => {
                tracing::warn!(provider = label, error = %failure, retry = attempt + 1, ?delay, "TTS request failed before audio; retrying");
                tokio::time::sleep(delay).await;
                attempt += 1;
            }
            _ => return Err(failure),
        }
    }
}
