//! Tests of the scripted LLM.

use super::*;
use crate::llm::Role;
use crate::llm::{ChatContext, ChatMessage, FunctionCall, FunctionCallOutput, ToolChoice};
use crate::tools::ToolDefinition;
use futures::StreamExt;
use serde_json::json;

struct Req {
    ctx: ChatContext,
    tools: Vec<Arc<ToolDefinition>>,
}

impl Req {
    fn new() -> Self {
        let mut ctx = ChatContext::new();
        let mut msg = ChatMessage::new(Role::System, "You are a booking agent.");
        msg.id = "booking.instructions".into();
        ctx.push(msg);
        Req {
            ctx,
            tools: Vec::new(),
        }
    }
    fn user(mut self, text: &str) -> Self {
        self.ctx.add_message(Role::User, text);
        self
    }
    fn assistant(mut self, text: &str) -> Self {
        self.ctx.add_message(Role::Assistant, text);
        self
    }
    fn system(mut self, text: &str) -> Self {
        self.ctx.add_message(Role::System, text);
        self
    }
    fn tool_round(mut self, name: &str, output: &str) -> Self {
        let call = FunctionCall::new(crate::llm::chat_context::new_id("c"), name, "{}");
        self.ctx.push(call.clone());
        self.ctx.push(FunctionCallOutput::new(&call, output, false));
        self
    }
    fn offer(mut self, name: &str) -> Self {
        self.tools.push(Arc::new(ToolDefinition::new(
            name.to_string(),
            "a tool",
            json!({"type": "object", "properties": {}}),
        )));
        self
    }
    fn build(self) -> ChatRequest {
        ChatRequest {
            chat_ctx: self.ctx,
            tools: self.tools,
            tool_choice: ToolChoice::Auto,
            ..Default::default()
        }
    }
}

fn run(llm: &ScriptedLlm, request: ChatRequest) -> Result<Vec<ChatChunk>, LlmError> {
    futures::executor::block_on(async {
        let stream = llm.chat(request).await?;
        stream.collect::<Vec<_>>().await.into_iter().collect()
    })
}

/// The text and call names of a reply.
fn answer(llm: &ScriptedLlm, request: ChatRequest) -> (String, Vec<String>) {
    let chunks = run(llm, request).expect("reply");
    let mut text = String::new();
    let mut calls = Vec::new();
    for c in chunks {
        match c {
            ChatChunk::Text(t) => text.push_str(&t),
            ChatChunk::ToolCall(c) => calls.push(c.name),
            ChatChunk::Usage(_) => {}
        }
    }
    (text, calls)
}

fn text(llm: &ScriptedLlm, request: ChatRequest) -> String {
    answer(llm, request).0
}

#[test]
fn on_user_matches_latest_user_message_ignoring_case() {
    let llm = ScriptedLlm::new()
        .on_user("book", Reply::text("Booking."))
        .on_user("hello", Reply::text("Hi!"));
    assert_eq!(text(&llm, Req::new().user("HeLLo there").build()), "Hi!");
    assert_eq!(
        text(
            &llm,
            Req::new().user("hello").user("I want to BOOK").build()
        ),
        "Booking."
    );
    // Trailing reply instructions are ignored.
    assert_eq!(
        text(&llm, Req::new().user("hello").system("be brief").build()),
        "Hi!"
    );
    // Not fresh from the user: an assistant message or a tool output came after.
    assert_eq!(
        text(&llm, Req::new().user("hello").assistant("Hi!").build()),
        DEFAULT_REPLY
    );
    assert_eq!(
        text(&llm, Req::new().user("hello").tool_round("t", "ok").build()),
        DEFAULT_AFTER_TOOL
    );
}

#[test]
fn first_match_wins_in_order_added() {
    let llm = ScriptedLlm::new()
        .on_user("a", Reply::text("first"))
        .on_user("ab", Reply::text("second"));
    assert_eq!(text(&llm, Req::new().user("ab").build()), "first");
}

