//! Tools the LLM can call: definitions with JSON schemas, outputs, and the errors a tool reports
//! back to the model.

pub mod output;
pub mod schema;

pub use output::{Handoff, IntoToolOutput, Json, StopResponse, ToolOutput};

use serde::de::DeserializeOwned;
use std::borrow::Cow;

/// A tool as offered to the LLM.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolDefinition {
    /// Name the LLM calls it by.
    pub name: Cow<'static, str>,
    /// What the tool does and when to call it.
    pub description: String,
    /// JSON schema of the arguments object, in OpenAI strict form when `strict` is true.
    pub parameters: serde_json::Value,
    /// The same schema without strict-mode rewriting, for providers that lack strict mode.
    pub relaxed_parameters: serde_json::Value,
    /// Whether `parameters` is valid for OpenAI strict mode.
    pub strict: bool,
    /// Hide the tool from replies generated while the activity's `on_enter` runs.
    pub ignore_on_enter: bool,
}

impl ToolDefinition {
    /// A definition from a hand-written schema. The schema is made strict if it can be; otherwise
    /// it is offered as is with `strict: false`.
    pub fn new(
        name: impl Into<Cow<'static, str>>,
        description: impl Into<String>,
        parameters: serde_json::Value,
    ) -> Self {
        let (strict_schema, strict) = match schema::make_strict(parameters.clone()) {
            Ok(s) => (s, true),
            Err(_) => (parameters.clone(), false),
        };
        ToolDefinition {
            name: name.into(),
            description: description.into(),
            parameters: strict_schema,
            relaxed_parameters: parameters,
            strict,
            ignore_on_enter: false,
        }
    }

    /// A definition whose arguments are the fields of `T`.
    ///
    /// # Panics
    /// Never on schemas derived from plain structs; a type whose schema cannot be made strict is
    /// offered relaxed, with `strict: false`, and a warning is logged.
    pub fn for_args<T: schemars::JsonSchema>(
        name: impl Into<Cow<'static, str>>,
        description: impl Into<String>,
    ) -> Self {
        let name = name.into();
        let relaxed = schema::relaxed_schema_for::<T>();
        let (parameters, strict) = match schema::make_strict(relaxed.clone()) {
            Ok(s) => (s, true),
            Err(e) => {
                tracing::warn!(tool = %name, error = %e, "tool schema is not valid for strict mode; offered relaxed");
                (relaxed.clone(), false)
            }
        };
        ToolDefinition {
            name,
            description: description.into(),
            parameters,
            relaxed_parameters: relaxed,
            strict,
            ignore_on_enter: false,
        }
    }

    /// Marks the tool as hidden while `on_enter` runs.
    pub fn ignore_on_enter(mut self) -> Self {
        self.ignore_on_enter = true;
        self
    }
}

/// An error a tool returns to the LLM. The message is what the model sees, so say what was wrong
/// and what to do instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ToolError {
    message: String,
}

impl ToolError {
    /// A tool error with a message for the LLM.
    pub fn new(message: impl Into<String>) -> Self {
        ToolError {
            message: message.into(),
        }
    }

    /// The message the LLM sees.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<String> for ToolError {
    fn from(message: String) -> Self {
        ToolError { message }
    }
}

impl From<&str> for ToolError {
    fn from(message: &str) -> Self {
        ToolError::new(message)
    }
}

impl From<crate::Error> for ToolError {
    fn from(e: crate::Error) -> Self {
        ToolError::new(e.to_string())
    }
}

/// Decodes a tool call's JSON arguments into `T`.
///
/// An empty string counts as `{}` (some servers send it for tools without parameters). The error
/// names the tool and what serde found wrong, and is meant for the LLM.
pub fn decode_arguments<T: DeserializeOwned>(tool: &str, arguments: &str) -> Result<T, ToolError> {
    let text = arguments.trim();
    let text = if text.is_empty() { "{}" } else { text };
    serde_json::from_str(text).map_err(|e| {
        ToolError::new(format!(
            "Invalid arguments for tool `{tool}`: {e}. Call it again with a JSON object that matches its parameters."
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    struct Args {
        #[allow(dead_code)]
        a: i32,
    }

    #[test]
    fn decode_reports_tool_and_problem() {
        let err = decode_arguments::<Args>("t", "{\"a\": \"x\"}").unwrap_err();
        assert!(err.message().contains("`t`"), "{err}");
        assert!(err.message().contains("invalid type"), "{err}");
        let err = decode_arguments::<Args>("t", "{").unwrap_err();
        assert!(err.message().contains("EOF"), "{err}");
        assert!(decode_arguments::<Args>("t", " {\"a\": 1} ").is_ok());
        #[derive(serde::Deserialize)]
        struct Empty {}
        assert!(decode_arguments::<Empty>("t", "").is_ok());
    }
}
