//! `TaskGroup`: an ordered sequence of tasks sharing one conversation, where the user may go back
//! to an earlier step.

use crate::agent::{Activity, ActivityInfo, AgentTask};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::llm::{ChatContext, FunctionCall};
use crate::session::frame::{EndTask, ExtraTool, ExtraToolHandler};
use crate::session::task_runner::{InlineTask, TaskEnd};
use crate::tools::{ToolDefinition, ToolOutput};
use futures::future::BoxFuture;
use serde::{Serialize, Serializer};
use std::any::Any;
use std::collections::VecDeque;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

/// Name of the tool that takes the user back to earlier tasks, as in the reference.
pub const OUT_OF_SCOPE: &str = "out_of_scope";

type Value = Arc<dyn Any + Send + Sync>;
type Callback = Box<dyn FnMut(TaskCompletedEvent) -> BoxFuture<'static, Result<()>> + Send>;

/// A finished task's end (result and its JSON) and the task value itself.
type GroupTaskOutcome = (TaskEnd<(Value, serde_json::Value)>, Box<dyn Any + Send>);

/// Runs one task of the group and returns how it ended, type-erased.
trait GroupTask: Send {
    fn run<'a>(
        self: Box<Self>,
        group: &'a mut Context<'_, TaskGroupResult>,
        extra_tools: Vec<ExtraTool>,
    ) -> BoxFuture<'a, GroupTaskOutcome>;
}

struct Typed<T>(T);

impl<T: AgentTask> GroupTask for Typed<T> {
    fn run<'a>(
        self: Box<Self>,
        group: &'a mut Context<'_, TaskGroupResult>,
        extra_tools: Vec<ExtraTool>,
    ) -> BoxFuture<'a, GroupTaskOutcome> {
        let Typed(mut task) = *self;
        // Each task sees the group's conversation so far, and its calls merge back.
        let how = InlineTask {
            history: group.chat_ctx().clone(),
            preserve_function_calls: true,
            extra_tools,
        };
        Box::pin(async move {
            let end = match group.run_inline(&mut task, how).await {
                TaskEnd::Completed(v) => {
                    let json = serde_json::to_value(&v).unwrap_or(serde_json::Value::Null);
                    TaskEnd::Completed((Arc::new(v) as Value, json))
                }
                TaskEnd::Failed(e) => TaskEnd::Failed(e),
                TaskEnd::Regressed(ids) => TaskEnd::Regressed(ids),
            };
            (end, Box::new(task) as Box<dyn Any + Send>)
        })
    }
}

struct Entry {
    id: String,
    description: String,
    factory: Box<dyn FnMut() -> Box<dyn GroupTask> + Send>,
}

/// A typed handle to one task's result in a [`TaskGroupResult`], returned by [`TaskGroup::add`].
pub struct TaskKey<T> {
    index: usize,
    _result: PhantomData<fn() -> T>,
}

impl<T> Clone for TaskKey<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for TaskKey<T> {}

/// Passed to `on_task_completed` after each task of the group completes.
pub struct TaskCompletedEvent {
    /// Id given to [`TaskGroup::add`].
    pub task_id: String,
    result: Value,
    /// The result as JSON.
    pub result_json: serde_json::Value,
    task: Box<dyn Any + Send>,
    index: usize,
    end_session: Arc<std::sync::atomic::AtomicBool>,
}

impl TaskCompletedEvent {
    /// Ends the session once the group has stopped: no further task runs, the code awaiting
    /// the group gets `Err(Error::Closed)` and may still say goodbye, then the session closes.
    /// Safe to call here, unlike closing the session directly.
    pub fn end_session(&self) {
        self.end_session
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// The result, if the task's result type is `T`.
    pub fn result<T: 'static>(&self) -> Option<&T> {
        self.result.downcast_ref::<T>()
    }

    /// The result of the task behind `key`, if this event is for that task.
    pub fn get<T: 'static>(&self, key: TaskKey<T>) -> Option<&T> {
        if key.index != self.index {
            return None;
        }
        self.result()
    }

    /// The task value that just completed, if it is a `T`.
    pub fn task<T: 'static>(&self) -> Option<&T> {
        self.task.downcast_ref::<T>()
    }
}

/// One task's outcome in a group.
#[derive(Clone)]
struct Slot {
    id: String,
    outcome: Option<std::result::Result<(Value, serde_json::Value), Error>>,
}

/// The results of a task group, by typed key or by id.
#[derive(Clone)]
pub struct TaskGroupResult {
    slots: Vec<Slot>,
}