#[test]
fn after_tool_matches_outputs_of_the_last_step() {
    let llm = ScriptedLlm::new()
        .after_tool("lookup", Reply::text("Found it."))
        .on_user("hi", Reply::text("Hello"));
    assert_eq!(
        text(
            &llm,
            Req::new().user("hi").tool_round("lookup", "x").build()
        ),
        "Found it."
    );
    // Parallel calls: the lookup output is not the last one but belongs to the same step.
    let req = Req::new()
        .user("hi")
        .tool_round("lookup", "x")
        .tool_round("other", "y")
        .build();
    assert_eq!(text(&llm, req), "Found it.");
    // With trailing instructions after the outputs.
    let req = Req::new()
        .user("hi")
        .tool_round("lookup", "x")
        .system("greet")
        .build();
    assert_eq!(text(&llm, req), "Found it.");
    // An older lookup output followed by a later step does not count.
    let req = Req::new()
        .tool_round("lookup", "x")
        .assistant("ok")
        .user("and?")
        .tool_round("other", "y")
        .build();
    assert_eq!(text(&llm, req), DEFAULT_AFTER_TOOL);
    // A user message last: on_user, not after_tool.
    let req = Req::new().tool_round("lookup", "x").user("hi").build();
    assert_eq!(text(&llm, req), "Hello");
}

#[test]
fn on_instructions_uses_only_trailing_reply_instructions() {
    let llm = ScriptedLlm::new()
        .on_instructions("greet", Reply::text("Welcome!"))
        .on_user("hi", Reply::text("Hello"));
    // The agent's own instructions mention "greet" but are not reply instructions.
    let mut own = Req::new();
    own.ctx = ChatContext::new();
    let mut msg = ChatMessage::new(Role::System, "Always greet politely.");
    msg.id = "agent.instructions".into();
    own.ctx.push(msg);
    assert_eq!(text(&llm, own.build()), DEFAULT_REPLY);
    let req = Req::new().user("hi").build();
    assert_eq!(text(&llm, req), "Hello");
    let mut agent_greets = Req::new();
    agent_greets.ctx = ChatContext::new();
    agent_greets
        .ctx
        .add_message(Role::System, "Always greet politely.");
    let req = agent_greets.user("what?").build();
    assert_eq!(text(&llm, req), DEFAULT_REPLY);
    // Reply instructions right after the agent's instructions (on_enter).
    assert_eq!(
        text(&llm, Req::new().system("GREET the user").build()),
        "Welcome!"
    );
    // A lone ad-hoc system message counts.
    let mut lone = ChatContext::new();
    lone.add_message(Role::Developer, "greet");
    let req = ChatRequest {
        chat_ctx: lone,
        ..Default::default()
    };
    assert_eq!(text(&llm, req), "Welcome!");
    // Instructions win over the user message only by rule order.
    assert_eq!(
        text(&llm, Req::new().user("hi").system("greet").build()),
        "Welcome!"
    );
    // Not on the step after tool outputs while tools are offered (a reply loop) ...
    let req = Req::new()
        .tool_round("lookup", "x")
        .system("greet the user")
        .offer("lookup")
        .build();
    assert_eq!(text(&llm, req), DEFAULT_AFTER_TOOL);
    // ... but a speech-only reply (no tools offered) is fresh whatever came before.
    let req = Req::new()
        .tool_round("lookup", "x")
        .system("greet the user")
        .build();
    assert_eq!(text(&llm, req), "Welcome!");
}

#[test]
fn tool_calls_fire_only_when_offered() {
    let llm = ScriptedLlm::new()
        .on_user("yes", Reply::call("consent_given", json!({})))
        .on_user("yes", Reply::text("Noted."));
    let (t, calls) = answer(&llm, Req::new().user("yes").build());
    assert_eq!((t.as_str(), calls.len()), ("Noted.", 0));
    let (t, calls) = answer(&llm, Req::new().user("yes").offer("consent_given").build());
    assert_eq!(t, "");
    assert_eq!(calls, ["consent_given"]);

    // Every call must be offered, including calls of dynamic replies.
    let llm = ScriptedLlm::new().when(
        |_| true,
        Reply::dynamic(|_| Reply::calls(vec![("a", json!({})), ("b", json!({}))])),
    );
    let (t, _) = answer(&llm, Req::new().user("x").offer("a").build());
    assert_eq!(t, DEFAULT_REPLY);
    let (_, calls) = answer(&llm, Req::new().user("x").offer("a").offer("b").build());
    assert_eq!(calls, ["a", "b"]);

    // Opting out.
    let llm = ScriptedLlm::new().rule(
        Rule::on_user("x")
            .reply(Reply::call("ghost", json!({})))
            .allow_unoffered_tools(),
    );
    assert_eq!(answer(&llm, Req::new().user("x").build()).1, ["ghost"]);
}

