//! A screening interview: a TaskGroup of intro, email, commute, experience and behavioural
//! questions, with a `disqualify` tool available throughout. Answers collect in the session's
//! userdata; at the end the model evaluates the candidate and one CSV row per call is appended to
//! `--output` (a disqualified call is recorded too).
//!
//! `cargo run -p agents-examples --bin survey -- demo` (scripted model) or `-- console`.

use agents_core::console::{self, Cli};
use agents_core::llm::{collect_text, ChatContext, ChatRequest};
use agents_core::prelude::*;
use agents_core::testing::{Reply, ScriptedLlm};
use agents_prebuilt::GetEmailTask;
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;

/// Everything learned about the candidate during the call.
#[derive(Debug, Clone, Default, serde::Serialize)]
struct Candidate {
    name: String,
    intro: String,
    email: String,
    can_commute: Option<bool>,
    commute_method: String,
    years_of_experience: Option<u32>,
    experience: String,
    strengths: String,
    weaknesses: String,
    work_style: String,
    disqualified: String,
    evaluation: String,
}

/// Welcome the candidate and collect their name and a short introduction.
#[agent_task(result = ())]
struct IntroTask;

#[function_tools]
impl IntroTask {
    async fn on_enter(&mut self, ctx: &mut TaskContext<'_, ()>) -> Result<()> {
        ctx.generate_reply("Welcome the candidate and gather their name.")
            .await
    }

