//! Compile-time errors users can meet, pinned as trybuild snapshots (toolchain pinned in
//! rust-toolchain.toml, since rustc's wording drifts between versions). One directory per
//! concern: `task` (struct attributes), `tools` (`#[function_tools]` blocks and tool
//! signatures), `context` (the context parameter), `hooks`, `usage` (using tasks from code).

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("ui/*/pass_*.rs");
    t.compile_fail("ui/*/fail_*.rs");
}
