//! Early exit from a TaskGroup: an intake of email then address (prebuilt tasks) whose
//! `on_task_completed` ends the group as soon as the email belongs to an existing profile; the
//! agent then welcomes the returning user instead of asking for the address. The email is read
//! back for confirmation before it is used; a user who will not give a value is told what a
//! profile needs and the call ends politely.

use crate::cli::Mode;
use crate::{Call, Calls};
use agents_core::prelude::*;
use agents_prebuilt::{CaptureDeclined, EmailResult, GetAddressTask, GetEmailTask};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

/// `--help` text of the example.
pub const ABOUT: &str = "A clinic intake (email, then address) that stops early for a known email.

The TaskGroup's on_task_completed callback ends the group when the email belongs to an \
existing profile (--profiles FILE, one email per line); the agent then welcomes the user back \
instead of asking for the address. The email is read back for confirmation.";

/// The intake's own options.
#[derive(Debug, Clone, clap::Args)]
pub struct IntakeArgs {
    /// File of known emails, one per line.
    #[arg(long, global = true, value_name = "FILE")]
    pub profiles: Option<PathBuf>,
}

/// Raised from the callback to skip the rest of the intake.
#[derive(Debug, thiserror::Error)]
#[error("existing profile found for {0}")]
pub struct ExistingProfileFound(pub String);

/// You are the intake assistant of a clinic. Be brief and warm.
#[agent]
pub struct IntakeAgent {
    profiles: Arc<HashSet<String>>,
}

impl IntakeAgent {
    /// An intake that recognises the emails in `profiles` (lowercase).
    pub fn new(profiles: Arc<HashSet<String>>) -> Self {
        IntakeAgent { profiles }
    }
}

#[function_tools]
impl IntakeAgent {
    async fn on_enter(&mut self, ctx: &mut AgentContext<'_>) -> Result<()> {
        let profiles = self.profiles.clone();
        let mut group = TaskGroup::new().on_task_completed(move |event| {
            let known = event
                .result::<EmailResult>()
                .filter(|email| profiles.contains(&email.email_address))
                .map(|email| email.email_address.clone());
            async move {
                match known {
                    Some(email) => Err(Error::task(ExistingProfileFound(email))),
                    None => Ok(()),
                }
            }
        });
        // Read back even when typed: "sam oneil@example.com" is a guess at what was meant.
        group.add("get_email_task", "Collects the user's email", || {
            GetEmailTask::new().require_confirmation(true)
        });
        let address = group.add(
            "get_address_task",
            "Collects the user's address",
            GetAddressTask::new,
        );
        match ctx.run_task(group).await {
            Ok(results) => {
                ctx.generate_reply(format!(
                    "Confirm the new profile is created for {} and offer help.",
                    results[address].formatted()
                ))
                .await
            }
            // The group has stopped iterating: safe to carry on here.
            Err(e) if e.is::<ExistingProfileFound>() => {
                ctx.generate_reply("Welcome the returning user back and offer help.")
                    .await
            }
            Err(e) => match e.downcast_ref::<CaptureDeclined>() {
                Some(declined) => {
                    ctx.generate_reply(format!(
                        "The user would not give their {}. Explain kindly that a profile needs \
                         it, that they can call back or visit the front desk, and say goodbye.",
                        declined.what
                    ))
                    .await?;
                    ctx.shutdown();
                    Ok(())
                }
                None => Err(e),
            },
        }
    }
}

/// Reads the known profiles (before any call) and makes the calls.
pub fn setup(args: &IntakeArgs, _mode: Mode) -> Result<Calls<IntakeAgent>> {
    let profiles: HashSet<String> = match &args.profiles {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| Error::Usage(format!("cannot read --profiles {}: {e}", path.display())))?
            .lines()
            .map(|l| l.trim().to_lowercase())
            .filter(|l| !l.is_empty())
            .collect(),
        None => HashSet::new(),
    };
    let profiles = Arc::new(profiles);
    Ok(Box::new(move |_: &Arc<dyn Llm>| {
        Call::new(IntakeAgent::new(profiles.clone()))
    }))
}
