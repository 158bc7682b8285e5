//! A reply in progress can be interrupted, and closing never waits for a stalled model.

use agents_core::llm::{ChatChunk, ChatRequest, ChatStream, Llm, LlmError};
use agents_core::prelude::*;
use futures::future::BoxFuture;
use futures::StreamExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Says "Let me think" and then stalls forever; counts how many streams were dropped.
#[derive(Clone, Default)]
struct StallingLlm {
    dropped: Arc<AtomicUsize>,
}

struct DropCounter(Arc<AtomicUsize>);
impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl Llm for StallingLlm {
    fn chat(&self, _request: ChatRequest) -> BoxFuture<'_, Result<ChatStream, LlmError>> {
        let guard = DropCounter(self.dropped.clone());
        Box::pin(async move {
            let first = futures::stream::iter(vec![Ok(ChatChunk::Text("Let me think".into()))]);
            let stall = futures::stream::pending().map(move |x| {
                let _ = &guard;
                x
            });
            Ok(first.chain(stall).boxed())
        })
    }
}

/// Thinks a lot.
#[agent]
struct Thinker;

#[function_tools]
impl Thinker {}

#[tokio::test]
async fn interrupt_stops_the_reply_and_the_session_goes_on() {
    let llm = StallingLlm::default();
    let session = Arc::new(AgentSession::new(llm.clone()));
    session.start(Thinker).await.unwrap();
    let mut events = session.subscribe();
    let s = session.clone();
    let turn = tokio::spawn(async move { s.run("hello").await });
    // Wait until the reply has started streaming.
    loop {
        if let Some(SessionEvent::TextDelta { .. }) = events.recv().await {
            break;
        }
    }
    session.interrupt();
    let turn = tokio::time::timeout(Duration::from_secs(5), turn)
        .await
        .expect("the turn ends after the interrupt")
        .unwrap()
        .unwrap();
    let msg = turn
        .expect()
        .contains_message(Role::Assistant)
        .message()
        .clone();
    assert_eq!(msg.content, "Let me think");
    assert!(msg.interrupted);
    assert_eq!(
        llm.dropped.load(Ordering::SeqCst),
        1,
        "the LLM stream was dropped"
    );

    // Close while the next reply stalls: it returns promptly.
    let s = session.clone();
    let pending = tokio::spawn(async move { s.run("again").await });
    loop {
        if let Some(SessionEvent::TextDelta { .. }) = events.recv().await {
            break;
        }
    }
    tokio::time::timeout(Duration::from_secs(5), session.close())
        .await
        .expect("close does not wait for the stalled model");
    let _ = pending.await;
    assert!(session.is_closed());
}
