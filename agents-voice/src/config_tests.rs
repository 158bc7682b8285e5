use super::*;
use std::collections::HashMap;

fn cfg(vars: &[(&str, &str)]) -> VoiceResult<VoiceConfig> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    VoiceConfig::from_lookup(|k| map.get(k).cloned())
}

#[test]
fn defaults_share_the_openai_endpoint_and_key() {
    let c = cfg(&[("OPENAI_API_KEY", "sk-x")]).unwrap();
    let SttConfig::OpenAi(s) = c.stt else {
        panic!("expected OpenAI STT")
    };
    assert_eq!(s.base_url, DEFAULT_OPENAI_BASE_URL);
    assert_eq!(s.api_key.as_deref(), Some("sk-x"));
    assert_eq!(s.model, "whisper-1");
    let TtsConfig::OpenAi(t) = c.tts else {
        panic!("expected OpenAI TTS")
    };
    assert_eq!((t.model.as_str(), t.voice.as_str()), ("tts-1", "alloy"));
    assert_eq!(t.format, OpenAiTtsFormat::Pcm);
    assert_eq!(t.request_timeout, Duration::from_secs(10));
}

#[test]
fn overrides_and_local_servers_without_key() {
    let c = cfg(&[
        ("OPENAI_BASE_URL", "http://127.0.0.1:8000/v1"),
        ("STT_BASE_URL", "http://localhost:9000/v1"),
        ("STT_MODEL", "Systran/faster-whisper-small"),
        ("TTS_MODEL", "kokoro"),
        ("TTS_VOICE", "af_heart"),
        ("TTS_FORMAT", "wav"),
        ("VOICE_PROVIDER_TIMEOUT", "2.5"),
    ])
    .unwrap();
    let SttConfig::OpenAi(s) = c.stt else {
        panic!()
    };
    assert_eq!(s.base_url, "http://localhost:9000/v1");
    assert_eq!(s.api_key, None);
    assert_eq!(s.model, "Systran/faster-whisper-small");
    assert_eq!(s.retry.timeout, Duration::from_millis(2500));
    let TtsConfig::OpenAi(t) = c.tts else {
        panic!()
    };
    assert_eq!(t.base_url, "http://127.0.0.1:8000/v1");
    assert_eq!(
        (t.model.as_str(), t.voice.as_str(), t.format),
        ("kokoro", "af_heart", OpenAiTtsFormat::Wav)
    );
}

#[test]
fn provider_keys_select_streaming_providers_unless_overridden() {
    let c = cfg(&[("DEEPGRAM_API_KEY", "dg"), ("CARTESIA_API_KEY", "ca")]).unwrap();
    assert!(matches!(c.stt, SttConfig::Deepgram(ref d) if d.api_key == "dg"));
    assert!(matches!(c.tts, TtsConfig::Cartesia(ref o) if o.api_key == "ca"));
    // An explicit base URL or provider choice wins over the keys.
    let c = cfg(&[
        ("DEEPGRAM_API_KEY", "dg"),
        ("CARTESIA_API_KEY", "ca"),
        ("STT_BASE_URL", "http://127.0.0.1:1/v1"),
        ("TTS_PROVIDER", "openai"),
        ("OPENAI_API_KEY", "k"),
    ])
    .unwrap();
    assert!(matches!(c.stt, SttConfig::OpenAi(_)));
    assert!(matches!(c.tts, TtsConfig::OpenAi(_)));
}

#[test]
fn missing_or_bad_settings_name_the_variables() {
    let err = cfg(&[]).unwrap_err().to_string();
    assert!(
        err.contains("OPENAI_API_KEY") && err.contains("STT_API_KEY"),
        "{err}"
    );
    // Each bad setting (with what else is needed to get that far) and the variable named.
    let cases: [(&[(&str, &str)], &str); 4] = [
        (
            &[("STT_PROVIDER", "deepgram"), ("OPENAI_API_KEY", "k")],
            "DEEPGRAM_API_KEY",
        ),
        (
            &[("OPENAI_API_KEY", "k"), ("TTS_FORMAT", "mp3")],
            "TTS_FORMAT",
        ),
        (
            &[("OPENAI_API_KEY", "k"), ("VOICE_PROVIDER_TIMEOUT", "-1")],
            "VOICE_PROVIDER_TIMEOUT",
        ),
        (
            &[("OPENAI_API_KEY", "k"), ("STT_BASE_URL", "not a url")],
            "STT_BASE_URL",
        ),
    ];
    for (vars, named) in cases {
        let err = cfg(vars).unwrap_err().to_string();
        assert!(err.contains(named), "{named}: {err}");
    }
}

#[test]
fn local_url_detection() {
    assert!(is_local_url("http://localhost:8000/v1"));
    assert!(is_local_url("http://127.0.0.1:8000/v1"));
    assert!(is_local_url("http://[::1]:8000/v1"));
    assert!(is_local_url("http://192.168.1.20:8000/v1"));
    assert!(is_local_url("http://gpu-box.local/v1"));
    assert!(!is_local_url("https://api.openai.com/v1"));
    assert!(!is_local_url("garbage"));
}
