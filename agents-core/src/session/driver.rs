//! The whole session: the current agent, its handoffs, and the final cleanup.

use super::command::RunReply;
use super::erased::{BoxedAgent, DynActivity};
use super::events::{RunEvent, SessionEvent};
use super::frame::{ActivityKind, ActivityState, Frame};
use super::hooks::Hook;
use super::lock;
use super::recorder::Recorder;
use super::session_core::SessionCore;
use super::turn::{ActivityRun, LoopExit};
use crate::agent::NoResult;
use crate::llm::{AgentHandoff, ChatContext, CopyOptions};

/// Runs the session's agents until the session closes. `started` gets the result of the first
/// agent's `on_enter` (the turn `start()` returns).
///
/// The core is boxed: the session's future (which lives as long as the session) then holds a
/// pointer, where an async fn would hold the core twice (as its argument and as its local).
pub(crate) async fn session_main(mut core: Box<SessionCore>, agent: BoxedAgent, started: RunReply) {
    core.recorder.begin_run(Some(started));
    let mut agent = agent.0;
    let mut old_id: Option<String> = None;
    let mut history = ChatContext::new();
    loop {
        let mut frame = agent_frame(&mut core, &*agent, history, old_id.take());
        let mut run = ActivityRun {
            core: &mut core,
            frame: &mut frame,
            act: &mut *agent,
        };
        let exit = match run.hook(Hook::Enter).await {
            Some(handoff) => LoopExit::Handoff(handoff),
            None => run.serve().await,
        };
        run.hook(Hook::Exit).await;
        match exit {
            LoopExit::Handoff(next) => {
                old_id = Some(agent.id().to_string());
                let state = &frame.state;
                history = if Recorder::history_follows_handoff(state, next.agent.0.is_sensitive()) {
                    state
                        .chat_ctx
                        .copy(&CopyOptions::all().exclude_instructions())
                } else {
                    ChatContext::new()
                };
                agent = next.agent.0;
            }
            LoopExit::Completed | LoopExit::Closed => break,
        }
    }
    core.recorder.emit(SessionEvent::Closed);
    core.recorder.finish_run();
    if let Some(data) = core.userdata.take() {
        *lock(&core.shared.final_userdata) = Some((data, core.userdata_type));
    }
    for reply in core.close_replies.drain(..) {
        let _ = reply.send(());
    }
    // Answer commands that arrived after the close with `Closed`.
    core.commands.close();
    while let Ok(cmd) = core.commands.try_recv() {
        drop(cmd);
    }
}

/// The frame of `agent` taking control (from `old`) with `history`; built outside the session's
/// future, so it holds the frame and not also the values it was made from.
fn agent_frame(
    core: &mut SessionCore,
    agent: &dyn DynActivity<NoResult>,
    history: ChatContext,
    old: Option<String>,
) -> Frame<NoResult> {
    let mut state = ActivityState::new(
        ActivityKind::Agent,
        agent.id(),
        agent.type_name(),
        agent.instructions(),
        agent.tools(),
        history,
    );
    state.sensitive = agent.is_sensitive();
    record_handoff(core, &mut state, old);
    Frame::new(state)
}

/// Adds the record of control moving to the activity of `state` (from `old`).
pub(crate) fn record_handoff(
    core: &mut SessionCore,
    state: &mut ActivityState,
    old: Option<String>,
) {
    let item = AgentHandoff::new(old, state.id);
    state.chat_ctx.push(item.clone());
    core.recorder.record(
        RunEvent::AgentHandoff {
            item,
            new_agent_type: state.type_name,
        },
        state,
    );
}
