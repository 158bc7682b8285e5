//! Settings of the OpenAI-compatible provider: the builder, its defaults, and the environment
//! variables that override them.
//!
//! # Timeouts and retries
//!
//! The defaults suit a live conversation, where the caller hears silence while the model is
//! waited for: the OpenAI SDKs wait up to 10 minutes per request and retry twice, which would
//! leave a caller on a dead line. Here a reply that has not started within
//! [`DEFAULT_TOTAL_TIMEOUT`] (30 s, retries included) fails, so the agent's code can apologise or
//! end the call; each attempt gets [`DEFAULT_CONNECT_TIMEOUT`] (5 s, the SDKs' value) to connect
//! and [`DEFAULT_REQUEST_TIMEOUT`] (10 s) for the response to begin, which a healthy API meets
//! with room to spare; failures before the first token are retried
//! [`DEFAULT_MAX_RETRIES`] (2, as in the SDKs) times. A local server that loads its model on
//! the first request may need more: raise `OPENAI_TIMEOUT_SECS`.
//!
//! | Variable | Setting | Default |
//! |---|---|---|
//! | `OPENAI_API_KEY` | [`api_key`](OpenAiLlmBuilder::api_key) | none |
//! | `OPENAI_BASE_URL` | [`base_url`](OpenAiLlmBuilder::base_url) | api.openai.com |
//! | `OPENAI_MODEL` | [`model`](OpenAiLlmBuilder::model) | [`DEFAULT_MODEL`] |
//! | `OPENAI_CONNECT_TIMEOUT_SECS` | [`connect_timeout`](OpenAiLlmBuilder::connect_timeout) | 5 |
//! | `OPENAI_TIMEOUT_SECS` | [`request_timeout`](OpenAiLlmBuilder::request_timeout) | 10 |
//! | `OPENAI_IDLE_TIMEOUT_SECS` | [`idle_timeout`](OpenAiLlmBuilder::idle_timeout) | 15 |
//! | `OPENAI_TOTAL_TIMEOUT_SECS` | [`total_timeout`](OpenAiLlmBuilder::total_timeout) | 30 |
//! | `OPENAI_MAX_RETRIES` | [`max_retries`](OpenAiLlmBuilder::max_retries) | 2 |
//!
//! Seconds may have a fraction (`2.5`). A value that is not a number fails
//! [`build`](OpenAiLlmBuilder::build) with a message naming the variable.

use super::retry::RetryPolicy;
use super::{describe_reqwest, ApiKey, OpenAiLlm, Redactor, DEFAULT_BASE_URL, DEFAULT_MODEL};
use crate::llm::LlmError;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Default time to connect (TCP and TLS), per attempt.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default time from sending a request to the start of the response, per attempt.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Default longest gap between streamed events.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(15);
/// Default longest wait for a reply to start, all attempts and backoff included.
pub const DEFAULT_TOTAL_TIMEOUT: Duration = Duration::from_secs(30);
/// Default number of retries of a request that fails before its first token.
pub const DEFAULT_MAX_RETRIES: u32 = 2;

/// A failed attempt that is about to be retried: passed to the
/// [`on_retry`](OpenAiLlmBuilder::on_retry) callback so an application can tell the user why
/// the reply is late.
#[derive(Debug, Clone)]
pub struct RetryNotice {
    /// Which retry comes next (1 for the first).
    pub retry: u32,
    /// How many retries are allowed in all.
    pub max_retries: u32,
    /// The wait before the retry.
    pub delay: Duration,
    /// Why the attempt failed.
    pub error: LlmError,
}

impl fmt::Display for RetryNotice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}; retrying ({} of {}) in {:.1} s",
            self.error,
            self.retry,
            self.max_retries,
            self.delay.as_secs_f64()
        )
    }
}

/// The callback given to [`OpenAiLlmBuilder::on_retry`].
#[derive(Clone)]
pub(crate) struct RetryHook(pub(crate) Arc<dyn Fn(&RetryNotice) + Send + Sync>);

impl fmt::Debug for RetryHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RetryHook")
    }
}

