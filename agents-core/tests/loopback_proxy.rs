//! A provider pointed at this machine ignores proxy settings (its own process: it sets them).

mod common;

use agents_core::llm::{ChatContext, ChatRequest, Llm, Role};
use common::*;
use futures::StreamExt;

#[tokio::test]
async fn loopback_servers_are_reached_directly_whatever_the_proxy_settings() {
    let server = FaultServer::start().await;
    // Nothing listens on this port: going through the proxy would fail.
    let proxy = format!("http://127.0.0.1:{}", closed_port());
    for var in ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"] {
        std::env::set_var(var, &proxy);
    }
    let llm = server.llm().max_retries(0).build().unwrap();
    let mut chat_ctx = ChatContext::new();
    chat_ctx.add_message(Role::User, "hi");
    let request = ChatRequest {
        chat_ctx,
        ..Default::default()
    };
    let mut stream = llm
        .chat(request)
        .await
        .expect("reached the server directly");
    while let Some(chunk) = stream.next().await {
        chunk.unwrap();
    }
    assert_eq!(server.request_count(), 1);
}
