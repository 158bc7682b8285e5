//! Unordered collection in one task: `BehavioralTask` records strengths, weaknesses and work
//! style in any order and completes only when all three are in.

use agents_core::prelude::*;

/// `--help` text of the example.
pub const ABOUT: &str = "Collects three answers in any order within one task.

BehavioralTask records strengths, weaknesses and work style as they come and completes only \
when all three are in; the agent then thanks the candidate.";

/// The three answers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BehavioralResults {
    /// Strengths, summarised.
    pub strengths: String,
    /// Weaknesses, summarised.
    pub weaknesses: String,
    /// Preferred work style.
    pub work_style: String,
}

/// Collect strengths, weaknesses, and work style in any order.
#[agent_task(result = BehavioralResults)]
#[derive(Default)]
pub struct BehavioralTask {
    strengths: Option<String>,
    weaknesses: Option<String>,
    work_style: Option<String>,
}

#[function_tools]
impl BehavioralTask {
    async fn on_enter(&mut self, ctx: &mut TaskContext<'_, BehavioralResults>) -> Result<()> {
        ctx.generate_reply("Ask the candidate about their strengths, weaknesses and work style.")
            .await
    }

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

    /// Completes the task once all three answers are in; otherwise tells the LLM what is left.
    fn check_completion(&mut self, ctx: &mut TaskContext<'_, BehavioralResults>) -> String {
        if let (Some(strengths), Some(weaknesses), Some(work_style)) =
            (&self.strengths, &self.weaknesses, &self.work_style)
        {
            ctx.complete(BehavioralResults {
                strengths: strengths.clone(),
                weaknesses: weaknesses.clone(),
                work_style: work_style.clone(),
            });
            return "Recorded.".into();
        }
        let missing: Vec<&str> = [
            ("strengths", self.strengths.is_none()),
            ("weaknesses", self.weaknesses.is_none()),
            ("work style", self.work_style.is_none()),
        ]
        .into_iter()
        .filter_map(|(name, missing)| missing.then_some(name))
        .collect();
        format!("Recorded. Continue collecting: {}.", missing.join(", "))
    }
}

/// You are a friendly interviewer for a software engineering role.
#[agent]
pub struct Interviewer;

#[function_tools]
impl Interviewer {
    async fn on_enter(&mut self, ctx: &mut AgentContext<'_>) -> Result<()> {
        let results = ctx.run_task(BehavioralTask::default()).await?;
        ctx.generate_reply(format!(
            "Thank the candidate. Their strengths: {}; weaknesses: {}; work style: {}.",
            results.strengths, results.weaknesses, results.work_style
        ))
        .await
    }
}