/// Settings for an [`OpenAiLlm`]: start from [`OpenAiLlm::builder`], optionally apply
/// [`from_env`](Self::from_env), then [`build`](Self::build). See the [module docs](self) for
/// the defaults and why they were chosen.
#[derive(Debug, Clone)]
pub struct OpenAiLlmBuilder {
    pub(super) api_key: Option<ApiKey>,
    pub(super) base_url: String,
    pub(super) model: String,
    pub(super) temperature: Option<f32>,
    pub(super) parallel_tool_calls: Option<bool>,
    pub(super) strict_tools: bool,
    pub(super) max_retries: u32,
    pub(super) initial_backoff: Duration,
    pub(super) max_backoff: Duration,
    pub(super) connect_timeout: Duration,
    pub(super) request_timeout: Duration,
    pub(super) idle_timeout: Duration,
    pub(super) total_timeout: Duration,
    pub(super) on_retry: Option<RetryHook>,
    /// A malformed environment variable, reported by `build`.
    env_error: Option<String>,
}

impl Default for OpenAiLlmBuilder {
    fn default() -> Self {
        OpenAiLlmBuilder {
            api_key: None,
            base_url: DEFAULT_BASE_URL.to_string(),
            model: DEFAULT_MODEL.to_string(),
            temperature: None,
            parallel_tool_calls: None,
            strict_tools: true,
            max_retries: DEFAULT_MAX_RETRIES,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(10),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            total_timeout: DEFAULT_TOTAL_TIMEOUT,
            on_retry: None,
            env_error: None,
        }
    }
}

impl OpenAiLlmBuilder {
    /// Overrides the settings with the `OPENAI_*` variables that are set and not empty (see the
    /// [module docs](self)), so environment-configured models can still be adjusted in code:
    /// `OpenAiLlm::builder().from_env().model(..)`.
    #[allow(clippy::wrong_self_convention)] // a chained builder step, not a constructor
    pub fn from_env(self) -> Self {
        self.apply_env_lookup(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) with a custom variable lookup.
    pub(super) fn apply_env_lookup(mut self, lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        if let Some(key) = get("OPENAI_API_KEY") {
            self = self.api_key(key);
        }
        if let Some(url) = get("OPENAI_BASE_URL") {
            self = self.base_url(url);
        }
        if let Some(model) = get("OPENAI_MODEL") {
            self = self.model(model);
        }
        let seconds = |name: &str, env_error: &mut Option<String>| {
            let text = get(name)?;
            match parse_seconds(&text) {
                Ok(d) => Some(d),
                Err(why) => {
                    env_error.get_or_insert(format!("{name}={text:?}: {why}"));
                    None
                }
            }
        };
        let mut env_error = self.env_error.take();
        if let Some(d) = seconds("OPENAI_CONNECT_TIMEOUT_SECS", &mut env_error) {
            self.connect_timeout = d;
        }
        if let Some(d) = seconds("OPENAI_TIMEOUT_SECS", &mut env_error) {
            self.request_timeout = d;
        }
        if let Some(d) = seconds("OPENAI_IDLE_TIMEOUT_SECS", &mut env_error) {
            self.idle_timeout = d;
        }
        if let Some(d) = seconds("OPENAI_TOTAL_TIMEOUT_SECS", &mut env_error) {
            self.total_timeout = d;
        }
        if let Some(text) = get("OPENAI_MAX_RETRIES") {
            match text.parse::<u32>() {
                Ok(n) => self.max_retries = n,
                Err(_) => {
                    env_error.get_or_insert(format!(
                        "OPENAI_MAX_RETRIES={text:?}: expected a whole number such as 2"
                    ));
                }
            }
        }
        self.env_error = env_error;
        self
    }

    /// The bearer token. Needed for api.openai.com; local servers usually do without.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        let key: String = key.into();
        self.api_key = (!key.is_empty()).then(|| ApiKey(key.into()));
        self
    }

