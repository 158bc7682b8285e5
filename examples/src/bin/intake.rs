//! Early exit from a TaskGroup: an intake of email then address (prebuilt tasks) whose
//! `on_task_completed` ends the group as soon as the email belongs to an existing profile; the
//! agent then welcomes the returning user instead of asking for the address.
//!
//! `cargo run -p agents-examples --bin intake -- demo --profiles profiles.txt` (scripted model)
//! or `-- console --profiles profiles.txt`; the file holds one known email per line.

use agents_core::console::{self, Cli};
use agents_core::prelude::*;
use agents_core::testing::{Reply, ScriptedLlm};
use agents_prebuilt::{EmailResult, GetAddressTask, GetEmailTask};
use serde_json::json;
use std::collections::HashSet;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Raised from the callback to skip the rest of the intake.
#[derive(Debug, thiserror::Error)]
#[error("existing profile found for {0}")]
struct ExistingProfileFound(String);

/// You are the intake assistant of a clinic. Be brief and warm.
#[agent]
struct IntakeAgent {
    profiles: Arc<HashSet<String>>,
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
        group.add(
            "get_email_task",
            "Collects the user's email",
            GetEmailTask::new,
        );
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
            Err(e) => Err(e),
        }
    }
}

/// The model `demo` mode plays against.
fn demo_llm() -> ScriptedLlm {
    ScriptedLlm::new()
        .on_instructions("email address", Reply::text("Hello! What's your email address?"))
        .on_instructions("their address", Reply::text("Thanks. And your home address?"))
        .on_user(
            "@",
            Reply::dynamic(|request| {
                let said = request.last_user_text().unwrap_or_default();
                let email = said
                    .split_whitespace()
                    .find(|w| w.contains('@'))
                    .unwrap_or("unknown@example.com")
                    .trim_end_matches('.');
                Reply::call("update_email_address", json!({ "email": email }))
            }),
        )
        .on_user(
            "street",
            Reply::call(
                "update_address",
                json!({"street_address": "12 Elm Street", "unit_number": null, "locality": "Springfield",
                       "region": "IL", "postal_code": "62704", "country": "United States"}),
            ),
        )
        .when(
            |r| r.instructions().contains("You summarise a conversation"),
            Reply::text("The user gave their email and address."),
        )
        .on_instructions("welcome the returning user", Reply::text("Welcome back! Good to hear from you again. How can I help today?"))
        .on_instructions("new profile", Reply::text("Your profile is set up. How can I help today?"))
        .otherwise(Reply::text("Sorry, could you repeat that?"))
}

/// The intake's own flags.
#[derive(Debug, clap::Args)]
struct IntakeArgs {
    /// File of known emails, one per line.
    #[arg(long, global = true)]
    profiles: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli: Cli<IntakeArgs> = Cli::parse_args();
    let profiles: HashSet<String> = match &cli.extra.profiles {
        Some(path) => match std::fs::read_to_string(path) {
            Ok(text) => text
                .lines()
                .map(|l| l.trim().to_lowercase())
                .filter(|l| !l.is_empty())
                .collect(),
            Err(e) => {
                return console::fail(Error::Usage(format!(
                    "cannot read --profiles {}: {e}",
                    path.display()
                )))
            }
        },
        None => HashSet::new(),
    };
    let llm = match cli.llm(demo_llm) {
        Ok(llm) => llm,
        Err(e) => return console::fail(e),
    };
    let session = match AgentSession::builder().llm_arc(llm).build() {
        Ok(session) => session,
        Err(e) => return console::fail(e),
    };
    let agent = IntakeAgent {
        profiles: Arc::new(profiles),
    };
    console::run(
        &cli,
        session,
        agent,
        &[
            "It's pat@example.com.",
            "12 Elm Street, Springfield, Illinois 62704.",
        ],
    )
    .await
}
