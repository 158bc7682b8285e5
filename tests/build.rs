//! Marks whether a real model is configured, so tests that need one show as ignored (with the
//! reason) instead of passing silently when `OPENAI_API_KEY` is not set.

fn main() {
    println!("cargo::rerun-if-env-changed=OPENAI_API_KEY");
    println!("cargo::rustc-check-cfg=cfg(has_openai_key)");
    if std::env::var("OPENAI_API_KEY").is_ok_and(|k| !k.trim().is_empty()) {
        println!("cargo::rustc-cfg=has_openai_key");
    }
}
