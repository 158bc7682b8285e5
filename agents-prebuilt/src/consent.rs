//! `CollectConsentTask`: gets a clear yes or no to one request.

use agents_core::prelude::*;

/// Asks the user for consent to one thing (recording the call, sharing data, ...) and completes
/// with `true` for a clear yes and `false` for a clear no.
///
/// ```no_run
/// # use agents_core::prelude::*;
/// # use agents_prebuilt::CollectConsentTask;
/// # async fn demo(ctx: &mut AgentContext<'_>) -> Result<()> {
/// let task = CollectConsentTask::new("record this call for quality and training purposes");
/// if !ctx.run_task(task).await? {
///     ctx.generate_reply("Say you will not record the call, then continue.").await?;
/// }
/// # Ok(()) }
/// ```
#[agent_task(result = bool)]
#[derive(Debug, Clone)]
pub struct CollectConsentTask {
    purpose: String,
    extra_instructions: String,
}

impl CollectConsentTask {
    /// Consent to `purpose`, phrased to follow "permission to": e.g. `"record this call for
    /// quality and training"`.
    pub fn new(purpose: impl Into<String>) -> Self {
        CollectConsentTask {
            purpose: purpose.into(),
            extra_instructions: String::new(),
        }
    }

    /// Adds the application's own instructions (e.g. who you are, or what happens on a no).
    pub fn extra_instructions(mut self, text: impl Into<String>) -> Self {
        self.extra_instructions = text.into();
        self
    }
}

#[function_tools]
impl CollectConsentTask {
    fn instructions(&self) -> String {
        let mut text = format!(
            "You are one step of a larger system: your only job right now is to get a clear yes \
             or no from the user to this request: permission to {purpose}. Be polite and \
             professional, make clear that they may decline, and do not pressure them. When the \
             user clearly agrees, call `consent_given`; when they clearly refuse, call \
             `consent_denied`. If the answer is unclear or they ask a question, answer briefly \
             and ask again; never assume an answer they did not give. Speak naturally and \
             briefly, in plain sentences: no markdown, lists or emoji.",
            purpose = self.purpose.trim()
        );
        if !self.extra_instructions.trim().is_empty() {
            text.push_str("\n\n");
            text.push_str(self.extra_instructions.trim());
        }
        text
    }

    async fn on_enter(&mut self, ctx: &mut Ctx<'_, Self>) -> Result<()> {
        ctx.generate_reply(format!(
            "Ask the user for permission to {}. Make it clear that they can decline.",
            self.purpose.trim()
        ))
        .await
    }

    /// Call this when the user clearly agrees.
    #[function_tool]
    async fn consent_given(&mut self, ctx: &mut Ctx<'_, Self>) -> &'static str {
        ctx.complete(true);
        "Consent recorded."
    }

    /// Call this when the user clearly refuses.
    #[function_tool]
    async fn consent_denied(&mut self, ctx: &mut Ctx<'_, Self>) -> &'static str {
        ctx.complete(false);
        "Refusal recorded."
    }
}
