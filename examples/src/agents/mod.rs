//! The example agents, one module each: the agent, its tasks, and (for examples with options
//! of their own) the setup that checks the options and makes a fresh call.

mod checks;
pub mod consent;
pub mod contact_info;
pub mod dtmf;
pub mod intake;
pub mod interview;
pub mod onboarding;
pub mod payment;
pub mod survey;
pub mod warm_transfer;
