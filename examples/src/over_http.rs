//! `demo --over-http`: the scripted model behind an in-process Chat Completions server, reached
//! through the real OpenAI-compatible client.

use agents_core::llm::openai::OpenAiLlm;
use agents_core::llm::{ChatRequest, ChatStream, Llm, LlmError};
use agents_core::testing::ChatCompletionsServer;
use futures::future::BoxFuture;

/// The OpenAI-compatible client with the in-process server it talks to (kept alive with it).
pub struct OverHttp {
    llm: OpenAiLlm,
    _server: ChatCompletionsServer,
}

impl OverHttp {
    /// Serves `inner` on 127.0.0.1 and connects a client to it.
    pub fn start(inner: impl Llm) -> Result<Self, String> {
        let server = ChatCompletionsServer::spawn(inner)
            .map_err(|e| format!("could not start the demo's HTTP server: {e}"))?;
        // No retries: a retry would play the script's next reply, which the model in process
        // never does.
        let llm = OpenAiLlm::builder()
            .base_url(server.base_url())
            .api_key("demo")
            .model("scripted-demo")
            .max_retries(0)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(OverHttp {
            llm,
            _server: server,
        })
    }
}

impl Llm for OverHttp {
    fn chat(&self, request: ChatRequest) -> BoxFuture<'_, Result<ChatStream, LlmError>> {
        self.llm.chat(request)
    }

    fn label(&self) -> String {
        self.llm.label()
    }
}
