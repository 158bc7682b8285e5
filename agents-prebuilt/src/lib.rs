//! Ready-made tasks.
