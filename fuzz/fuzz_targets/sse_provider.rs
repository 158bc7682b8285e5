//! The OpenAI provider's stream parsing end to end: the fuzz input is served as the body of a
//! `200 text/event-stream` response by a raw TCP server on 127.0.0.1 (written in chunks of the
//! size the first input byte picks), and read through `OpenAiLlm::chat` like a real reply. It
//! must never panic, and what it yields must keep the provider's promises (tool calls have a
//! name, an id and non-empty arguments).

#![no_main]

#[path = "common.rs"]
mod common;

use agents_core::llm::openai::OpenAiLlm;
use agents_core::llm::{ChatChunk, ChatRequest, Llm, Role};
use futures::StreamExt;
use libfuzzer_sys::fuzz_target;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Env {
    rt: tokio::runtime::Runtime,
    llm: OpenAiLlm,
    body: Arc<Mutex<(Vec<u8>, usize)>>,
}

fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let body: Arc<Mutex<(Vec<u8>, usize)>> = Arc::default();
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}/v1", listener.local_addr().unwrap());
        let b = body.clone();
        rt.spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                tokio::spawn(serve(sock, b.clone()));
            }
        });
        let llm = OpenAiLlm::builder()
            .base_url(url)
            .api_key("fuzz")
            .max_retries(0)
            .request_timeout(Duration::from_secs(5))
            .idle_timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        Env { rt, llm, body }
    })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Reads one request, answers with the planned body, closes.
async fn serve(mut sock: tokio::net::TcpStream, body: Arc<Mutex<(Vec<u8>, usize)>>) {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 8192];
    let header_end = loop {
        match sock.read(&mut tmp).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&tmp[..n]),
        }
        if let Some(p) = find(&buf, b"\r\n\r\n") {
            break p + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < header_end + length {
        match sock.read(&mut tmp).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&tmp[..n]),
        }
    }
    let (bytes, stride) = body.lock().unwrap().clone();
    let head = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n";
    if sock.write_all(head).await.is_err() {
        return;
    }
    for chunk in bytes.chunks(stride.max(1)) {
        if sock.write_all(chunk).await.is_err() || sock.flush().await.is_err() {
            return;
        }
    }
    let _ = sock.shutdown().await;
}

fuzz_target!(|data: &[u8]| {
    let Some((stride, body)) = common::stride_and_body(data) else {
        return;
    };
    if common::skip_known_bom(body) {
        return;
    }
    let env = env();
    *env.body.lock().unwrap() = (body.to_vec(), stride * 7);
    env.rt.block_on(async {
        let mut request = ChatRequest::default();
        request.chat_ctx.add_message(Role::User, "hi");
        let Ok(mut stream) = env.llm.chat(request).await else {
            return;
        };
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(ChatChunk::ToolCall(call)) => {
                    assert!(!call.name.is_empty(), "{call:?}");
                    assert!(!call.call_id.is_empty(), "{call:?}");
                    assert!(!call.arguments.trim().is_empty(), "{call:?}");
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    });
});