impl TaskGroupResult {
    /// The result of the task behind `key`; `None` if it failed (with `return_exceptions`) or
    /// never ran.
    pub fn get<T: 'static>(&self, key: TaskKey<T>) -> Option<&T> {
        match &self.slots.get(key.index)?.outcome {
            Some(Ok((v, _))) => v.downcast_ref::<T>(),
            _ => None,
        }
    }

    /// The error a task ended with, kept when the group runs with `return_exceptions`.
    pub fn error<T>(&self, key: TaskKey<T>) -> Option<&Error> {
        match &self.slots.get(key.index)?.outcome {
            Some(Err(e)) => Some(e),
            _ => None,
        }
    }

    /// Every task's id and outcome as JSON (`Err` for a kept error), in the order added.
    pub fn task_results(
        &self,
    ) -> impl Iterator<
        Item = (
            &str,
            Option<std::result::Result<&serde_json::Value, &Error>>,
        ),
    > {
        self.slots.iter().map(|s| {
            (
                s.id.as_str(),
                s.outcome.as_ref().map(|o| match o {
                    Ok((_, json)) => Ok(json),
                    Err(e) => Err(e),
                }),
            )
        })
    }

    /// The outcome of the task with `id` as JSON.
    pub fn by_id(&self, id: &str) -> Option<&serde_json::Value> {
        self.task_results()
            .find(|(i, _)| *i == id)
            .and_then(|(_, o)| o?.ok())
    }

    /// All results as one JSON object keyed by task id; errors as `{"error": "..."}`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        for (id, outcome) in self.task_results() {
            let v = match outcome {
                Some(Ok(v)) => v.clone(),
                Some(Err(e)) => serde_json::json!({ "error": e.to_string() }),
                None => serde_json::Value::Null,
            };
            map.insert(id.to_string(), v);
        }
        serde_json::Value::Object(map)
    }
}

impl<T: 'static> std::ops::Index<TaskKey<T>> for TaskGroupResult {
    type Output = T;

    /// # Panics
    /// When the task ended with an error (kept by `return_exceptions`); use
    /// [`TaskGroupResult::get`] then.
    fn index(&self, key: TaskKey<T>) -> &T {
        match self.get(key) {
            Some(v) => v,
            None => panic!(
                "task `{}` of the group has no result: {}",
                self.slots[key.index].id,
                self.error(key)
                    .map(|e| e.to_string())
                    .unwrap_or_else(|| "it did not complete".into())
            ),
        }
    }
}

impl std::fmt::Debug for TaskGroupResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TaskGroupResult({})", self.to_json())
    }
}

impl Serialize for TaskGroupResult {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

/// An ordered multi-step flow. Each task runs in turn with the conversation so far; while one
/// runs, the LLM may take the user back to an earlier task with the `out_of_scope` tool. When the
/// group ends, its conversation (or a summary of it) merges into the caller's.
///
/// Run it like a task: `ctx.run_task(group).await?` from `on_enter`, `on_exit` or a tool body.
///
/// ```no_run
/// # use agents_core::prelude::*;
/// # use agents_core::workflows::TaskGroup;
/// # #[agent_task(result = String)] struct GetEmail; #[function_tools] impl GetEmail {}
/// # async fn demo(ctx: &mut AgentContext<'_>) -> Result<()> {
/// let mut group = TaskGroup::new().chat_ctx(ctx.chat_ctx().copy(&CopyOptions::all().exclude_instructions()));
/// let email = group.add("get_email_task", "Collects the user's email", || GetEmail);
/// let results = ctx.run_task(group).await?;
/// let email: &String = &results[email];
/// # Ok(()) }
/// ```
pub struct TaskGroup {
    summarize_chat_ctx: bool,
    return_exceptions: bool,
    chat_ctx: ChatContext,
    on_task_completed: Option<Callback>,
    entries: Vec<Entry>,
    shared_tools: Vec<(Arc<ToolDefinition>, ExtraToolHandler)>,
}

impl Default for TaskGroup {
    fn default() -> Self {
        Self::new()
    }
}

impl TaskGroup {
    /// An empty group: summaries on, errors stop the group.
    pub fn new() -> Self {
        TaskGroup {
            summarize_chat_ctx: true,
            return_exceptions: false,
            chat_ctx: ChatContext::new(),
            on_task_completed: None,
            entries: Vec::new(),
            shared_tools: Vec::new(),
        }
    }

    /// Whether to hand back one summary message (default) instead of the whole conversation.
    pub fn summarize_chat_ctx(mut self, on: bool) -> Self {
        self.summarize_chat_ctx = on;
        self
    }

    /// Keep a failing task's error as its result and go on (default: stop the group).
    pub fn return_exceptions(mut self, on: bool) -> Self {
        self.return_exceptions = on;
        self
    }

