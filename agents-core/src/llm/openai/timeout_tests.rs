//! A model server that accepts connections and never answers: the provider gives up after the
//! configured timeouts, retries the configured number of times, and says so before each retry.

use super::{OpenAiLlm, RetryNotice};
use crate::llm::{ChatContext, ChatRequest, Llm, LlmError, Role};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Accepts connections on loopback, counts them, and keeps them open without a byte of reply.
async fn silent_server() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            held.push(socket);
        }
    });
    (url, accepted)
}

fn request() -> ChatRequest {
    let mut chat_ctx = ChatContext::new();
    chat_ctx.add_message(Role::User, "hello?");
    ChatRequest {
        chat_ctx,
        ..Default::default()
    }
}

/// The error a request to `llm` ends in, and how long it took (on tokio's clock, so a paused
/// clock counts what it skipped).
async fn failed_request(llm: &OpenAiLlm) -> (LlmError, Duration) {
    let started = tokio::time::Instant::now();
    let err = llm.chat(request()).await.err().expect("the request fails");
    (err, started.elapsed())
}

/// Asserts that `err` is a connection error whose message holds `needle`.
#[track_caller]
fn assert_connection_error(err: &LlmError, needle: &str) {
    assert!(
        matches!(err, LlmError::Connection(m) if m.contains(needle)),
        "{err}"
    );
}

#[tokio::test]
async fn a_silent_server_fails_after_the_request_timeout_and_each_retry_is_announced() {
    let (url, accepted) = silent_server().await;
    let notices: Arc<Mutex<Vec<RetryNotice>>> = Arc::default();
    let seen = notices.clone();
    let llm = OpenAiLlm::builder()
        .base_url(url)
        .request_timeout(Duration::from_millis(200))
        .initial_backoff(Duration::from_millis(10))
        .max_retries(2)
        .on_retry(move |n| seen.lock().unwrap().push(n.clone()))
        .build()
        .unwrap();
    let (err, took) = failed_request(&llm).await;
    assert_connection_error(&err, "no response within 200 ms");
    assert!(
        took >= Duration::from_millis(600),
        "three attempts: {took:?}"
    );
    assert!(took < Duration::from_secs(5), "bounded: {took:?}");
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        3,
        "one try and two retries"
    );
    let notices = notices.lock().unwrap();
    assert_eq!(notices.iter().map(|n| n.retry).collect::<Vec<_>>(), [1, 2]);
    assert!(
        notices[0].to_string().contains("retrying (1 of 2)"),
        "{}",
        notices[0]
    );
}

#[tokio::test]
async fn the_total_timeout_bounds_the_wait_across_retries() {
    let (url, _accepted) = silent_server().await;
    let llm = OpenAiLlm::builder()
        .base_url(url)
        .request_timeout(Duration::from_secs(60))
        .total_timeout(Duration::from_millis(300))
        .max_retries(5)
        .build()
        .unwrap();
    let (err, took) = failed_request(&llm).await;
    assert_connection_error(&err, "total timeout of 300 ms");
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[tokio::test(start_paused = true)]
async fn by_default_a_silent_server_costs_at_most_the_total_timeout() {
    let (url, _accepted) = silent_server().await;
    let llm = OpenAiLlm::builder().base_url(url).build().unwrap();
    let (err, waited) = failed_request(&llm).await;
    assert!(matches!(err, LlmError::Connection(_)), "{err}");
    // 60 s per attempt times four before; now 30 s in all (the clock is paused and jumps).
    assert!(waited <= Duration::from_secs(31), "{waited:?}");
}
