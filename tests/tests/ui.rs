//! Compile-time errors users can meet, pinned as trybuild snapshots (toolchain pinned in
//! rust-toolchain.toml, since rustc's wording drifts between versions).

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("ui/pass_*.rs");
    t.compile_fail("ui/fail_*.rs");
}
