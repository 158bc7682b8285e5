//! Testing toolkit (in progress).
