//! Property tests (proptest, fixed seeds, no failure files):
//!
//! - the SSE parsing: the provider's parser is not public, so generated valid streams are served
//!   by the in-process server of `common` and read through `OpenAiLlm`; any split of the byte
//!   stream into chunks (inside multi-byte characters and between `\r` and `\n` included) yields
//!   the same text and tool calls. The event layer underneath (`eventsource-stream`) is also
//!   checked directly, in memory, for split invariance;
//! - `tools::decode_arguments`: never panics on arbitrary text or JSON, and round-trips the
//!   serialised values of a struct;
//! - `ChatContext::copy` and `merge`: each filter keeps exactly the items meeting its predicate,
//!   in order; `copy(all)` is the identity; `merge` never duplicates ids, keeps existing items in
//!   place and time order.

mod common;

use agents_core::llm::openai::OpenAiLlm;
use agents_core::llm::{
    AgentHandoff, ChatChunk, ChatContext, ChatItem, ChatMessage, ChatRequest, CopyOptions,
    FunctionCall, FunctionCallOutput, Llm, Role, ToolCallRequest,
};
use agents_core::tools::decode_arguments;
use common::*;
use eventsource_stream::Eventsource;
use futures::StreamExt;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashSet;
use std::time::Duration;

fn config(cases: u32, seed: u64) -> Config {
    Config {
        cases,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        ..Config::default()
    }
}

// ================================================================ SSE

/// Text that stresses the stream: multi-byte characters, JSON escapes, line breaks.
fn tricky_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z ]{0,12}",
        "[éü中文🚚👩‍💻\"\\\\\n\r\t ]{0,8}",
        any::<String>(),
    ]
}

#[derive(Debug, Clone)]
struct GenCall {
    name: String,
    /// The arguments, already cut into the fragments the server streams.
    fragments: Vec<String>,
}

#[derive(Debug, Clone)]
struct GenStream {
    texts: Vec<String>,
    calls: Vec<GenCall>,
    /// `"\n"`, `"\r\n"` or `"\r"`.
    eol: &'static str,
    /// A space after `data:` or not.
    space: bool,
    /// Comment lines between events.
    comments: bool,
}