#[test]
fn if_tool_offered_gates_text_rules() {
    let llm = ScriptedLlm::new()
        .rule(
            Rule::on_user("hi")
                .if_tool_offered("task_tool")
                .reply(Reply::text("task")),
        )
        .on_user("hi", Reply::text("agent"));
    assert_eq!(text(&llm, Req::new().user("hi").build()), "agent");
    assert_eq!(
        text(&llm, Req::new().user("hi").offer("task_tool").build()),
        "task"
    );
}

#[test]
fn times_limits_how_often_a_rule_fires() {
    let llm = ScriptedLlm::new()
        .rule(Rule::on_user("hi").reply(Reply::text("once")).times(1))
        .rule(Rule::on_user("hi").reply(Reply::text("twice")).times(2))
        .otherwise(Reply::text("later"));
    let got: Vec<String> = (0..4)
        .map(|_| text(&llm, Req::new().user("hi").build()))
        .collect();
    assert_eq!(got, ["once", "twice", "twice", "later"]);
    // A rule that triggers but is gated out does not use up a time.
    let llm = ScriptedLlm::new()
        .rule(
            Rule::on_user("hi")
                .reply(Reply::call("t", json!({})))
                .times(1),
        )
        .otherwise(Reply::text("no"));
    assert_eq!(text(&llm, Req::new().user("hi").build()), "no");
    assert_eq!(
        answer(&llm, Req::new().user("hi").offer("t").build()).1,
        ["t"]
    );
    assert_eq!(text(&llm, Req::new().user("hi").offer("t").build()), "no");
}

#[test]
fn when_and_rule_without_reply() {
    let llm = ScriptedLlm::new()
        .when(
            |r| r.tool_choice == ToolChoice::None,
            Reply::text("speech only"),
        )
        .rule(Rule::on_user("x"));
    let mut req = Req::new().user("x").build();
    assert_eq!(text(&llm, req.clone()), DEFAULT_REPLY);
    req.tool_choice = ToolChoice::None;
    assert_eq!(text(&llm, req), "speech only");
}

#[test]
fn sequence_plays_in_order_then_falls_back() {
    let llm = ScriptedLlm::sequence(vec![
        Reply::text("one"),
        Reply::call("not_offered", json!({"a": 1})),
        Reply::text("three"),
    ]);
    assert_eq!(text(&llm, Req::new().user("x").build()), "one");
    assert_eq!(
        answer(&llm, Req::new().build()).1,
        ["not_offered"],
        "sequences are not gated"
    );
    assert_eq!(text(&llm, Req::new().build()), "three");
    assert_eq!(text(&llm, Req::new().user("x").build()), DEFAULT_REPLY);
    assert_eq!(
        text(&llm, Req::new().tool_round("t", "ok").build()),
        DEFAULT_AFTER_TOOL
    );
}

#[test]
fn requests_are_recorded_and_shared_by_clones() {
    let llm = ScriptedLlm::new();
    let copy = llm.clone();
    assert!(llm.last_request().is_none());
    text(&llm, Req::new().user("first").build());
    text(&copy, Req::new().user("second").offer("t").build());
    let requests = llm.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(llm.request_count(), 2);
    assert_eq!(requests[0].last_user_text(), Some("first"));
    assert!(requests[1].offers_tool("t"));
    assert_eq!(
        copy.last_request().unwrap().last_user_text(),
        Some("second")
    );
}

