//! `agents_core::tools::decode_arguments` on arbitrary bytes (read lossily as UTF-8, as tool-call
//! arguments are text): it must never panic, its errors must name the tool, and whatever it
//! accepts must round-trip through serde_json.

#![no_main]

use agents_core::tools::decode_arguments;
use libfuzzer_sys::fuzz_target;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, PartialEq, Serialize, Deserialize)]
enum Mode {
    Fast,
    Careful { retries: u8 },
    Named(String),
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Inner {
    label: String,
    weight: i64,
}

/// The shape of a typical tool's arguments (as the macros generate them: no
/// `deny_unknown_fields`).
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Args {
    name: String,
    count: u32,
    enabled: bool,
    tags: Vec<String>,
    inner: Option<Inner>,
    mode: Mode,
    #[serde(default)]
    extra: BTreeMap<String, i16>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Small {
    order_id: u32,
    express: Option<bool>,
}

fn check<T>(text: &str)
where
    T: serde::de::DeserializeOwned + Serialize + PartialEq + std::fmt::Debug,
{
    match decode_arguments::<T>("fuzz_tool", text) {
        Ok(value) => {
            let again = serde_json::to_string(&value).expect("a decoded value serialises");
            let back: T = decode_arguments("fuzz_tool", &again).expect("round trip decodes");
            assert_eq!(back, value);
        }
        Err(e) => assert!(e.message().contains("`fuzz_tool`"), "{}", e.message()),
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    check::<Args>(&text);
    check::<Small>(&text);
    let _ = decode_arguments::<serde_json::Value>("fuzz_tool", &text);
});
