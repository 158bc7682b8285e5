//! Voice provider configuration from the environment, like the LLM's.
//!
//! By default STT and TTS use the same OpenAI-compatible endpoint and key as the LLM.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `OPENAI_BASE_URL` / `OPENAI_API_KEY` | shared endpoint and key | `https://api.openai.com/v1` / none |
//! | `STT_BASE_URL`, `STT_API_KEY`, `STT_MODEL`, `STT_LANGUAGE` | OpenAI-compatible STT overrides | shared, shared, `whisper-1`, none |
//! | `TTS_BASE_URL`, `TTS_API_KEY`, `TTS_MODEL`, `TTS_VOICE`, `TTS_FORMAT` | OpenAI-compatible TTS overrides | shared, shared, `tts-1`, `alloy`, `pcm` |
//! | `DEEPGRAM_API_KEY`, `DEEPGRAM_MODEL`, `DEEPGRAM_URL` | Deepgram streaming STT | –, `nova-3`, the public endpoint |
//! | `CARTESIA_API_KEY`, `CARTESIA_VOICE_ID`, `CARTESIA_MODEL`, `CARTESIA_URL` | Cartesia streaming TTS | –, a stock voice, `sonic-2`, the public endpoint |
//! | `STT_PROVIDER` / `TTS_PROVIDER` | force `openai` / `deepgram` (STT) or `openai` / `cartesia` (TTS) | auto |
//! | `VOICE_PROVIDER_TIMEOUT` | seconds before a silent provider request fails | 10 |
//!
//! Provider choice, first match wins: `STT_PROVIDER`; an explicit `STT_BASE_URL`
//! (OpenAI-compatible); `DEEPGRAM_API_KEY` (Deepgram); otherwise OpenAI-compatible on
//! the shared endpoint. The same order holds for TTS with `TTS_PROVIDER`,
//! `TTS_BASE_URL` and `CARTESIA_API_KEY`. A loopback or `.local` base URL needs no key;
//! any other OpenAI-compatible endpoint without a key is a configuration error that
//! names the variables to set.

use std::sync::Arc;
use std::time::Duration;

use crate::error::{VoiceError, VoiceResult};
use crate::retry::RetryPolicy;
use crate::stt::{
    DeepgramOptions, DeepgramStt, OpenAiStt, OpenAiSttOptions, Stt, SttStreamAdapter,
};
use crate::tts::{
    CartesiaOptions, CartesiaTts, OpenAiTts, OpenAiTtsFormat, OpenAiTtsOptions, SentenceTtsAdapter,
    Tts,
};
use crate::vad::Vad;

/// Default shared endpoint.
pub const DEFAULT_OPENAI_BASE_URL: &str = "https://api.openai.com/v1";

/// Which STT to build.
#[derive(Clone, Debug)]
pub enum SttConfig {
    /// OpenAI-compatible batch STT, streamed with VAD segments.
    OpenAi(OpenAiSttOptions),
    /// Deepgram streaming STT.
    Deepgram(DeepgramOptions),
}

/// Which TTS to build.
#[derive(Clone, Debug)]
pub enum TtsConfig {
    /// OpenAI-compatible batch TTS, streamed per sentence.
    OpenAi(OpenAiTtsOptions),
    /// Cartesia streaming TTS.
    Cartesia(CartesiaOptions),
}

/// STT and TTS settings.
#[derive(Clone, Debug)]
pub struct VoiceConfig {
    /// Speech-to-text.
    pub stt: SttConfig,
    /// Text-to-speech.
    pub tts: TtsConfig,
}

