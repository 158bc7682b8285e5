//! Replies generated from hooks are offered the activity's tools: a task records at once what
//! the user already said, and a step returned to with `out_of_scope` records the new value
//! instead of asking again. Each story runs with the scripted model in process and over HTTP
//! through the real OpenAI-compatible client.

use agents_core::llm::openai::OpenAiLlm;
use agents_core::llm::{ChatRequest, Llm};
use agents_core::prelude::*;
use agents_core::testing::{ChatCompletionsServer, Reply, Rule, ScriptedLlm};
use serde_json::json;

#[macro_use]
mod common;

use common::{expect_task_done_by, user_lines};

ask_task!(
    NameTask,
    "Ask for the user's name.",
    generate_reply("Ask for the user's name."),
    record_name(name)
);

/// Ask for the user's email address.
#[agent_task(result = String)]
struct EmailTask;

#[function_tools]
impl EmailTask {
    async fn on_enter(&mut self, ctx: &mut TaskContext<'_, String>) -> Result<()> {
        ctx.generate_reply("Ask for the user's email address.")
            .await
    }

    /// Save the user's email address.
    #[function_tool]
    async fn record_email(
        &mut self,
        ctx: &mut TaskContext<'_, String>,
        email: String,
    ) -> Result<(), ToolError> {
        if !email.contains('@') {
            return Err(ToolError::new("That is not an email address."));
        }
        ctx.complete(email);
        Ok(())
    }
}

/// You are a friendly onboarding assistant.
#[agent]
struct OnboardingAgent;

#[function_tools]
impl OnboardingAgent {
    /// Start onboarding a new user: collects their name and email.
    #[function_tool]
    async fn start_onboarding(&mut self, ctx: &mut AgentContext<'_>) -> Result<String> {
        let mut group = TaskGroup::new();
        let name = group.add("name_task", "Collects the user's name", || NameTask);
        let email = group.add("email_task", "Collects the user's email address", || {
            EmailTask
        });
        let results = ctx
            .run_task(group)
            .with_history(CopyOptions::all().exclude_instructions())
            .await?;
        Ok(format!(
            "Onboarded {} with email {}.",
            results[name], results[email]
        ))
    }
}

/// The last name the user gave ("my name is X", "change my name to X"), if any.
fn heard_name(req: &ChatRequest) -> Option<String> {
    user_lines(req).iter().rev().find_map(|line| {
        let lower = line.to_lowercase();
        let at = ["my name to ", "my name is "]
            .iter()
            .find_map(|p| lower.find(p).map(|i| i + p.len()))?;
        let name = line[at..].split([' ', ',', '.']).next()?;
        (!name.is_empty()).then(|| name.to_string())
    })
}

/// The last email address the user gave, if any.
fn heard_email(req: &ChatRequest) -> Option<String> {
    user_lines(req).iter().rev().find_map(|line| {
        line.split_whitespace()
            .find(|w| w.contains('@'))
            .map(|w| w.trim_end_matches(['.', ',']).to_string())
    })
}

/// Whether the request is a step's first reply following `instructions`: they are its last
/// item, right after something other than a tool output of that step.
fn asked(req: &ChatRequest, instructions: &str) -> bool {
    use agents_core::llm::ChatItem;
    let items = req.chat_ctx.items();
    let [.., before, ChatItem::Message(last)] = items else {
        return false;
    };
    let own_output = matches!(before, ChatItem::FunctionCallOutput(o)
        if o.name == "record_name" || o.name == "record_email");
    last.role == Role::System && last.content == instructions && !own_output
}

