//! A screening interview: a TaskGroup of intro, email, commute, experience and behavioural
//! questions, with a `disqualify` tool available throughout. Answers collect in the session's
//! userdata; at the end the model evaluates the candidate, and one CSV row per call is appended
//! to `--output`: complete, disqualified, declined (the candidate would not give an email), or
//! incomplete (the call ended early). The output file is checked before the call starts.

use crate::cli::Mode;
use crate::{Call, Calls};
use agents_core::console;
use agents_core::llm::{collect_text, ChatContext, ChatRequest};
use agents_core::prelude::*;
use agents_prebuilt::{CaptureDeclined, EmailResult, GetEmailTask};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// `--help` text of the example.
pub const ABOUT: &str = "A screening interview that appends one CSV row per call.

A TaskGroup asks for an introduction, an email address, commute, experience and behavioural \
answers, with a `disqualify` tool available throughout. Every call leaves one row in --output \
(default survey_results.csv in console mode; demo mode writes no file unless given one): \
complete, disqualified, declined, or incomplete when the call ended early.";

/// Where the CSV goes in console mode when `--output` is not given.
pub const DEFAULT_OUTPUT: &str = "survey_results.csv";

/// The survey's own options.
#[derive(Debug, Clone, clap::Args)]
pub struct SurveyArgs {
    /// CSV file that gets one row per call [default in console mode: survey_results.csv; demo
    /// mode writes no file without it].
    #[arg(long, global = true, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Everything learned about the candidate during the call: one CSV row.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Candidate {
    /// Name, from the intro.
    pub name: String,
    /// Introduction notes.
    pub intro: String,
    /// Email address, as soon as it was recorded.
    pub email: String,
    /// Whether they can commute.
    pub can_commute: Option<bool>,
    /// How they would commute.
    pub commute_method: String,
    /// Years of experience.
    pub years_of_experience: Option<u32>,
    /// What they worked on.
    pub experience: String,
    /// Strengths.
    pub strengths: String,
    /// Weaknesses.
    pub weaknesses: String,
    /// Preferred work style.
    pub work_style: String,
    /// How the call ended: `complete`, `disqualified`, `declined: ...` or `incomplete`.
    pub status: String,
    /// Why the candidate was disqualified, if they were.
    pub disqualified: String,
    /// The model's recommendation, for complete interviews.
    pub evaluation: String,
}

/// Welcome the candidate and collect their name and a short introduction.
#[agent_task(result = ())]
pub struct IntroTask;

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
#[allow(missing_docs)]
pub enum CommuteMethod {
    Driving,
    Bus,
    Subway,
    Bike,
    None,
}

/// Ask about the candidate's ability to commute to the office.
#[agent_task(result = ())]
pub struct CommuteTask;

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
pub struct ExperienceTask;

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
pub struct BehavioralTask;

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
pub struct Disqualified(pub String);

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct DisqualifyArgs {
    /// Why the candidate cannot continue
    reason: String,
}

/// You are a friendly recruiter screening candidates for a backend engineering role. Keep
/// questions short, one at a time.
#[agent]
pub struct SurveyAgent {
    output: Option<PathBuf>,
    row_written: bool,
}

impl SurveyAgent {
    /// An interview whose row goes to `output` (`None`: shown, not saved).
    pub fn new(output: Option<PathBuf>) -> Self {
        SurveyAgent {
            output,
            row_written: false,
        }
    }

    /// Writes the candidate's row once per call.
    async fn write_row(&mut self, ctx: &mut AgentContext<'_>) -> Result<()> {
        if self.row_written {
            return Ok(());
        }
        self.row_written = true;
        let candidate = ctx.userdata::<Candidate>()?.clone();
        match &self.output {
            Some(path) => {
                append_row(path, &candidate)
                    .map_err(|e| Error::Usage(format!("cannot write {}: {e}", path.display())))?;
                console::note(format!(
                    "(row appended to {}: {})",
                    path.display(),
                    candidate.status
                ))
                .await;
            }
            None => {
                let row = row_text(&candidate)
                    .map_err(|e| Error::Usage(format!("cannot format the row: {e}")))?;
                console::note(format!(
                    "(the call's row, not saved without --output)\n{row}"
                ))
                .await;
            }
        }
        Ok(())
    }
}

