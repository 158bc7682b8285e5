//! The framework's error type.

use crate::llm::LlmError;
use std::sync::Arc;

/// Errors from sessions, agents and tasks.
///
/// Cloneable, so a task group can keep a task's error as that task's result.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A tool or hook asked for userdata, but the session was built without any.
    #[error("no userdata is set on this session, but `{requested}` was requested; pass it with `AgentSession::builder(llm).userdata(...)`")]
    UserdataUnset {
        /// Type the code asked for.
        requested: &'static str,
    },
    /// The session's userdata is of another type than the one asked for.
    #[error("userdata of type `{requested}` was requested, but the session holds a `{held}`")]
    UserdataType {
        /// Type the code asked for.
        requested: &'static str,
        /// Type the session holds.
        held: &'static str,
    },
    /// The LLM provider failed (after its retries).
    #[error(transparent)]
    Llm(#[from] LlmError),
    /// The session was closed; nothing more runs.
    #[error("the session is closed")]
    Closed,
    /// A task was cancelled before it completed (the session closed, or its parent went away).
    #[error("task `{task}` was cancelled before it completed")]
    Cancelled {
        /// Id of the task.
        task: String,
    },
    /// A task or callback failed with an error of the application's own type; see
    /// [`Error::downcast_ref`].
    #[error("{0}")]
    Task(Arc<dyn std::error::Error + Send + Sync>),
    /// The session was used in a way it does not support; the message says how to fix it.
    #[error("{0}")]
    Usage(String),
}

impl Error {
    /// Wraps an application error, e.g. to end a task or a task group early.
    pub fn task(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Error::Task(Arc::new(e))
    }

    /// The application error inside [`Error::Task`], if it is an `E`.
    pub fn downcast_ref<E: std::error::Error + 'static>(&self) -> Option<&E> {
        match self {
            Error::Task(e) => e.downcast_ref::<E>(),
            _ => None,
        }
    }

    /// Whether the application error inside is an `E`.
    pub fn is<E: std::error::Error + 'static>(&self) -> bool {
        self.downcast_ref::<E>().is_some()
    }
}

/// `Result` with the framework's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