#[test]
fn failing_requests() {
    let llm = ScriptedLlm::new()
        .fail_next(2, LlmError::Connection("down".into()))
        .on_user("hi", Reply::text("Hello"));
    for _ in 0..2 {
        let err = run(&llm, Req::new().user("hi").build()).unwrap_err();
        assert!(
            matches!(err, LlmError::Connection(ref s) if s == "down"),
            "{err}"
        );
    }
    assert_eq!(text(&llm, Req::new().user("hi").build()), "Hello");
    assert_eq!(llm.request_count(), 3);

    let llm = llm.failing_with(LlmError::Other("nope".into()));
    for _ in 0..3 {
        assert!(run(&llm, Req::new().user("hi").build()).is_err());
    }
    llm.recover();
    assert_eq!(text(&llm, Req::new().user("hi").build()), "Hello");
}

#[test]
fn mid_stream_failure() {
    let llm = ScriptedLlm::sequence(vec![
        Reply::text("partial answer").then_fail(LlmError::Stream("cut".into()))
    ]);
    let chunks = futures::executor::block_on(async {
        let s = llm.chat(Req::new().build()).await.unwrap();
        s.collect::<Vec<_>>().await
    });
    assert_eq!(chunks.len(), 3);
    assert!(matches!(&chunks[0], Ok(ChatChunk::Text(t)) if t == "partial "));
    assert!(matches!(chunks[2], Err(LlmError::Stream(_))));
}

#[test]
fn stream_shape_chunks_call_ids_and_usage() {
    let llm = ScriptedLlm::sequence(vec![
        Reply::text("Hi  there,\nfriend").and_call("a", json!({"x": 1})),
        Reply::calls(vec![("b", json!(null)), ("c", json!({}))]).with_text("ok"),
        Reply::text("abcdefg"),
    ]);
    let chunks = run(&llm, Req::new().build()).unwrap();
    assert_eq!(
        chunks[..3],
        [
            ChatChunk::Text("Hi  ".into()),
            ChatChunk::Text("there,\n".into()),
            ChatChunk::Text("friend".into()),
        ]
    );
    assert_eq!(
        chunks[3],
        ChatChunk::ToolCall(ToolCallRequest {
            call_id: "call_1".into(),
            name: "a".into(),
            arguments: r#"{"x":1}"#.into(),
        })
    );
    let ChatChunk::Usage(usage) = chunks[4] else {
        panic!("usage expected: {chunks:?}");
    };
    assert_eq!(usage.completion_tokens, 7); // (17 text chars + 1 + 7) / 4, rounded up
    assert_eq!(usage.prompt_tokens, 6); // 24 chars of instructions

    let chunks = run(&llm, Req::new().build()).unwrap();
    assert_eq!(chunks[0], ChatChunk::Text("ok".into()));
    let ids: Vec<_> = chunks
        .iter()
        .filter_map(|c| match c {
            ChatChunk::ToolCall(c) => Some((c.call_id.as_str(), c.arguments.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(ids, [("call_2", "{}"), ("call_3", "{}")]);

    let llm = llm.with_chunk_size(3);
    let chunks = run(&llm, Req::new().build()).unwrap();
    let texts: Vec<_> = chunks
        .iter()
        .filter_map(|c| match c {
            ChatChunk::Text(t) => Some(t.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(texts, ["abc", "def", "g"]);
}

#[test]
fn dynamic_replies_and_combinators() {
    let llm = ScriptedLlm::new().on_user(
        "",
        Reply::dynamic(|r| Reply::text(format!("echo {}", r.last_user_text().unwrap())))
            .and_call("t", json!({})),
    );
    let (t, calls) = answer(&llm, Req::new().user("ping").offer("t").build());
    assert_eq!(t, "echo ping");
    assert_eq!(calls, ["t"]);
    assert_eq!(Reply::text("x").tool_names(), Some(vec![]));
    assert_eq!(
        Reply::call("a", json!({}))
            .and_call("b", json!({}))
            .tool_names(),
        Some(vec!["a", "b"])
    );
    assert!(Reply::dynamic(|_| Reply::text("")).tool_names().is_none());
    assert!(format!("{llm:?}").contains("on_user"));
}

#[test]
fn split_text_keeps_text_intact() {
    for s in ["", "a", " lead", "trail ", "a  b\tc\n", "héllo wörld"] {
        for size in [None, Some(0), Some(1), Some(4)] {
            assert_eq!(split_text(s, size).concat(), s, "{s:?} {size:?}");
        }
    }
    assert_eq!(split_text("héllo", Some(2)), ["hé", "ll", "o"]);
}
