//! Keypad digits and timers reach the activity in control through its hooks.

use agents_core::prelude::*;
use agents_core::testing::{Reply, ScriptedLlm};
use std::time::Duration;

/// Collect a 4-digit PIN from the keypad.
#[agent_task(result = String)]
#[derive(Default)]
struct PinTask {
    digits: String,
}

#[function_tools]
impl PinTask {
    async fn on_dtmf(&mut self, ctx: &mut TaskContext<'_, String>, digits: &str) -> Result<()> {
        for key in digits.chars() {
            if key == '#' {
                return self.finish(ctx).await;
            }
            self.digits.push(key);
        }
        ctx.set_timer(Duration::from_secs(4));
        Ok(())
    }

    async fn on_timer(&mut self, ctx: &mut TaskContext<'_, String>) -> Result<()> {
        self.finish(ctx).await
    }

    async fn finish(&mut self, ctx: &mut TaskContext<'_, String>) -> Result<()> {
        ctx.cancel_timer();
        if self.digits.len() == 4 {
            ctx.complete(std::mem::take(&mut self.digits));
            Ok(())
        } else {
            self.digits.clear();
            ctx.say("That was not 4 digits, please try again.").await
        }
    }
}

/// Front desk.
#[agent]
struct Desk;

#[function_tools]
impl Desk {
    async fn on_enter(&mut self, ctx: &mut AgentContext<'_>) -> Result<()> {
        let pin = ctx.run_task(PinTask::default()).await?;
        ctx.say(format!("PIN {pin} accepted.")).await
    }
}

#[tokio::test]
async fn stop_key_completes_and_wrong_counts_are_rejected() {
    let session = AgentSession::new(ScriptedLlm::new().otherwise(Reply::text("?")));
    session.start(Desk).await.unwrap();
    let turn = session.send_dtmf("12#").await.unwrap();
    assert!(turn.assistant_text().contains("not 4 digits"));
    let turn = session.send_dtmf("12").await.unwrap();
    assert!(turn.final_output::<String>().is_none());
    let turn = session.send_dtmf("34#").await.unwrap();
    assert_eq!(
        turn.final_output::<String>().map(String::as_str),
        Some("1234")
    );
    assert!(turn.assistant_text().contains("PIN 1234 accepted."));
    session.close().await;
}

#[tokio::test(start_paused = true)]
async fn the_inter_digit_timeout_fires_while_idle() {
    let session = AgentSession::new(ScriptedLlm::new().otherwise(Reply::text("?")));
    let mut events = session.subscribe();
    session.start(Desk).await.unwrap();
    session.send_dtmf("98").await.unwrap();
    session.send_dtmf("76").await.unwrap();
    // Nobody presses '#': after 4 s of silence the timer completes the task.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let mut said = Vec::new();
    while let Ok(ev) = events.try_recv() {
        if let SessionEvent::Message {
            role: Role::Assistant,
            content,
            ..
        } = ev
        {
            said.push(content);
        }
    }
    assert_eq!(said, vec!["PIN 9876 accepted.".to_string()]);
    session.close().await;
}
