//! The scripted conversations of `demo` mode, one module per example: the scripted model's
//! replies and the user's lines.

pub mod consent;
pub mod contact_info;
pub mod dtmf;
pub mod intake;
pub mod interview;
pub mod onboarding;
pub mod payment;
pub mod survey;
pub mod warm_transfer;