    /// The API root, e.g. `http://127.0.0.1:8000/v1`; `/chat/completions` is appended.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// The model name; also the provider's [`Llm::label`](crate::llm::Llm::label).
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = model.into();
        self
    }

    /// Sampling temperature used when a request does not set one.
    pub fn temperature(mut self, temperature: f32) -> Self {
        self.temperature = Some(temperature);
        self
    }

    /// Whether the model may call several tools at once, when a request does not say.
    pub fn parallel_tool_calls(mut self, parallel: bool) -> Self {
        self.parallel_tool_calls = Some(parallel);
        self
    }

    /// Whether tools with strict schemas are offered in strict mode (default true). Turn it off
    /// for servers that do not support `strict`; tools are then sent with their relaxed schema.
    pub fn strict_tools(mut self, strict: bool) -> Self {
        self.strict_tools = strict;
        self
    }

    /// How many times a request failing before its first token is retried (default 2).
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// Upper bound of the first retry's random wait; doubled each retry (default 500 ms).
    pub fn initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// Longest wait between retries, also capping `Retry-After` (default 10 s).
    pub fn max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// Longest wait to connect (TCP and TLS), per attempt (default 5 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Longest wait from sending a request to the start of the response (its headers), per
    /// attempt (default 10 s). A server that accepts the request and never answers fails the
    /// attempt after this long.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Longest gap between streamed events, including before the first one (default 15 s).
    /// Raise it for reasoning models that think long before their first token.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Longest wait for a reply to start, every attempt and backoff wait included (default
    /// 30 s): no retry begins after it, and an attempt still waiting is cut at it. Once tokens
    /// flow only [`idle_timeout`](Self::idle_timeout) applies.
    pub fn total_timeout(mut self, timeout: Duration) -> Self {
        self.total_timeout = timeout;
        self
    }

    /// Called before each retry, e.g. to tell the user the model is slow. Runs on the request's
    /// task: keep it short. A `tracing` warning is logged either way.
    pub fn on_retry(mut self, hook: impl Fn(&RetryNotice) + Send + Sync + 'static) -> Self {
        self.on_retry = Some(RetryHook(Arc::new(hook)));
        self
    }

    /// Checks the settings and creates the HTTP client.
    pub fn build(self) -> Result<OpenAiLlm, LlmError> {
        if let Some(why) = &self.env_error {
            return Err(LlmError::Config(format!("bad environment variable {why}")));
        }
        let base = self.base_url.trim().trim_end_matches('/');
        let endpoint = reqwest::Url::parse(&format!("{base}/chat/completions"))
            .map_err(|e| LlmError::Config(format!("invalid base URL {base:?}: {e}")))?;
        if !matches!(endpoint.scheme(), "http" | "https") {
            return Err(LlmError::Config(format!(
                "base URL {base:?} must use http or https"
            )));
        }
        if self.model.trim().is_empty() {
            return Err(LlmError::Config("the model name is empty".into()));
        }
        if self.api_key.is_none() && endpoint.host_str() == Some("api.openai.com") {
            return Err(LlmError::Config(
                "an API key is required for api.openai.com: set OPENAI_API_KEY, or set OPENAI_BASE_URL to an OpenAI-compatible server (a local one needs no key); OPENAI_MODEL or --model picks the model".into(),
            ));
        }
        if [
            self.connect_timeout,
            self.request_timeout,
            self.idle_timeout,
            self.total_timeout,
        ]
        .iter()
        .any(Duration::is_zero)
        {
            return Err(LlmError::Config("timeouts must be longer than zero".into()));
        }
        let mut headers = HeaderMap::new();
        if let Some(key) = &self.api_key {
            let mut value = HeaderValue::from_str(&format!("Bearer {}", key.0)).map_err(|_| {
                LlmError::Config("the API key has characters not allowed in an HTTP header".into())
            })?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        let mut client = reqwest::Client::builder()
            .default_headers(headers)
            .connect_timeout(self.connect_timeout)
            .user_agent(concat!("agents-core/", env!("CARGO_PKG_VERSION")));
        // A server on this machine is never reached through a proxy (reqwest would send even
        // 127.0.0.1 through HTTP_PROXY / ALL_PROXY).
        let host = endpoint.host_str().unwrap_or_default();
        let loopback = match host.trim_matches(['[', ']']).parse::<std::net::IpAddr>() {
            Ok(ip) => ip.is_loopback(),
            Err(_) => host.eq_ignore_ascii_case("localhost"),
        };
        if loopback {
            client = client.no_proxy();
        }
        let client = client.build().map_err(|e| {
            LlmError::Config(format!(
                "could not create the HTTP client: {}",
                describe_reqwest(&e)
            ))
        })?;
        Ok(OpenAiLlm {
            client,
            base_url: base.to_string(),
            endpoint,
            redactor: Redactor(self.api_key.as_ref().map(|k| k.0.clone())),
            api_key: self.api_key,
            model: self.model.trim().to_string(),
            temperature: self.temperature,
            parallel_tool_calls: self.parallel_tool_calls,
            strict_tools: self.strict_tools,
            retry: RetryPolicy {
                max_retries: self.max_retries,
                initial_backoff: self.initial_backoff,
                max_backoff: self.max_backoff.max(self.initial_backoff),
            },
            request_timeout: self.request_timeout,
            idle_timeout: self.idle_timeout,
            total_timeout: self.total_timeout,
            on_retry: self.on_retry,
        })
    }
}