#[function_tools]
impl SurveyAgent {
    async fn on_enter(&mut self, ctx: &mut AgentContext<'_>) -> Result<()> {
        // The email is kept as soon as its task completes, so a row written after a
        // disqualification or a decline still has it.
        let email = Arc::new(Mutex::new(None::<String>));
        let heard = email.clone();
        let mut group = TaskGroup::new()
            .shared_tool::<DisqualifyArgs, _>(
                "disqualify",
                "End the interview when the candidate is clearly unsuitable or asks to stop.",
                |args| Err(Error::task(Disqualified(args.reason))),
            )
            .on_task_completed(move |event| {
                if let Some(result) = event.result::<EmailResult>() {
                    *heard.lock().unwrap_or_else(|e| e.into_inner()) =
                        Some(result.email_address.clone());
                }
                async { Ok(()) }
            });
        group.add("intro_task", "Collects name and introduction", || IntroTask);
        group.add(
            "get_email_task",
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
        let outcome = ctx.run_task(group).await;
        if let Some(address) = email.lock().unwrap_or_else(|e| e.into_inner()).take() {
            ctx.userdata::<Candidate>()?.email = address;
        }
        match outcome {
            Ok(_) => {
                let evaluation = evaluate(ctx).await?;
                let candidate = ctx.userdata::<Candidate>()?;
                candidate.evaluation = evaluation;
                candidate.status = "complete".into();
                ctx.generate_reply("Thank the candidate and say the team will be in touch.")
                    .await?;
            }
            Err(e) => {
                if let Some(Disqualified(reason)) = e.downcast_ref::<Disqualified>() {
                    let candidate = ctx.userdata::<Candidate>()?;
                    candidate.status = "disqualified".into();
                    candidate.disqualified = reason.clone();
                    ctx.generate_reply("Politely end the interview.").await?;
                } else if let Some(declined) = e.downcast_ref::<CaptureDeclined>() {
                    ctx.userdata::<Candidate>()?.status = format!("declined: {}", declined.what);
                    ctx.generate_reply(
                        "Thank the candidate for their time. Explain that the team needs an email \
                         address to follow up, so the interview ends here, and say goodbye.",
                    )
                    .await?;
                } else {
                    // The call ended or failed: `on_exit` records what was collected.
                    return Err(e);
                }
            }
        }
        self.write_row(ctx).await?;
        ctx.shutdown();
        Ok(())
    }

    /// A call that ended before the interview did still leaves its row, marked incomplete.
    async fn on_exit(&mut self, ctx: &mut AgentContext<'_>) -> Result<()> {
        if !self.row_written {
            ctx.userdata::<Candidate>()?.status = "incomplete".into();
            self.write_row(ctx).await?;
        }
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
pub fn append_row(path: &Path, candidate: &Candidate) -> std::result::Result<(), csv::Error> {
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

/// The row with its header, as CSV text.
fn row_text(candidate: &Candidate) -> std::result::Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.serialize(candidate)?;
    let bytes = writer
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))?;
    Ok(String::from_utf8_lossy(&bytes).trim_end().to_string())
}

/// Checks the options before any call: the output file must be writable (it is created when
/// missing), so a finished interview is never lost to a bad path.
pub fn setup(args: &SurveyArgs, mode: Mode) -> Result<Calls<SurveyAgent>> {
    let output = match (&args.output, mode) {
        (Some(path), _) => Some(path.clone()),
        (None, Mode::Console) => Some(PathBuf::from(DEFAULT_OUTPUT)),
        (None, Mode::Demo) => None,
    };
    if let Some(path) = &output {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| Error::Usage(format!("cannot write --output {}: {e}", path.display())))?;
    }
    Ok(Box::new(move |_: &Arc<dyn Llm>| {
        Call::new(SurveyAgent::new(output.clone()))
            .session(|session| session.userdata(Candidate::default()).max_tool_steps(5))
    }))
}
