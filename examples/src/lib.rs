//! Shared helpers for the example agents.