/// A model that records what it has heard and asks only for what it has not.
fn model() -> ScriptedLlm {
    ScriptedLlm::new()
        .rule(
            Rule::when(|req| req.instructions().contains("summarise a conversation"))
                .reply(Reply::text("The user gave their name and email.")),
        )
        .on_user("sign me up", Reply::call("start_onboarding", json!({})))
        .on_user(
            "change my name",
            Reply::dynamic(|_| Reply::call("out_of_scope", json!({"task_ids": ["name_task"]}))),
        )
        .on_user(
            "@",
            Reply::dynamic(|req| match heard_email(req) {
                Some(email) => Reply::call("record_email", json!({ "email": email })),
                None => Reply::text("Sorry?"),
            }),
        )
        // A step's first reply: the request ends with the step's reply instructions. (Not
        // `on_instructions`: a step entered after `out_of_scope` has that tool's output last in
        // its history, which that rule takes for a follow-up to its own tool call.)
        .rule(
            Rule::when(|req| asked(req, "Ask for the user's name.")).reply(Reply::dynamic(|req| {
                match heard_name(req) {
                    Some(name) => Reply::call("record_name", json!({ "name": name })),
                    None => Reply::text("What is your name?"),
                }
            })),
        )
        .rule(
            Rule::when(|req| asked(req, "Ask for the user's email address.")).reply(
                Reply::dynamic(|req| match heard_email(req) {
                    Some(email) => Reply::call("record_email", json!({ "email": email })),
                    None => Reply::text("What is your email address?"),
                }),
            ),
        )
        .after_tool(
            "start_onboarding",
            Reply::dynamic(|req| {
                let out = req
                    .chat_ctx
                    .items()
                    .iter()
                    .rev()
                    .find_map(|i| match i {
                        agents_core::llm::ChatItem::FunctionCallOutput(o) => Some(o.output.clone()),
                        _ => None,
                    })
                    .unwrap_or_default();
                Reply::text(format!("All set. {out}"))
            }),
        )
}

/// The scripted model behind the in-process Chat Completions server, reached through the real
/// client. The server is returned too: it stops when dropped.
fn over_http(inner: ScriptedLlm) -> (OpenAiLlm, ChatCompletionsServer) {
    let server = ChatCompletionsServer::spawn(inner).expect("test server starts");
    let llm = OpenAiLlm::builder()
        .base_url(server.base_url())
        .api_key("test")
        .model("scripted")
        .max_retries(0)
        .build()
        .expect("client builds");
    (llm, server)
}

/// A session over `llm` with the onboarding agent started.
async fn onboarding(llm: impl Llm) -> AgentSession {
    let session = AgentSession::new(llm);
    session.start(OnboardingAgent).await.unwrap();
    session
}

/// Story 1: name and email in one breath; both steps record them at once, nothing is asked.
async fn already_heard(llm: impl Llm) {
    let session = onboarding(llm).await;
    let turn = session
        .run("Please sign me up: my name is Alice and my email is alice@example.com")
        .await
        .unwrap();
    let mut e = turn.expect();
    e.next_event()
        .is_function_call("start_onboarding", json!({}));
    e.next_event().is_agent_handoff("task_group");
    e.next_event().is_agent_handoff("name_task");
    e.next_event()
        .is_function_call("record_name", json!({"name": "Alice"}));
    e.next_event().is_function_call_output();
    e.next_event().is_agent_handoff("email_task");
    expect_task_done_by(
        &mut e,
        "record_email",
        json!({"email": "alice@example.com"}),
        "Onboarded Alice with email alice@example.com",
    );
    e.next_event()
        .is_message(Role::Assistant)
        .containing("All set");
    e.no_more_events();
    assert!(
        !turn.assistant_text().contains('?'),
        "nothing was asked again: {}",
        turn.assistant_text()
    );
    session.close().await;
}

/// Story 2: while the email is collected the user changes the name; the name step, entered
/// again, records the new name at once and the email step asks for the email again.
async fn regression_records_at_once(llm: impl Llm) {
    let session = onboarding(llm).await;
    let turn = session
        .run("Please sign me up, my name is Alice.")
        .await
        .unwrap();
    assert!(turn
        .assistant_text()
        .contains("What is your email address?"));

    let turn = session
        .run("Actually, change my name to Bob")
        .await
        .unwrap();
    let mut e = turn.expect();
    e.next_event()
        .is_function_call("out_of_scope", json!({"task_ids": ["name_task"]}));
    e.next_event().is_function_call_output();
    e.next_event().is_agent_handoff("name_task");
    e.next_event()
        .is_function_call("record_name", json!({"name": "Bob"}));
    e.next_event().is_function_call_output();
    e.next_event().is_agent_handoff("email_task");
    e.next_event()
        .is_message(Role::Assistant)
        .containing("What is your email address?");
    e.no_more_events();
    assert!(!turn.assistant_text().contains("What is your name?"));

    // The next line is the email, and it goes to the email step.
    let turn = session.run("It is bob@example.com").await.unwrap();
    let mut e = turn.expect();
    expect_task_done_by(
        &mut e,
        "record_email",
        json!({"email": "bob@example.com"}),
        "Onboarded Bob with email bob@example.com",
    );
    session.close().await;
}