/// A positive number of seconds, fractions allowed.
fn parse_seconds(text: &str) -> Result<Duration, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| "expected a number of seconds such as 10 or 2.5".to_string())?;
    if value.is_nan() || value <= 0.0 {
        return Err("must be more than zero seconds".into());
    }
    Duration::try_from_secs_f64(value).map_err(|_| "too large".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::Llm;

    fn lookup(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn env_configuration() {
        let err = OpenAiLlmBuilder::default()
            .apply_env_lookup(lookup(&[]))
            .build()
            .unwrap_err();
        assert!(matches!(err, LlmError::Config(_)), "{err}");

        let llm = OpenAiLlmBuilder::default()
            .apply_env_lookup(lookup(&[
                ("OPENAI_BASE_URL", "http://127.0.0.1:9/v1/"),
                ("OPENAI_MODEL", "local-model"),
                ("OPENAI_API_KEY", ""),
            ]))
            .build()
            .unwrap();
        assert_eq!(llm.label(), "local-model");
        assert_eq!(
            llm.endpoint.as_str(),
            "http://127.0.0.1:9/v1/chat/completions"
        );
        assert!(llm.api_key.is_none());

        let llm = OpenAiLlmBuilder::default()
            .apply_env_lookup(lookup(&[("OPENAI_API_KEY", "sk-secret-123")]))
            .build()
            .unwrap();
        assert_eq!(llm.model(), DEFAULT_MODEL);
        assert_eq!(llm.endpoint.host_str(), Some("api.openai.com"));
        assert!(!format!("{llm:?}").contains("sk-secret-123"));
    }

    #[test]
    fn defaults_suit_a_live_call() {
        let b = OpenAiLlmBuilder::default();
        assert_eq!(b.connect_timeout, Duration::from_secs(5));
        assert_eq!(b.request_timeout, Duration::from_secs(10));
        assert_eq!(b.idle_timeout, Duration::from_secs(15));
        assert_eq!(b.total_timeout, Duration::from_secs(30));
        assert_eq!(b.max_retries, 2);
    }

    #[test]
    fn timeouts_and_retries_come_from_the_environment() {
        let b = OpenAiLlmBuilder::default().apply_env_lookup(lookup(&[
            ("OPENAI_CONNECT_TIMEOUT_SECS", "1.5"),
            ("OPENAI_TIMEOUT_SECS", "4"),
            ("OPENAI_IDLE_TIMEOUT_SECS", "6"),
            ("OPENAI_TOTAL_TIMEOUT_SECS", " 12 "),
            ("OPENAI_MAX_RETRIES", "0"),
        ]));
        assert_eq!(b.connect_timeout, Duration::from_millis(1500));
        assert_eq!(b.request_timeout, Duration::from_secs(4));
        assert_eq!(b.idle_timeout, Duration::from_secs(6));
        assert_eq!(b.total_timeout, Duration::from_secs(12));
        assert_eq!(b.max_retries, 0);
        // Code still overrides the environment.
        let b = b.max_retries(5);
        assert_eq!(b.max_retries, 5);
    }

    #[test]
    fn a_malformed_variable_is_a_clear_error() {
        for (name, value) in [
            ("OPENAI_TIMEOUT_SECS", "ten"),
            ("OPENAI_TOTAL_TIMEOUT_SECS", "-1"),
            ("OPENAI_TOTAL_TIMEOUT_SECS", "0"),
            ("OPENAI_MAX_RETRIES", "2.5"),
        ] {
            let vars: &'static [(&'static str, &'static str)] = Box::leak(Box::new([
                ("OPENAI_BASE_URL", "http://127.0.0.1:9/v1"),
                (name, value),
            ]));
            let err = OpenAiLlmBuilder::default()
                .apply_env_lookup(lookup(vars))
                .build()
                .unwrap_err();
            assert!(
                matches!(&err, LlmError::Config(m) if m.contains(name)),
                "{name}={value}: {err}"
            );
        }
    }
}
