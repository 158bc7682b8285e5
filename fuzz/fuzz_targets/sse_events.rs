//! The event layer under the OpenAI provider's stream parser (`eventsource-stream`, fed as the
//! provider feeds it): arbitrary bytes, cut into chunks of the size the first input byte picks,
//! must give exactly the events the unsplit body gives, without panicking. Each event's data is
//! then parsed as JSON, as the provider does with every chunk.
//!
//! The provider's own parser (`llm::openai::sse`) is private; `sse_provider` reaches it through
//! `OpenAiLlm`.

#![no_main]

#[path = "common.rs"]
mod common;

use eventsource_stream::Eventsource;
use futures::StreamExt;
use libfuzzer_sys::fuzz_target;

fn events(chunks: Vec<Vec<u8>>) -> Vec<Result<(String, String, String), String>> {
    let stream = futures::stream::iter(chunks.into_iter().map(Ok::<_, std::convert::Infallible>));
    futures::executor::block_on(
        stream
            .eventsource()
            .map(|e| {
                e.map(|e| (e.event, e.data, e.id))
                    .map_err(|e| e.to_string())
            })
            .collect(),
    )
}

fuzz_target!(|data: &[u8]| {
    let Some((stride, body)) = common::stride_and_body(data) else {
        return;
    };
    if common::skip_known_bom(body) {
        return;
    }
    let whole = events(vec![body.to_vec()]);
    let split = events(body.chunks(stride).map(<[u8]>::to_vec).collect());
    assert_eq!(whole, split, "the events depend on how the body was cut");
    for (_, data, _) in whole.iter().flatten() {
        let _ = serde_json::from_str::<serde_json::Value>(data);
    }
});