    /// The conversation the group starts with, usually a copy of the caller's.
    pub fn chat_ctx(mut self, chat_ctx: ChatContext) -> Self {
        self.chat_ctx = chat_ctx;
        self
    }

    /// Called after each task completes. An error returned here stops the group and reaches
    /// the code awaiting it (unless `return_exceptions` is on: then it becomes the task's
    /// result).
    pub fn on_task_completed<F, Fut>(mut self, mut f: F) -> Self
    where
        F: FnMut(TaskCompletedEvent) -> Fut + Send + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        self.on_task_completed = Some(Box::new(move |ev| Box::pin(f(ev))));
        self
    }

    /// Adds a task. `factory` builds it each time it is (re)visited; `description` tells the LLM
    /// when to go back to it. Returns a key to the task's typed result.
    pub fn add<T, F>(
        &mut self,
        id: impl Into<String>,
        description: impl Into<String>,
        mut factory: F,
    ) -> TaskKey<T::Result>
    where
        T: AgentTask,
        F: FnMut() -> T + Send + 'static,
    {
        self.entries.push(Entry {
            id: id.into(),
            description: description.into(),
            factory: Box::new(move || Box::new(Typed(factory()))),
        });
        TaskKey {
            index: self.entries.len() - 1,
            _result: PhantomData,
        }
    }

    /// Offers a tool to every task of the group, e.g. `disqualify` in a screening interview.
    /// The handler gets the decoded arguments; its `Ok` text goes to the LLM, its `Err` ends the
    /// running task and the group with that error (or only the task with `return_exceptions`).
    pub fn shared_tool<A, F>(
        mut self,
        name: &'static str,
        description: impl Into<String>,
        handler: F,
    ) -> Self
    where
        A: serde::de::DeserializeOwned + schemars::JsonSchema,
        F: Fn(A) -> Result<String> + Send + Sync + 'static,
    {
        let definition = Arc::new(ToolDefinition::for_args::<A>(name, description));
        let handler = move |call: &FunctionCall| -> std::result::Result<ToolOutput, EndTask> {
            match crate::tools::decode_arguments::<A>(name, &call.arguments) {
                Ok(args) => handler(args).map(ToolOutput::Text).map_err(EndTask::Fail),
                Err(e) => Ok(ToolOutput::error(e)),
            }
        };
        self.shared_tools.push((definition, Arc::new(handler)));
        self
    }

    /// The `out_of_scope` tool offered while the task at `current` runs, if any other task has
    /// been visited.
    fn out_of_scope_tool(&self, visited: &[usize], current: usize) -> Option<ExtraTool> {
        let targets: Vec<&Entry> = visited
            .iter()
            .filter(|&&i| i != current)
            .map(|&i| &self.entries[i])
            .collect();
        if targets.is_empty() {
            return None;
        }
        let ids: Vec<String> = targets.iter().map(|e| e.id.clone()).collect();
        let descriptions: serde_json::Map<String, serde_json::Value> = targets
            .iter()
            .map(|e| (e.id.clone(), e.description.clone().into()))
            .collect();
        let description = format!(
            "Call this when the user wants to go back to and change something handled by earlier \
             steps, instead of the current one. List the steps to revisit in the order the user \
             asked for them. Earlier steps: {}",
            serde_json::Value::Object(descriptions)
        );
        let definition = ToolDefinition::new(
            OUT_OF_SCOPE,
            description,
            serde_json::json!({
                "type": "object",
                "properties": {
                    "task_ids": {
                        "type": "array",
                        "description": "Ids of the earlier steps to return to, in order.",
                        "items": { "type": "string", "enum": ids },
                    }
                },
                "required": ["task_ids"],
                "additionalProperties": false,
            }),
        )
        .ignore_on_enter();
        let allowed = ids;
        let handler = move |call: &FunctionCall| {
            #[derive(serde::Deserialize)]
            struct Args {
                task_ids: Vec<String>,
            }
            let args: Args = match crate::tools::decode_arguments(OUT_OF_SCOPE, &call.arguments) {
                Ok(a) => a,
                Err(e) => return Ok(ToolOutput::error(e)),
            };
            if args.task_ids.is_empty() {
                return Ok(ToolOutput::Error("Name at least one earlier step.".into()));
            }
            if let Some(bad) = args.task_ids.iter().find(|id| !allowed.contains(id)) {
                return Ok(ToolOutput::Error(format!(
                    "`{bad}` is not an earlier step; choose from: {}.",
                    allowed.join(", ")
                )));
            }
            Err(EndTask::Regress(args.task_ids))
        };
        Some(ExtraTool {
            definition: Arc::new(definition),
            handler: Arc::new(handler),
        })
    }

