//! Test support: fakes for deterministic voice tests on a virtual clock.

pub mod fakes;
#[cfg(feature = "testing")]
pub mod servers;
