//! Checks the example agents' tools run on what the model heard: the prebuilt validators'
//! verdicts turned into tool errors that tell the model what to do next.

use agents_core::prelude::ToolError;
use agents_prebuilt::email::validate_email;

/// `raw` as a canonical email address, or a tool error asking the model to have it repeated.
pub(crate) fn email(raw: &str) -> Result<String, ToolError> {
    validate_email(raw).map_err(|why| {
        ToolError::new(format!(
            "That is not a valid email address: {why}. Ask the user to repeat or spell it."
        ))
    })
}
