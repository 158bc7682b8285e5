//! The seed's contact-info task awaited from a tool, and the unordered behavioural interview.

use agents_core::prelude::*;
use agents_core::testing::{Reply, ScriptedLlm};
use serde_json::json;

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
struct ContactInfoResult {
    name: String,
    email_address: String,
    phone_number: String,
}

/// Collect the user's name, email address, and phone number.
#[agent_task(result = ContactInfoResult)]
struct GetContactInfoTask;

#[function_tools]
impl GetContactInfoTask {
    /// Record the user's contact information once all three parts are known.
    ///
    /// # Arguments
    /// * `name` - The user's full name
    /// * `email_address` - The user's email address
    /// * `phone_number` - The user's phone number
    #[function_tool]
    async fn record_contact_info(
        &mut self,
        ctx: &mut TaskContext<'_, ContactInfoResult>,
        name: String,
        email_address: String,
        phone_number: String,
    ) {
        ctx.complete(ContactInfoResult {
            name,
            email_address,
            phone_number,
        });
    }
}

/// You are a friendly customer service representative.
#[agent]
struct CustomerServiceAgent;

#[function_tools]
impl CustomerServiceAgent {
    /// Collect the user's contact information.
    #[function_tool]
    async fn collect_contact_info(&mut self, ctx: &mut AgentContext<'_>) -> Result<String> {
        let result = ctx
            .run_task(GetContactInfoTask)
            .with_history(CopyOptions::all().exclude_instructions())
            .await?;
        Ok(format!("Recorded contact info for {}.", result.name))
    }
}