    async fn run(&mut self, ctx: &mut Context<'_, TaskGroupResult>) -> Result<TaskGroupResult> {
        if !self.chat_ctx.is_empty() {
            let initial = std::mem::take(&mut self.chat_ctx);
            ctx.chat_ctx_mut()
                .merge(&initial, &crate::llm::CopyOptions::all());
        }
        let initial_ids: Vec<String> = ctx
            .chat_ctx()
            .items()
            .iter()
            .map(|i| i.id().to_string())
            .collect();
        let mut slots: Vec<Slot> = self
            .entries
            .iter()
            .map(|e| Slot {
                id: e.id.clone(),
                outcome: None,
            })
            .collect();
        let mut pending: VecDeque<usize> = (0..self.entries.len()).collect();
        let mut visited: Vec<usize> = Vec::new();
        let end_session = Arc::new(std::sync::atomic::AtomicBool::new(false));
        while let Some(current) = pending.pop_front() {
            let extra: Vec<ExtraTool> = self
                .out_of_scope_tool(&visited, current)
                .into_iter()
                .chain(self.shared_tools.iter().map(|(d, h)| ExtraTool {
                    definition: d.clone(),
                    handler: h.clone(),
                }))
                .collect();
            if !visited.contains(&current) {
                visited.push(current);
            }
            let task = (self.entries[current].factory)();
            let (end, task) = task.run(ctx, extra).await;
            match end {
                TaskEnd::Completed((value, json)) => {
                    slots[current].outcome = Some(Ok((value.clone(), json.clone())));
                    if let Some(cb) = self.on_task_completed.as_mut() {
                        let event = TaskCompletedEvent {
                            task_id: self.entries[current].id.clone(),
                            result: value,
                            result_json: json,
                            task,
                            index: current,
                            end_session: end_session.clone(),
                        };
                        if let Err(e) = cb(event).await {
                            if self.return_exceptions {
                                slots[current].outcome = Some(Err(e));
                            } else {
                                return Err(e);
                            }
                        }
                    }
                    if end_session.load(std::sync::atomic::Ordering::SeqCst) {
                        ctx.shutdown();
                    }
                    if ctx.is_stopping() {
                        return Err(Error::Closed);
                    }
                }
                TaskEnd::Regressed(ids) => {
                    pending.push_front(current);
                    for id in ids.iter().rev() {
                        if let Some(i) = self.entries.iter().position(|e| &e.id == id) {
                            pending.push_front(i);
                        }
                    }
                }
                TaskEnd::Failed(e @ (Error::Closed | Error::Cancelled { .. })) => return Err(e),
                TaskEnd::Failed(e) if self.return_exceptions => {
                    slots[current].outcome = Some(Err(e))
                }
                TaskEnd::Failed(e) => return Err(e),
            }
        }

        if self.summarize_chat_ctx && !visited.is_empty() {
            let llm = ctx.llm();
            let conversation = ctx.chat_ctx().copy(&crate::llm::CopyOptions::all());
            let summary = crate::workflows::summarize(&*llm, &conversation).await?;
            let kept: Vec<_> = ctx
                .chat_ctx()
                .items()
                .iter()
                .filter(|i| initial_ids.iter().any(|id| id == i.id()))
                .cloned()
                .collect();
            let mut replaced = ChatContext::from_items(kept);
            replaced.push(summary);
            *ctx.chat_ctx_mut() = replaced;
        }
        Ok(TaskGroupResult { slots })
    }
}

impl ActivityInfo for TaskGroup {
    type Result = TaskGroupResult;
    const ID: &'static str = "task_group";
    const INSTRUCTIONS: &'static str = "";
}

#[diagnostic::do_not_recommend]
impl Activity for TaskGroup {
    fn tools(&self) -> Vec<Arc<ToolDefinition>> {
        Vec::new()
    }

    fn call_tool<'a>(
        &'a mut self,
        _ctx: &'a mut Context<'_, TaskGroupResult>,
        call: &'a FunctionCall,
    ) -> BoxFuture<'a, ToolOutput> {
        let msg = format!("Unknown tool `{}`.", call.name);
        Box::pin(async move { ToolOutput::Error(msg) })
    }

    fn on_enter<'a>(
        &'a mut self,
        ctx: &'a mut Context<'_, TaskGroupResult>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            match self.run(ctx).await {
                Ok(result) => ctx.complete(result),
                Err(e) => ctx.fail(e),
            }
            Ok(())
        })
    }
}

impl AgentTask for TaskGroup {}