impl GenStream {
    fn bytes(&self) -> Vec<u8> {
        let sp = if self.space { " " } else { "" };
        let eol = self.eol;
        let mut out = String::new();
        let event = |data: serde_json::Value, out: &mut String| {
            if self.comments {
                out.push_str(&format!(": keep-alive{eol}"));
            }
            out.push_str(&format!("data:{sp}{data}{eol}{eol}"));
        };
        event(
            json!({"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}),
            &mut out,
        );
        for t in &self.texts {
            event(
                json!({"choices": [{"index": 0, "delta": {"content": t}, "finish_reason": null}]}),
                &mut out,
            );
        }
        for (i, call) in self.calls.iter().enumerate() {
            event(
                json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": i, "id": format!("call_{i}"), "type": "function", "function": {"name": call.name, "arguments": ""}}]}}]}),
                &mut out,
            );
            for f in &call.fragments {
                event(
                    json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": i, "function": {"arguments": f}}]}}]}),
                    &mut out,
                );
            }
        }
        let reason = if self.calls.is_empty() {
            "stop"
        } else {
            "tool_calls"
        };
        event(
            json!({"choices": [{"index": 0, "delta": {}, "finish_reason": reason}]}),
            &mut out,
        );
        event(
            json!({"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 4}}),
            &mut out,
        );
        out.push_str(&format!("data:{sp}[DONE]{eol}{eol}"));
        out.into_bytes()
    }

    fn expected_text(&self) -> String {
        self.texts.concat()
    }

    fn expected_calls(&self) -> Vec<ToolCallRequest> {
        self.calls
            .iter()
            .enumerate()
            .map(|(i, c)| ToolCallRequest {
                call_id: format!("call_{i}"),
                name: c.name.clone(),
                arguments: c.fragments.concat(),
            })
            .collect()
    }
}

/// Cuts `s` into `n` pieces at character boundaries chosen by `seeds`.
fn cut_text(s: &str, seeds: &[usize]) -> Vec<String> {
    let bounds: Vec<usize> = s.char_indices().map(|(i, _)| i).skip(1).collect();
    let cuts: Vec<usize> = seeds
        .iter()
        .filter(|_| !bounds.is_empty())
        .map(|x| bounds[x % bounds.len()])
        .collect();
    pieces(s.len(), cuts).map(|r| s[r].to_string()).collect()
}

/// The ranges between the (sorted, deduplicated) `cuts` of `0..len`, covering all of it.
fn pieces(len: usize, mut cuts: Vec<usize>) -> impl Iterator<Item = std::ops::Range<usize>> {
    cuts.sort_unstable();
    cuts.dedup();
    let starts = std::iter::once(0).chain(cuts.clone());
    let ends = cuts.into_iter().chain(std::iter::once(len));
    starts.zip(ends).map(|(start, end)| start..end)
}

fn gen_call() -> impl Strategy<Value = GenCall> {
    (
        "[a-z_]{1,12}",
        tricky_text(),
        any::<i64>(),
        any::<bool>(),
        prop::collection::vec(any::<usize>(), 0..4),
    )
        .prop_map(|(name, s, n, b, seeds)| {
            let args = json!({"text": s, "n": n, "flag": b, "list": [1, "two", null]}).to_string();
            GenCall {
                name,
                fragments: cut_text(&args, &seeds),
            }
        })
}

fn gen_stream() -> impl Strategy<Value = GenStream> {
    (
        prop::collection::vec(tricky_text(), 0..6),
        prop::collection::vec(gen_call(), 0..3),
        prop::sample::select(vec!["\n", "\r\n", "\r"]),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(texts, calls, eol, space, comments)| GenStream {
            texts,
            calls,
            eol,
            space,
            comments,
        })
}

/// The stream's bytes cut at the given positions (any byte offset).
fn split_bytes(bytes: &[u8], seeds: &[usize]) -> Vec<Vec<u8>> {
    let cuts = seeds.iter().map(|s| s % (bytes.len() + 1)).collect();
    pieces(bytes.len(), cuts)
        .map(|r| bytes[r].to_vec())
        .collect()
}

async fn read_reply(llm: &OpenAiLlm) -> Result<(String, Vec<ToolCallRequest>), String> {
    let mut request = ChatRequest::default();
    request.chat_ctx.add_message(Role::User, "hi");
    let mut stream = llm.chat(request).await.map_err(|e| e.to_string())?;
    let (mut text, mut calls) = (String::new(), Vec::new());
    while let Some(chunk) = stream.next().await {
        match chunk.map_err(|e| e.to_string())? {
            ChatChunk::Text(t) => text.push_str(&t),
            ChatChunk::ToolCall(c) => calls.push(c),
            ChatChunk::Usage(_) => {}
        }
    }
    Ok((text, calls))
}

#[test]
fn any_split_of_a_valid_stream_yields_the_same_reply_through_the_provider() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (server, llm) = rt.block_on(async {
        let server = FaultServer::start().await;
        let llm = server
            .llm()
            .max_retries(0)
            .idle_timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        (server, llm)
    });
    let mut runner = proptest::test_runner::TestRunner::new(config(128, 0x55E));
    runner
        .run(
            &(gen_stream(), prop::collection::vec(any::<usize>(), 0..24)),
            |(stream, seeds)| {
                let chunks = split_bytes(&stream.bytes(), &seeds);
                // Each chunk is written separately, with a yield between, so the client sees
                // most cuts as separate reads.
                let mut steps = Vec::new();
                for c in chunks {
                    steps.push(Step::Raw(c));
                    steps.push(Step::Delay(0));
                }
                server.push(Plan::Sse(steps));
                let got = rt.block_on(read_reply(&llm));
                let (text, calls) = got.map_err(TestCaseError::fail)?;
                prop_assert_eq!(text, stream.expected_text());
                prop_assert_eq!(calls, stream.expected_calls());
                Ok(())
            },
        )
        .unwrap();
}

/// The events `eventsource-stream` yields for `chunks`, as (type, data).
fn events_of(chunks: Vec<Vec<u8>>) -> Vec<Result<(String, String), String>> {
    let stream = futures::stream::iter(chunks.into_iter().map(Ok::<_, std::convert::Infallible>));
    futures::executor::block_on(
        stream
            .eventsource()
            .map(|e| e.map(|e| (e.event, e.data)).map_err(|e| e.to_string()))
            .collect(),
    )
}

proptest! {
    #![proptest_config(config(512, 0xE5))]

    /// The event layer gives the same events whatever the chunking.
    #[test]
    fn eventsource_events_do_not_depend_on_chunking(
        stream in gen_stream(),
        seeds in prop::collection::vec(any::<usize>(), 0..32),
    ) {
        let bytes = stream.bytes();
        let whole = events_of(vec![bytes.clone()]);
        let split = events_of(split_bytes(&bytes, &seeds));
        prop_assert!(whole.iter().all(|e| e.is_ok()));
        prop_assert_eq!(whole, split);
    }

    /// Arbitrary bytes: no panic (a leading BOM is left out, see the ignored test below), and
    /// the same events whatever the chunking.
    #[test]
    fn eventsource_never_panics_on_arbitrary_bytes(
        mut bytes in prop::collection::vec(any::<u8>(), 0..200),
        seeds in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        while bytes.starts_with("\u{feff}".as_bytes()) {
            bytes.drain(..3);
        }
        let whole = events_of(vec![bytes.clone()]);
        let split = events_of(split_bytes(&bytes, &seeds));
        prop_assert_eq!(whole, split);
    }
}

/// The SSE spec allows a UTF-8 byte order mark before the stream; `eventsource-stream` 0.2.3
/// strips it with `&string[1..]`, which panics (the BOM is 3 bytes long).
#[test]
#[ignore = "upstream eventsource-stream 0.2.3 panics on a leading BOM; OpenAiLlm strips the BOM before it (see reliability_faults)"]
fn eventsource_tolerates_a_leading_byte_order_mark() {
    let events = events_of(vec![b"\xEF\xBB\xBFdata: x\n\n".to_vec()]);
    assert_eq!(events, [Ok(("message".to_string(), "x".to_string()))]);
}

// ================================================================ decode_arguments

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Mode {
    Fast,
    Careful { retries: u8 },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Inner {
    label: String,
    weight: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Args {
    name: String,
    count: u32,
    enabled: bool,
    tags: Vec<String>,
    inner: Option<Inner>,
    mode: Mode,
    delta: i64,
}

#[derive(Debug, Deserialize, PartialEq)]
struct AllOptional {
    a: Option<u8>,
    b: Option<String>,
}

fn args() -> impl Strategy<Value = Args> {
    (
        any::<String>(),
        any::<u32>(),
        any::<bool>(),
        prop::collection::vec(any::<String>(), 0..4),
        prop::option::of((any::<String>(), any::<i64>())),
        prop_oneof![
            Just(Mode::Fast),
            any::<u8>().prop_map(|r| Mode::Careful { retries: r })
        ],
        any::<i64>(),
    )
        .prop_map(|(name, count, enabled, tags, inner, mode, delta)| Args {
            name,
            count,
            enabled,
            tags,
            inner: inner.map(|(label, weight)| Inner { label, weight }),
            mode,
            delta,
        })
}

/// Arbitrary JSON values (including deep nesting and odd numbers).
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<u64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        any::<String>().prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(6, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    4 => one_of(&["name", "count", "mode", "inner"]),
                    1 => any::<String>(),
                ],
                inner,
                0..6
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

/// One of `options`, each as likely as the others.
fn one_of(options: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::sample::select(options).prop_map(|s| s.to_string())
}

/// Text that looks like JSON, often almost valid.
fn jsonish() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            16 => one_of(&[
                "{",
                "}",
                "[",
                "]",
                ":",
                ",",
                "\"name\"",
                "\"count\"",
                "\"mode\"",
                "\"Fast\"",
                "\"\\u00e9\\ud800\"",
                "true",
                "null",
                "-0.5e400",
                "18446744073709551616",
                " ",
            ]),
            1 => "[0-9]{1,5}",
            1 => "\"[a-z]{0,4}\"",
        ],
        0..40,
    )
    .prop_map(|parts| parts.concat())
}

#[test]
fn decode_arguments_survives_deep_nesting() {
    for open in ["[", "{\"a\":"] {
        let text = open.repeat(100_000);
        assert!(decode_arguments::<serde_json::Value>("t", &text).is_err());
        assert!(decode_arguments::<Args>("t", &text).is_err());
    }
}

proptest! {
    #![proptest_config(config(1024, 0xDEC0DE))]

    #[test]
    fn decode_arguments_never_panics_on_text(text in prop_oneof![any::<String>(), jsonish()]) {
        match decode_arguments::<Args>("tool_x", &text) {
            Ok(_) => {}
            Err(e) => prop_assert!(e.message().contains("`tool_x`"), "{}", e.message()),
        }
        let _ = decode_arguments::<AllOptional>("tool_x", &text);
        let _ = decode_arguments::<serde_json::Value>("tool_x", &text);
    }

    #[test]
    fn decode_arguments_never_panics_on_json(value in json_value()) {
        let text = value.to_string();
        let _ = decode_arguments::<Args>("t", &text);
        let _ = decode_arguments::<AllOptional>("t", &text);
        // Any JSON value decodes as a JSON value, unchanged.
        let back = decode_arguments::<serde_json::Value>("t", &text);
        prop_assert!(back.is_ok());
    }

    #[test]
    fn decode_arguments_round_trips(value in args(), pad in "[ \t\n\r]{0,3}", pretty in any::<bool>()) {
        let text = if pretty {
            serde_json::to_string_pretty(&value).unwrap()
        } else {
            serde_json::to_string(&value).unwrap()
        };
        let padded = format!("{pad}{text}{pad}");
        let back: Args = decode_arguments("t", &padded).map_err(|e| TestCaseError::fail(e.message().to_string()))?;
        prop_assert_eq!(back, value);
    }

    #[test]
    fn blank_arguments_are_an_empty_object(pad in "[ \t\n\r]{0,5}") {
        let v: AllOptional = decode_arguments("t", &pad).unwrap();
        prop_assert_eq!(v, AllOptional { a: None, b: None });
    }
}

// ================================================================ ChatContext

const TOOLS: [&str; 3] = ["lookup", "book", "cancel"];

/// Items with unique ids `{prefix}{n}` and the given creation times.
fn items(prefix: &'static str) -> impl Strategy<Value = Vec<ChatItem>> {
    let kind = prop_oneof![
        (
            prop::sample::select(vec![
                Role::System,
                Role::Developer,
                Role::User,
                Role::Assistant
            ]),
            prop_oneof![
                Just(String::new()),
                Just(" \n\t".to_string()),
                "[a-z ]{1,6}"
            ],
        )
            .prop_map(|(role, content)| (0u8, role, content, 0usize)),
        (0..TOOLS.len()).prop_map(|t| (1u8, Role::User, String::new(), t)),
        (0..TOOLS.len()).prop_map(|t| (2u8, Role::User, String::new(), t)),
        Just((3u8, Role::User, String::new(), 0usize)),
    ];
    prop::collection::vec((kind, 0u64..40), 0..24).prop_map(move |v| {
        v.into_iter()
            .enumerate()
            .map(|(n, ((k, role, content, tool), at))| {
                let id = format!("{prefix}{n}");
                match k {
                    0 => ChatItem::Message(ChatMessage {
                        id,
                        role,
                        content,
                        interrupted: false,
                        created_at: at,
                    }),
                    1 | 2 => {
                        let mut call = FunctionCall::new(format!("c{n}"), TOOLS[tool], "{}");
                        call.id = id.clone();
                        call.created_at = at;
                        if k == 1 {
                            ChatItem::FunctionCall(call)
                        } else {
                            let mut out = FunctionCallOutput::new(&call, "ok", false);
                            out.id = id;
                            out.created_at = at;
                            ChatItem::FunctionCallOutput(out)
                        }
                    }
                    _ => {
                        let mut h = AgentHandoff::new(None, "agent");
                        h.id = id;
                        h.created_at = at;
                        ChatItem::AgentHandoff(h)
                    }
                }
            })
            .collect()
    })
}

fn options() -> impl Strategy<Value = CopyOptions> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        prop::option::of(prop::sample::subsequence(TOOLS.to_vec(), 0..=TOOLS.len())),
    )
        .prop_map(|(i, f, h, e, tools)| CopyOptions {
            exclude_instructions: i,
            exclude_function_calls: f,
            exclude_handoffs: h,
            exclude_empty_messages: e,
            only_tools: tools.map(|t| t.into_iter().map(str::to_string).collect()),
        })
}