    /// Record the candidate's name and introduction
    #[function_tool]
    async fn record_intro(
        &mut self,
        ctx: &mut TaskContext<'_, ()>,
        name: String,
        intro_notes: String,
    ) -> Result<()> {
        let candidate = ctx.userdata::<Candidate>()?;
        candidate.name = name;
        candidate.intro = intro_notes;
        ctx.complete(());
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
enum CommuteMethod {
    Driving,
    Bus,
    Subway,
    Bike,
    None,
}

/// Ask about the candidate's ability to commute to the office.
#[agent_task(result = ())]
struct CommuteTask;

#[function_tools]
impl CommuteTask {
    async fn on_enter(&mut self, ctx: &mut TaskContext<'_, ()>) -> Result<()> {
        ctx.generate_reply("Ask whether they can commute to the office, and how.")
            .await
    }

    /// Record commute flexibility and transportation method
    ///
    /// # Arguments
    /// * `can_commute` - Whether the candidate can commute to the office
    /// * `commute_method` - How they would get there
    #[function_tool]
    async fn record_commute_flexibility(
        &mut self,
        ctx: &mut TaskContext<'_, ()>,
        can_commute: bool,
        commute_method: CommuteMethod,
    ) -> Result<()> {
        let candidate = ctx.userdata::<Candidate>()?;
        candidate.can_commute = Some(can_commute);
        candidate.commute_method = format!("{commute_method:?}").to_lowercase();
        ctx.complete(());
        Ok(())
    }
}

/// Ask about the candidate's professional experience.
#[agent_task(result = ())]
struct ExperienceTask;

#[function_tools]
impl ExperienceTask {
    async fn on_enter(&mut self, ctx: &mut TaskContext<'_, ()>) -> Result<()> {
        ctx.generate_reply("Ask about their years of experience and what they worked on.")
            .await
    }

    /// Record the candidate's experience
    ///
    /// # Arguments
    /// * `years_of_experience` - Years of professional experience
    /// * `description` - What they worked on, in a sentence or two
    #[function_tool]
    async fn record_experience(
        &mut self,
        ctx: &mut TaskContext<'_, ()>,
        years_of_experience: u32,
        description: String,
    ) -> Result<()> {
        let candidate = ctx.userdata::<Candidate>()?;
        candidate.years_of_experience = Some(years_of_experience);
        candidate.experience = description;
        ctx.complete(());
        Ok(())
    }
}

/// Collect strengths, weaknesses, and work style in any order.
#[agent_task(result = ())]
struct BehavioralTask;

#[function_tools]
impl BehavioralTask {
    async fn on_enter(&mut self, ctx: &mut TaskContext<'_, ()>) -> Result<()> {
        ctx.generate_reply("Ask about their strengths, weaknesses and work style.")
            .await
    }

    /// Record candidate's strengths
    #[function_tool]
    async fn record_strengths(
        &mut self,
        ctx: &mut TaskContext<'_, ()>,
        strengths_summary: String,
    ) -> Result<String> {
        ctx.userdata::<Candidate>()?.strengths = strengths_summary;
        check_completion(ctx)
    }

    /// Record candidate's weaknesses
    #[function_tool]
    async fn record_weaknesses(
        &mut self,
        ctx: &mut TaskContext<'_, ()>,
        weaknesses_summary: String,
    ) -> Result<String> {
        ctx.userdata::<Candidate>()?.weaknesses = weaknesses_summary;
        check_completion(ctx)
    }

    /// Record candidate's work style
    #[function_tool]
    async fn record_work_style(
        &mut self,
        ctx: &mut TaskContext<'_, ()>,
        work_style: String,
    ) -> Result<String> {
        ctx.userdata::<Candidate>()?.work_style = work_style;
        check_completion(ctx)
    }
}

/// Completes the behavioural task once all three answers are in.
fn check_completion(ctx: &mut TaskContext<'_, ()>) -> Result<String> {
    let c = ctx.userdata::<Candidate>()?;
    let missing: Vec<&str> = [
        ("strengths", &c.strengths),
        ("weaknesses", &c.weaknesses),
        ("work style", &c.work_style),
    ]
    .into_iter()
    .filter_map(|(name, value)| value.is_empty().then_some(name))
    .collect();
    if missing.is_empty() {
        ctx.complete(());
        return Ok("Recorded.".into());
    }
    Ok(format!(
        "Recorded. Continue collecting: {}.",
        missing.join(", ")
    ))
}

/// Ends the interview early.
#[derive(Debug, thiserror::Error)]
#[error("disqualified: {0}")]
struct Disqualified(String);

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct DisqualifyArgs {
    /// Why the candidate cannot continue
    reason: String,
}

/// You are a friendly recruiter screening candidates for a backend engineering role. Keep
/// questions short, one at a time.
#[agent]
struct SurveyAgent {
    output: PathBuf,
}

#[function_tools]
impl SurveyAgent {
    async fn on_enter(&mut self, ctx: &mut AgentContext<'_>) -> Result<()> {
        let mut group = TaskGroup::new().shared_tool::<DisqualifyArgs, _>(
            "disqualify",
            "End the interview when the candidate is clearly unsuitable or asks to stop.",
            |args| Err(Error::task(Disqualified(args.reason))),
        );
        group.add("intro_task", "Collects name and introduction", || IntroTask);
        group.add(
            "email_task",
            "Collects the candidate's email",
            GetEmailTask::new,
        );
        group.add("commute_task", "Asks about commute flexibility", || {
            CommuteTask
        });
        group.add("experience_task", "Collects years of experience", || {
            ExperienceTask
        });
        group.add(
            "behavioral_task",
            "Strengths, weaknesses and work style",
            || BehavioralTask,
        );
        match ctx.run_task(group).await {
            Ok(results) => {
                if let Some(email) = results.by_id("email_task") {
                    ctx.userdata::<Candidate>()?.email =
                        email["email_address"].as_str().unwrap_or_default().into();
                }
                let evaluation = evaluate(ctx).await?;
                ctx.userdata::<Candidate>()?.evaluation = evaluation;
                ctx.generate_reply("Thank the candidate and say the team will be in touch.")
                    .await?;
            }
            Err(e) => match e.downcast_ref::<Disqualified>() {
                Some(Disqualified(reason)) => {
                    ctx.userdata::<Candidate>()?.disqualified = reason.clone();
                    ctx.generate_reply("Politely end the interview.").await?;
                }
                None => return Err(e),
            },
        }
        let candidate = ctx.userdata::<Candidate>()?.clone();
        append_row(&self.output, &candidate)
            .map_err(|e| Error::Usage(format!("cannot write {}: {e}", self.output.display())))?;
        ctx.shutdown();
        Ok(())
    }
}

/// Asks the model for a short hiring recommendation from the interview summary.
async fn evaluate(ctx: &mut AgentContext<'_>) -> Result<String> {
    let summary = ctx
        .chat_ctx()
        .messages()
        .last()
        .map(|m| m.content.clone())
        .unwrap_or_default();
    let mut request = ChatContext::new();
    request.add_message(
        Role::System,
        "Evaluate the candidate for a backend engineering role in two sentences, ending with \
         a recommendation: advance or reject.",
    );
    request.add_message(Role::User, summary);
    let llm = ctx.llm();
    Ok(collect_text(
        &*llm,
        ChatRequest {
            chat_ctx: request,
            ..Default::default()
        },
    )
    .await?)
}

/// Appends one row to the CSV at `path`, writing the header when the file is new or empty.
fn append_row(path: &PathBuf, candidate: &Candidate) -> std::result::Result<(), csv::Error> {
    let is_new = std::fs::metadata(path)
        .map(|m| m.len() == 0)
        .unwrap_or(true);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    let mut writer = csv::WriterBuilder::new()
        .has_headers(is_new)
        .from_writer(file);
    writer.serialize(candidate)?;
    writer.flush()?;
    Ok(())
}

/// The model `demo` mode plays against.
fn demo_llm() -> ScriptedLlm {
    ScriptedLlm::new()
        .on_instructions("gather their name", Reply::text("Hi, thanks for calling! What's your name, and tell me a bit about yourself?"))
        .on_instructions("email address", Reply::text("What's the best email address to reach you?"))
        .on_instructions("commute", Reply::text("Can you commute to our office? How would you get there?"))
        .on_instructions("years of experience", Reply::text("How many years of experience do you have, and on what?"))
        .on_instructions("strengths", Reply::text("What are your strengths, weaknesses and preferred work style?"))
        .on_user("i'm alex", Reply::call("record_intro", json!({"name": "Alex", "intro_notes": "backend engineer"})))
        .on_user("email is", Reply::call("update_email_address", json!({"email": "alex@example.com"})))
        .on_user("commute", Reply::call("record_commute_flexibility", json!({"can_commute": true, "commute_method": "subway"})))
        .on_user("stop", Reply::call("disqualify", json!({"reason": "the candidate asked to stop"})))
        .on_user("years", Reply::call("record_experience", json!({"years_of_experience": 6, "description": "Rust and Go services"})))
        .on_user(
            "strong at",
            Reply::calls(vec![
                ("record_strengths", json!({"strengths_summary": "debugging"})),
                ("record_weaknesses", json!({"weaknesses_summary": "delegating"})),
                ("record_work_style", json!({"work_style": "async, written"})),
            ]),
        )
        .when(
            |r| r.instructions().contains("You summarise a conversation"),
            Reply::text("Alex, backend engineer, alex@example.com, commutes by subway, 6 years of Rust and Go, strong at debugging, weak at delegating, prefers async work."),
        )
        .when(
            |r| r.instructions().contains("Evaluate the candidate"),
            Reply::text("Solid backend experience and good self-awareness. Recommendation: advance."),
        )
        .on_instructions("will be in touch", Reply::text("Thanks Alex, that's everything. The team will be in touch soon!"))
        .on_instructions("end the interview", Reply::text("No problem, thanks for your time. Goodbye!"))
        .otherwise(Reply::text("Could you say that again?"))
}

/// The survey's own flags.
#[derive(Debug, clap::Args)]
struct SurveyArgs {
    /// CSV file that gets one row per call.
    #[arg(long, global = true, default_value = "survey_results.csv")]
    output: PathBuf,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli: Cli<SurveyArgs> = Cli::parse_args();
    let llm = match cli.llm(demo_llm) {
        Ok(llm) => llm,
        Err(e) => return console::fail(e),
    };
    let session = match AgentSession::builder()
        .llm_arc(llm)
        .userdata(Candidate::default())
        .max_tool_steps(5)
        .build()
    {
        Ok(session) => session,
        Err(e) => return console::fail(e),
    };
    let agent = SurveyAgent {
        output: cli.extra.output.clone(),
    };
    let code = console::run(
        &cli,
        session,
        agent,
        &[
            "Hi, I'm Alex, a backend engineer.",
            "My email is alex at example dot com.",
            "Yes, I can commute by subway.",
            "About 6 years, mostly Rust and Go services.",
            "I'm strong at debugging, weak at delegating, and I like async, written work.",
        ],
    )
    .await;
    if let Ok(rows) = std::fs::read_to_string(&cli.extra.output) {
        println!("{}:\n{rows}", cli.extra.output.display());
    }
    code
}
