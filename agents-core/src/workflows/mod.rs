//! Multi-step flows built from tasks.

mod summary;
mod task_group;

pub use summary::summarize;
pub use task_group::{TaskCompletedEvent, TaskGroup, TaskGroupResult, TaskKey};