/// Runs `story` as two tests: against the scripted model in process, and over HTTP.
macro_rules! in_process_and_over_http {
    ($story:ident: $in_process:ident, $over_http:ident) => {
        #[tokio::test]
        async fn $in_process() {
            $story(model()).await;
        }

        #[tokio::test]
        async fn $over_http() {
            let (llm, _server) = over_http(model());
            $story(llm).await;
        }
    };
}

in_process_and_over_http!(
    already_heard: a_task_records_what_it_already_heard,
    a_task_records_what_it_already_heard_over_http
);
in_process_and_over_http!(
    regression_records_at_once: a_step_returned_to_records_the_new_value_at_once,
    a_step_returned_to_records_the_new_value_at_once_over_http
);

#[tokio::test]
async fn on_enter_replies_offer_the_tools_but_not_ignore_on_enter_ones() {
    let llm = model();
    let session = onboarding(llm.clone()).await;
    session
        .run("Please sign me up, my name is Alice.")
        .await
        .unwrap();
    session
        .run("Actually, change my name to Bob")
        .await
        .unwrap();
    let entered_again = llm
        .requests()
        .into_iter()
        .filter(|r| r.instructions().contains("Ask for the user's name."))
        .nth(1)
        .expect("the name step was entered twice");
    assert!(entered_again.offers_tool("record_name"));
    assert!(
        !entered_again.offers_tool("out_of_scope"),
        "out_of_scope is ignore_on_enter"
    );
    session.close().await;
}

/// Awaits a task from a tool; the task's `on_enter` reply calls a tool that awaits another task.
#[agent]
struct Nested;

#[function_tools]
impl Nested {
    /// Start.
    #[function_tool]
    async fn start(&mut self, ctx: &mut AgentContext<'_>) -> Result<String> {
        let email = ctx.run_task(Outer).await?;
        Ok(format!("got {email}"))
    }
}

/// Outer step.
#[agent_task(result = String)]
struct Outer;

#[function_tools]
impl Outer {
    async fn on_enter(&mut self, ctx: &mut TaskContext<'_, String>) -> Result<()> {
        // Awaiting the reply returns once it is said; the tool it calls runs afterwards.
        ctx.generate_reply("Ask for the user's email address.")
            .await?;
        assert!(!ctx.is_done(), "the reply's tool has not run yet");
        Ok(())
    }

    /// Collect the email with the email step.
    #[function_tool]
    async fn collect(&mut self, ctx: &mut TaskContext<'_, String>) -> Result<(), ToolError> {
        let email = ctx
            .run_task(EmailTask)
            .await
            .map_err(|e| ToolError::new(e.to_string()))?;
        ctx.complete(email);
        Ok(())
    }
}

#[tokio::test]
async fn a_hook_reply_whose_tool_awaits_a_task_does_not_deadlock() {
    let llm = ScriptedLlm::new()
        .on_user("go", Reply::call("start", json!({})))
        .rule(
            Rule::on_instructions("ask for the user's email")
                .if_tool_offered("collect")
                .reply(Reply::text("Let me collect that.").and_call("collect", json!({}))),
        )
        .on_instructions(
            "ask for the user's email",
            Reply::text("What is your email address?"),
        )
        .on_user("@", Reply::call("record_email", json!({"email": "a@b.c"})))
        .after_tool("start", Reply::text("Done with the start."));
    let session = AgentSession::new(llm);
    session.start(Nested).await.unwrap();
    let turn = tokio::time::timeout(std::time::Duration::from_secs(5), session.run("go"))
        .await
        .expect("no deadlock")
        .unwrap();
    let mut e = turn.expect();
    e.next_event().is_function_call("start", json!({}));
    e.next_event().is_agent_handoff("outer");
    e.next_event()
        .is_message(Role::Assistant)
        .containing("Let me collect");
    e.next_event().is_function_call("collect", json!({}));
    e.next_event().is_agent_handoff("email_task");
    e.next_event()
        .is_message(Role::Assistant)
        .containing("What is your email");
    e.no_more_events();
    let turn = tokio::time::timeout(std::time::Duration::from_secs(5), session.run("a@b.c"))
        .await
        .expect("no deadlock")
        .unwrap();
    let mut e = turn.expect();
    e.next_event()
        .is_function_call("record_email", json!({"email": "a@b.c"}));
    e.next_event().is_function_call_output();
    e.next_event().is_function_call_output();
    e.next_event()
        .is_function_call_output()
        .with_output_containing("got a@b.c");
    assert_eq!(
        turn.final_output::<String>().map(String::as_str),
        Some("a@b.c")
    );
    session.close().await;
}