#[tokio::test]
async fn contact_info_task_runs_from_a_tool_with_the_parent_history() {
    let llm = ScriptedLlm::new()
        .on_user(
            "update my details",
            Reply::call("collect_contact_info", json!({})),
        )
        .on_user(
            "jane",
            Reply::call(
                "record_contact_info",
                json!({"name": "Jane Doe", "email_address": "jane@example.com", "phone_number": "+15550100"}),
            ),
        )
        .after_tool(
            "collect_contact_info",
            Reply::text("Thanks Jane, your details are saved."),
        );
    let session = AgentSession::builder().llm(llm.clone()).build().unwrap();
    session.start(CustomerServiceAgent).await.unwrap();

    // The tool starts the task; the turn ends while the task waits for the user.
    let turn = session.run("I'd like to update my details").await.unwrap();
    let mut e = turn.expect();
    e.next_event()
        .is_function_call("collect_contact_info", None);
    e.next_event().is_agent_handoff_to::<GetContactInfoTask>();
    e.no_more_events();

    let turn = session
        .run("I'm Jane Doe, jane@example.com, +1 555 0100")
        .await
        .unwrap();
    let mut e = turn.expect();
    e.next_event()
        .is_function_call("record_contact_info", json!({"name": "Jane Doe"}));
    e.next_event().is_function_call_output();
    e.next_event()
        .is_function_call_output()
        .with_output_containing("Recorded contact info for Jane Doe.");
    e.next_event()
        .is_message(Role::Assistant)
        .containing("details are saved");
    e.no_more_events();
    assert_eq!(
        turn.final_output::<ContactInfoResult>()
            .map(|r| r.email_address.as_str()),
        Some("jane@example.com")
    );

    // The task saw the parent's history without the parent's instructions.
    let task_request = llm
        .requests()
        .into_iter()
        .find(|r| r.offers_tool("record_contact_info"))
        .unwrap();
    let instructions = task_request.instructions();
    assert!(instructions.contains("Collect the user's name"));
    assert!(!instructions.contains("customer service representative"));
    assert!(task_request
        .chat_ctx
        .messages()
        .any(|m| m.content.contains("update my details")));
    // The parent's tool call is not in the task's history (only the task's own tools are).
    assert!(!task_request.chat_ctx.items().iter().any(
        |i| matches!(i, agents_core::llm::ChatItem::FunctionCall(c) if c.name == "collect_contact_info")
    ));
    session.close().await;
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
struct BehavioralResults {
    strengths: String,
    weaknesses: String,
    work_style: String,
}

/// Collect strengths, weaknesses, and work style in any order.
#[agent_task(result = BehavioralResults)]
#[derive(Default)]
struct BehavioralTask {
    strengths: Option<String>,
    weaknesses: Option<String>,
    work_style: Option<String>,
}

#[function_tools]
impl BehavioralTask {
    /// Record candidate's strengths
    #[function_tool]
    async fn record_strengths(
        &mut self,
        ctx: &mut TaskContext<'_, BehavioralResults>,
        strengths_summary: String,
    ) -> String {
        self.strengths = Some(strengths_summary);
        self.check_completion(ctx)
    }

    /// Record candidate's weaknesses
    #[function_tool]
    async fn record_weaknesses(
        &mut self,
        ctx: &mut TaskContext<'_, BehavioralResults>,
        weaknesses_summary: String,
    ) -> String {
        self.weaknesses = Some(weaknesses_summary);
        self.check_completion(ctx)
    }

    /// Record candidate's work style
    #[function_tool]
    async fn record_work_style(
        &mut self,
        ctx: &mut TaskContext<'_, BehavioralResults>,
        work_style: String,
    ) -> String {
        self.work_style = Some(work_style);
        self.check_completion(ctx)
    }

    fn check_completion(&mut self, ctx: &mut TaskContext<'_, BehavioralResults>) -> String {
        match (&self.strengths, &self.weaknesses, &self.work_style) {
            (Some(s), Some(w), Some(ws)) => {
                ctx.complete(BehavioralResults {
                    strengths: s.clone(),
                    weaknesses: w.clone(),
                    work_style: ws.clone(),
                });
                "Recorded.".into()
            }
            _ => {
                let missing: Vec<&str> = [
                    ("strengths", &self.strengths),
                    ("weaknesses", &self.weaknesses),
                    ("work style", &self.work_style),
                ]
                .iter()
                .filter(|(_, v)| v.is_none())
                .map(|(n, _)| *n)
                .collect();
                format!(
                    "Recorded. Continue collecting the remaining information: {}.",
                    missing.join(", ")
                )
            }
        }
    }
}

/// You interview candidates.
#[agent]
struct Interviewer;

#[function_tools]
impl Interviewer {
    async fn on_enter(&mut self, ctx: &mut AgentContext<'_>) -> Result<()> {
        let results = ctx.run_task(BehavioralTask::default()).await?;
        ctx.say(format!(
            "Thanks! Noted your work style: {}.",
            results.work_style
        ))
        .await
    }
}

#[tokio::test]
async fn behavioural_task_completes_only_when_all_three_are_in() {
    let llm = ScriptedLlm::new()
        .on_user(
            "i work best",
            Reply::call("record_work_style", json!({"work_style": "async, written"})),
        )
        .on_user(
            "strength",
            Reply::calls(vec![
                ("record_strengths", json!({"strengths_summary": "focus"})),
                (
                    "record_weaknesses",
                    json!({"weaknesses_summary": "delegation"}),
                ),
            ]),
        )
        .after_tool(
            "record_work_style",
            Reply::text("Got it. What are your strengths and weaknesses?"),
        );
    let session = AgentSession::builder().llm(llm).build().unwrap();
    session.start(Interviewer).await.unwrap();

    let turn = session.run("I work best async, in writing").await.unwrap();
    turn.expect()
        .contains_function_call_output(false)
        .with_output_containing("strengths, weaknesses");
    assert!(turn.final_output::<BehavioralResults>().is_none());

    let turn = session
        .run("My strength is focus, my weakness is delegation")
        .await
        .unwrap();
    let mut e = turn.expect();
    e.next_event().is_function_call("record_strengths", None);
    e.next_event().is_function_call("record_weaknesses", None);
    e.next_event()
        .is_function_call_output()
        .with_output_containing("remaining information: weaknesses.");
    e.next_event()
        .is_function_call_output()
        .with_output_containing("Recorded.");
    e.next_event()
        .is_message(Role::Assistant)
        .containing("async, written");
    e.no_more_events();
    assert_eq!(
        turn.final_output::<BehavioralResults>(),
        Some(&BehavioralResults {
            strengths: "focus".into(),
            weaknesses: "delegation".into(),
            work_style: "async, written".into(),
        })
    );
    session.close().await;
}