/// The filters' meaning, written out independently of `CopyOptions::keeps`.
fn meets(o: &CopyOptions, item: &ChatItem) -> bool {
    match item {
        ChatItem::Message(m) => {
            let instructions = matches!(m.role, Role::System | Role::Developer);
            let empty = m.content.trim().is_empty();
            !(o.exclude_instructions && instructions || o.exclude_empty_messages && empty)
        }
        ChatItem::FunctionCall(FunctionCall { name, .. })
        | ChatItem::FunctionCallOutput(FunctionCallOutput { name, .. }) => {
            !o.exclude_function_calls
                && o.only_tools
                    .as_ref()
                    .is_none_or(|tools| tools.contains(name))
        }
        ChatItem::AgentHandoff(_) => !o.exclude_handoffs,
    }
}

fn is_item_subsequence(sub: &[ChatItem], of: &[ChatItem]) -> bool {
    let mut it = of.iter();
    sub.iter().all(|s| it.any(|x| x == s))
}

fn sorted_by_time(items: &[ChatItem]) -> Vec<ChatItem> {
    let mut v = items.to_vec();
    v.sort_by_key(ChatItem::created_at);
    v
}

proptest! {
    #![proptest_config(config(1024, 0xC0C0))]

    #[test]
    fn copy_keeps_exactly_the_items_meeting_the_filter_in_order(
        input in items("a"),
        opts in options(),
    ) {
        let ctx = ChatContext::from_items(input.clone());
        let copied = ctx.copy(&opts);
        let out = copied.items();
        prop_assert!(is_item_subsequence(out, &input));
        prop_assert!(out.iter().all(|i| meets(&opts, i)));
        let expected: Vec<ChatItem> = input.iter().filter(|i| meets(&opts, i)).cloned().collect();
        prop_assert_eq!(out, expected.as_slice());
        // Filtering twice changes nothing more.
        prop_assert_eq!(copied.copy(&opts), copied.clone());
    }

    #[test]
    fn copy_all_is_the_identity(input in items("a")) {
        let ctx = ChatContext::from_items(input);
        prop_assert_eq!(ctx.copy(&CopyOptions::all()), ctx.clone());
    }

    #[test]
    fn merge_never_duplicates_and_keeps_existing_items_in_place(
        mine in items("a"),
        fresh in items("b"),
        shared_picks in prop::collection::vec(any::<usize>(), 0..8),
        opts in options(),
        sort in any::<bool>(),
    ) {
        let (mine, fresh) = if sort {
            (sorted_by_time(&mine), sorted_by_time(&fresh))
        } else {
            (mine, fresh)
        };
        // The other context holds new items, copies of some of ours, and repeats of its own.
        let mut theirs = fresh.clone();
        for p in &shared_picks {
            if !mine.is_empty() {
                theirs.push(mine[p % mine.len()].clone());
            }
            if !fresh.is_empty() {
                theirs.push(fresh[p % fresh.len()].clone());
            }
        }
        let mut ctx = ChatContext::from_items(mine.clone());
        ctx.merge(&ChatContext::from_items(theirs.clone()), &opts);
        let out = ctx.items();

        let mut ids = HashSet::new();
        prop_assert!(out.iter().all(|i| ids.insert(i.id().to_string())), "duplicate ids");
        // Existing items are all there, unchanged and in their order.
        let kept: Vec<ChatItem> = out.iter().filter(|i| i.id().starts_with('a')).cloned().collect();
        prop_assert_eq!(kept, mine.clone());
        // New items: exactly those of the other context meeting the filter.
        let added: HashSet<String> = out.iter().filter(|i| i.id().starts_with('b')).map(|i| i.id().to_string()).collect();
        let wanted: HashSet<String> = theirs.iter().filter(|i| i.id().starts_with('b') && meets(&opts, i)).map(|i| i.id().to_string()).collect();
        prop_assert_eq!(added, wanted);
        if sort {
            prop_assert!(out.windows(2).all(|w| w[0].created_at() <= w[1].created_at()), "time order kept");
        }
        // Merging again adds nothing.
        let before = ctx.clone();
        ctx.merge(&ChatContext::from_items(theirs), &opts);
        prop_assert_eq!(ctx, before);
    }
}
