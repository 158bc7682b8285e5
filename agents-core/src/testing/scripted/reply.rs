//! What a scripted LLM answers: fixed text and tool calls, or a reply computed per request.

use crate::llm::{ChatRequest, LlmError};
use std::fmt;
use std::sync::Arc;

type ReplyFn = Arc<dyn Fn(&ChatRequest) -> Reply + Send + Sync>;

/// Tool call arguments as JSON. A value that does not serialise (a map with non-string keys)
/// is sent as `null`, i.e. `{}`, and logged, so the tool reports the missing arguments.
pub(super) fn arguments_json(arguments: impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(arguments).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "scripted tool call arguments do not serialise; sending {{}}");
        serde_json::Value::Null
    })
}

/// What a [`ScriptedLlm`](super::ScriptedLlm) answers: text, tool calls, or both (text first).
///
/// ```
/// use agents_core::testing::Reply;
/// use serde_json::json;
///
/// let greet = Reply::text("Hello! How can I help?");
/// let book = Reply::text("Let me book that.").and_call("book", json!({"day": "monday"}));
/// let both = Reply::calls(vec![("lookup", json!({"id": 1})), ("lookup", json!({"id": 2}))]);
/// let echo = Reply::dynamic(|req| {
///     Reply::text(format!("You said: {}", req.last_user_text().unwrap_or_default()))
/// });
/// # let _ = (greet, book, both, echo);
/// ```
#[derive(Clone)]
pub struct Reply {
    pub(super) kind: ReplyKind,
}

#[derive(Clone)]
pub(super) enum ReplyKind {
    Fixed(FixedReply),
    Dynamic(ReplyFn),
}

#[derive(Clone, Debug, Default)]
pub(super) struct FixedReply {
    pub(super) text: String,
    pub(super) calls: Vec<(String, serde_json::Value)>,
    pub(super) fail: Option<LlmError>,
}

impl Reply {
    /// A text reply.
    pub fn text(text: impl Into<String>) -> Self {
        Self::fixed(FixedReply {
            text: text.into(),
            ..FixedReply::default()
        })
    }

    /// One tool call. Its call id is generated (`call_<n>`). `arguments` is anything
    /// serialisable (usually `json!({...})`); `()` and `null` are sent as `{}`.
    pub fn call(name: impl Into<String>, arguments: impl serde::Serialize) -> Self {
        Self::calls([(name, arguments_json(arguments))])
    }

    /// Several tool calls in one reply (parallel calls), in the given order.
    pub fn calls<N: Into<String>>(calls: impl IntoIterator<Item = (N, serde_json::Value)>) -> Self {
        Self::fixed(FixedReply {
            calls: calls.into_iter().map(|(n, a)| (n.into(), a)).collect(),
            ..FixedReply::default()
        })
    }

    /// A reply computed from the request when it is played.
    pub fn dynamic(f: impl Fn(&ChatRequest) -> Reply + Send + Sync + 'static) -> Self {
        Reply {
            kind: ReplyKind::Dynamic(Arc::new(f)),
        }
    }

    /// The same reply with its text replaced by `text` (streamed before the calls).
    pub fn with_text(self, text: impl Into<String>) -> Self {
        let text = text.into();
        self.map(move |mut r| {
            r.text = text.clone();
            r
        })
    }

    /// The same reply with one more tool call after the existing ones (arguments as in
    /// [`Reply::call`]).
    pub fn and_call(self, name: impl Into<String>, arguments: impl serde::Serialize) -> Self {
        let name = name.into();
        let arguments = arguments_json(arguments);
        self.map(move |mut r| {
            r.calls.push((name.clone(), arguments.clone()));
            r
        })
    }

    /// The same reply, but the stream fails with `error` after the text and calls (no usage is
    /// sent). Use it to test replies cut off mid-stream.
    pub fn then_fail(self, error: LlmError) -> Self {
        self.map(move |mut r| {
            r.fail = Some(error.clone());
            r
        })
    }

    /// The names of the tools this reply calls, or `None` for a dynamic reply.
    pub fn tool_names(&self) -> Option<Vec<&str>> {
        match &self.kind {
            ReplyKind::Fixed(f) => Some(f.calls.iter().map(|(n, _)| n.as_str()).collect()),
            ReplyKind::Dynamic(_) => None,
        }
    }

    fn fixed(reply: FixedReply) -> Self {
        Reply {
            kind: ReplyKind::Fixed(reply),
        }
    }

    fn map(self, g: impl Fn(FixedReply) -> FixedReply + Send + Sync + 'static) -> Self {
        match self.kind {
            ReplyKind::Fixed(f) => Self::fixed(g(f)),
            ReplyKind::Dynamic(f) => Reply::dynamic(move |req| {
                let inner = f(req).resolve(req);
                Self::fixed(g(inner))
            }),
        }
    }

    /// The concrete reply for `request`, evaluating dynamic replies.
    pub(super) fn resolve(&self, request: &ChatRequest) -> FixedReply {
        let mut reply = self.clone();
        loop {
            match reply.kind {
                ReplyKind::Fixed(f) => return f,
                ReplyKind::Dynamic(f) => reply = f(request),
            }
        }
    }
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ReplyKind::Fixed(r) => f
                .debug_struct("Reply")
                .field("text", &r.text)
                .field("calls", &r.calls)
                .field("fail", &r.fail)
                .finish(),
            ReplyKind::Dynamic(_) => f.write_str("Reply::dynamic(..)"),
        }
    }
}
