//! Running a task inline: it takes over the conversation, serves user turns until it ends, then
//! merges its conversation into its parent's and hands back how it ended.
//!
//! A task awaited from a tool body runs *inside* that tool's future: it reads the following user
//! commands itself until it completes, then returns its result to the tool. The call stack is the
//! activity stack, so the parent's state stays borrowed by its pending tool without locks, tasks
//! from several tool calls of one reply run one after another, and closing unwinds innermost
//! first.
//!
//! Besides `ctx.run_task(..)`, this is the crate-internal runner API workflows build on:
//! [`Context::run_inline`] runs a task with a given history and extra tools and returns its
//! [`TaskEnd`].

use super::driver::record_handoff;
use super::frame::{ActivityKind, ActivityState, ExtraTool, Frame, Outcome};
use super::hooks::Hook;
use super::recorder::Recorder;
use super::session_core::SessionCore;
use super::turn::ActivityRun;
use crate::agent::AgentTask;
use crate::context::{Context, TaskRun};
use crate::error::{Error, Result};
use crate::llm::{ChatContext, CopyOptions};
use std::future::Future;

/// How a task run inline ended.
pub(crate) enum TaskEnd<T> {
    /// It completed with a value.
    Completed(T),
    /// It failed, or was cancelled.
    Failed(Error),
    /// The user asked to go back to these earlier steps of the task group running it.
    Regressed(Vec<String>),
}

/// How to run a task inline.
pub(crate) struct InlineTask {
    /// The conversation it starts with (after its instructions).
    pub(crate) history: ChatContext,
    /// Keep its function calls when its conversation merges back.
    pub(crate) preserve_function_calls: bool,
    /// Tools offered beside its own.
    pub(crate) extra_tools: Vec<ExtraTool>,
}

impl<R: Send + 'static> Context<'_, R> {
    /// Runs `task` inline in place of the activity this context belongs to, and returns how it
    /// ended. Used by `ctx.run_task(..)` and by workflows.
    pub(crate) fn run_inline<'s, T: AgentTask>(
        &'s mut self,
        task: &'s mut T,
        how: InlineTask,
    ) -> impl Future<Output = TaskEnd<T::Result>> + 's {
        run_inline(self.core, &mut self.frame.state, task, how)
    }

    /// Whether running work should stop (the session is closing or a shutdown was asked for).
    pub(crate) fn is_stopping(&self) -> bool {
        self.core.is_stopping()
    }
}

/// Runs the task of `ctx.run_task(..)` and yields its result.
pub(crate) fn run_task<T: AgentTask>(
    run: TaskRun<'_, T>,
) -> impl Future<Output = Result<T::Result>> + '_ {
    let TaskRun {
        core,
        parent,
        mut task,
        chat_ctx,
        preserve_function_calls,
    } = run;
    let how = InlineTask {
        history: chat_ctx.unwrap_or_default(),
        preserve_function_calls: preserve_function_calls || T::PRESERVE_FUNCTION_CALLS,
        extra_tools: Vec::new(),
    };
    async move {
        match run_inline(core, parent, &mut task, how).await {
            TaskEnd::Completed(value) => Ok(value),
            TaskEnd::Failed(e) => Err(e),
            // Only a task group's tools regress, and a task group runs tasks with run_inline.
            TaskEnd::Regressed(_) => Err(Error::Cancelled {
                task: T::ID.to_string(),
            }),
        }
    }
}

/// Runs `task` inline. The frame is built before the future, and the future works on it in
/// place: a task waiting for input (most of its life) holds the frame once, not also the
/// values it was made from.
fn run_inline<'a, T: AgentTask>(
    core: &'a mut SessionCore,
    parent: &'a mut ActivityState,
    task: &'a mut T,
    how: InlineTask,
) -> impl Future<Output = TaskEnd<T::Result>> + 'a {
    let mut start = (!core.closing).then(|| {
        (
            how.preserve_function_calls,
            task_frame(core, parent, task, how),
        )
    });
    async move {
        let Some((preserve_function_calls, frame)) = start.as_mut() else {
            return TaskEnd::Failed(Error::Cancelled {
                task: T::ID.to_string(),
            });
        };
        {
            let mut run = ActivityRun {
                core: &mut *core,
                frame: &mut *frame,
                act: task,
            };
            // A task's tools never hand off, so neither hook returns a handoff.
            run.hook(Hook::Enter).await;
            run.serve().await;
            run.hook(Hook::Exit).await;
        }
        let state = &frame.state;

        if Recorder::task_ended(parent, state) {
            let mut merge = CopyOptions::all().exclude_instructions();
            merge.exclude_function_calls = !*preserve_function_calls;
            parent.chat_ctx.merge(&state.chat_ctx, &merge);
        }

        frame.outcome.clear_completed_twice();
        match std::mem::replace(&mut frame.outcome, Outcome::Pending) {
            Outcome::Done(value) => {
                let json = serde_json::to_value(&value).unwrap_or(serde_json::Value::Null);
                core.recorder
                    .task_completed(&frame.state, json, Box::new(value.clone()));
                TaskEnd::Completed(value)
            }
            Outcome::Failed(e) => TaskEnd::Failed(e),
            Outcome::Regressed(ids) => TaskEnd::Regressed(ids),
            Outcome::Pending | Outcome::CompletedTwice(_) => TaskEnd::Failed(Error::Cancelled {
                task: T::ID.to_string(),
            }),
        }
    }
}

/// The frame of `task` run inline from `parent`: its conversation is `how.history` without
/// calls of tools it does not have.
fn task_frame<T: AgentTask>(
    core: &mut SessionCore,
    parent: &ActivityState,
    task: &T,
    how: InlineTask,
) -> Frame<T::Result> {
    let tools = task.tools();
    let own: Vec<String> = tools
        .iter()
        .map(|t| t.name.to_string())
        .chain(
            how.extra_tools
                .iter()
                .map(|t| t.definition.name.to_string()),
        )
        .collect();
    // Calls of tools the task does not have are left out of its history.
    let history = how.history.copy(&CopyOptions::all().only_tools(own));
    let mut state = ActivityState::new(
        ActivityKind::Task,
        T::ID,
        std::any::type_name::<T>(),
        task.instructions(),
        tools,
        history,
    );
    state.extra_tools = how.extra_tools;
    state.sensitive = Recorder::task_is_sensitive(parent, task.is_sensitive());
    record_handoff(core, &mut state, Some(parent.id.to_string()));
    Frame::new(state)
}