impl VoiceConfig {
    /// Reads the process environment (see the module docs).
    pub fn from_env() -> VoiceResult<Self> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads settings through `get` (testable without touching the environment).
    /// Empty values count as unset.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> VoiceResult<Self> {
        let get = |k: &str| {
            get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let timeout = match get("VOICE_PROVIDER_TIMEOUT") {
            None => Duration::from_secs(10),
            Some(v) => match v.parse::<f64>() {
                Ok(s) if s > 0.0 && s.is_finite() => Duration::from_secs_f64(s),
                _ => {
                    return Err(VoiceError::Config(format!(
                        "VOICE_PROVIDER_TIMEOUT must be a positive number of seconds, got {v:?}"
                    )))
                }
            },
        };
        let retry = RetryPolicy {
            timeout,
            ..RetryPolicy::default()
        };
        let shared_base =
            get("OPENAI_BASE_URL").unwrap_or_else(|| DEFAULT_OPENAI_BASE_URL.to_string());
        let shared_key = get("OPENAI_API_KEY");

        let stt_provider = match get("STT_PROVIDER").map(|p| p.to_lowercase()) {
            Some(p) if p == "openai" || p == "deepgram" => p,
            Some(p) => {
                return Err(VoiceError::Config(format!(
                    "STT_PROVIDER must be `openai` or `deepgram`, got {p:?}"
                )))
            }
            None if get("STT_BASE_URL").is_some() => "openai".into(),
            None if get("DEEPGRAM_API_KEY").is_some() => "deepgram".into(),
            None => "openai".into(),
        };
        let stt = if stt_provider == "deepgram" {
            let key = get("DEEPGRAM_API_KEY").ok_or_else(|| {
                VoiceError::Config("STT_PROVIDER=deepgram needs DEEPGRAM_API_KEY".into())
            })?;
            let mut o = DeepgramOptions::new(key);
            if let Some(m) = get("DEEPGRAM_MODEL") {
                o.model = m;
            }
            if let Some(u) = get("DEEPGRAM_URL") {
                o.url = u;
            }
            if let Some(l) = get("STT_LANGUAGE") {
                o.language = Some(l);
            }
            o.retry = retry.clone();
            SttConfig::Deepgram(o)
        } else {
            let (base_url, key_var) = match get("STT_BASE_URL") {
                Some(b) => (b, "STT_BASE_URL"),
                None => (shared_base.clone(), "OPENAI_BASE_URL"),
            };
            let api_key = get("STT_API_KEY").or_else(|| shared_key.clone());
            require_key(&base_url, key_var, &api_key, "STT_API_KEY")?;
            SttConfig::OpenAi(OpenAiSttOptions {
                base_url,
                api_key,
                model: get("STT_MODEL").unwrap_or_else(|| "whisper-1".into()),
                language: get("STT_LANGUAGE"),
                retry: retry.clone(),
            })
        };

        let tts_provider = match get("TTS_PROVIDER").map(|p| p.to_lowercase()) {
            Some(p) if p == "openai" || p == "cartesia" => p,
            Some(p) => {
                return Err(VoiceError::Config(format!(
                    "TTS_PROVIDER must be `openai` or `cartesia`, got {p:?}"
                )))
            }
            None if get("TTS_BASE_URL").is_some() => "openai".into(),
            None if get("CARTESIA_API_KEY").is_some() => "cartesia".into(),
            None => "openai".into(),
        };
        let tts = if tts_provider == "cartesia" {
            let key = get("CARTESIA_API_KEY").ok_or_else(|| {
                VoiceError::Config("TTS_PROVIDER=cartesia needs CARTESIA_API_KEY".into())
            })?;
            let mut o = CartesiaOptions::new(key);
            if let Some(v) = get("CARTESIA_VOICE_ID") {
                o.voice_id = v;
            }
            if let Some(m) = get("CARTESIA_MODEL") {
                o.model = m;
            }
            if let Some(u) = get("CARTESIA_URL") {
                o.url = u;
            }
            o.retry = retry.clone();
            TtsConfig::Cartesia(o)
        } else {
            let (base_url, key_var) = match get("TTS_BASE_URL") {
                Some(b) => (b, "TTS_BASE_URL"),
                None => (shared_base, "OPENAI_BASE_URL"),
            };
            let api_key = get("TTS_API_KEY").or(shared_key);
            require_key(&base_url, key_var, &api_key, "TTS_API_KEY")?;
            let format = match get("TTS_FORMAT").map(|f| f.to_lowercase()).as_deref() {
                None | Some("pcm") => OpenAiTtsFormat::Pcm,
                Some("wav") => OpenAiTtsFormat::Wav,
                Some(other) => {
                    return Err(VoiceError::Config(format!(
                        "TTS_FORMAT must be `pcm` or `wav`, got {other:?}"
                    )))
                }
            };
            TtsConfig::OpenAi(OpenAiTtsOptions {
                base_url,
                api_key,
                model: get("TTS_MODEL").unwrap_or_else(|| "tts-1".into()),
                voice: get("TTS_VOICE").unwrap_or_else(|| "alloy".into()),
                format,
                speed: None,
                instructions: None,
                request_timeout: timeout,
            })
        };
        Ok(Self { stt, tts })
    }

    /// Builds the STT (a batch provider is wrapped with `vad` segmentation).
    pub fn build_stt(&self, vad: Arc<dyn Vad>) -> Arc<dyn Stt> {
        match &self.stt {
            SttConfig::OpenAi(o) => Arc::new(SttStreamAdapter::new(OpenAiStt::new(o.clone()), vad)),
            SttConfig::Deepgram(o) => Arc::new(DeepgramStt::new(o.clone())),
        }
    }

    /// Builds the TTS (a batch provider is wrapped with sentence splitting).
    pub fn build_tts(&self) -> Arc<dyn Tts> {
        match &self.tts {
            TtsConfig::OpenAi(o) => {
                let retry = RetryPolicy {
                    timeout: o.request_timeout,
                    ..RetryPolicy::default()
                };
                Arc::new(SentenceTtsAdapter::new(OpenAiTts::new(o.clone())).with_retry(retry))
            }
            TtsConfig::Cartesia(o) => Arc::new(CartesiaTts::new(o.clone())),
        }
    }
}

/// Whether a base URL points at this machine or the local network name space.
pub fn is_local_url(url: &str) -> bool {
    let Ok(u) = reqwest::Url::parse(url) else {
        return false;
    };
    let Some(host) = u.host_str() else {
        return false;
    };
    match host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<std::net::IpAddr>()
    {
        Ok(std::net::IpAddr::V4(ip)) => ip.is_loopback() || ip.is_private() || ip.is_unspecified(),
        Ok(std::net::IpAddr::V6(ip)) => ip.is_loopback(),
        Err(_) => host == "localhost" || host.ends_with(".localhost") || host.ends_with(".local"),
    }
}

fn require_key(
    base: &str,
    base_var: &str,
    key: &Option<String>,
    own_key_var: &str,
) -> VoiceResult<()> {
    if reqwest::Url::parse(base).is_err() {
        return Err(VoiceError::Config(format!(
            "{base_var} is not a valid URL: {base:?}"
        )));
    }
    if key.is_none() && !is_local_url(base) {
        return Err(VoiceError::Config(format!(
            "no API key for {base} (from {base_var}): set OPENAI_API_KEY or {own_key_var}, \
             or point {base_var} at a local server (localhost needs no key)"
        )));
    }
    Ok(())
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
