//! The one HTTP client of the tests: calls to the services' APIs answering `(status, JSON)`,
//! and waiting until an answer satisfies a check.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;

/// How long a test waits by default for the system to reach a state (events to flow through
/// the broker into a view, a service to come up).
pub const WAIT: Duration = Duration::from_secs(90);

/// A client of the services' HTTP APIs, with or without a bearer token.
#[derive(Clone, Default)]
pub struct Client {
    pub http: reqwest::Client,
}

impl Client {
    pub fn new() -> Client {
        Client::default()
    }

    /// `method` on `url` with `token` and a JSON `body`: the status and the answer as JSON (a
    /// body that is not JSON as a JSON string). A service that does not answer (still starting,
    /// or stopped) is status 0 and `null`.
    pub async fn call(
        &self,
        method: Method,
        url: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self.http.request(method, url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let Ok(response) = request.send().await else {
            return (0, Value::Null);
        };
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, body)
    }

    /// GET `url` with `token`.
    pub async fn get(&self, url: &str, token: &str) -> (u16, Value) {
        self.call(Method::GET, url, Some(token), None).await
    }

    /// POST `body` to `url` with `token`.
    pub async fn post(&self, url: &str, token: &str, body: Value) -> (u16, Value) {
        self.call(Method::POST, url, Some(token), Some(body)).await
    }

    /// POST `body` to an intake, which must accept it (202); its answer.
    pub async fn publish(&self, url: &str, token: &str, body: Value) -> Value {
        let (status, answer) = self.post(url, token, body).await;
        assert_eq!(status, 202, "{url}: {answer}");
        answer
    }

    /// GETs `url` with `token` until it answers 200 with a body that satisfies `check`, for
    /// at most `within`; that body. Fails the test with `what` otherwise.
    pub async fn wait_for(
        &self,
        url: &str,
        token: &str,
        within: Duration,
        what: &str,
        check: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let (status, body) = self.get(url, token).await;
            if status == 200 && check(&body) {
                return body;
            }
            assert!(
                Instant::now() < deadline,
                "{url} never showed {what} within {within:?}; last answer {status}: {body}"
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    /// GETs `url` until its list `key` holds at least `n` entries (within [`WAIT`]).
    pub async fn wait_for_list(&self, url: &str, token: &str, key: &str, n: usize) -> Value {
        self.wait_for(url, token, WAIT, &format!("{n} {key}"), |body| {
            body[key].as_array().is_some_and(|a| a.len() >= n)
        })
        .await
    }

    /// The value of the first Prometheus series of `base`/metrics whose line starts with
    /// `line_start`, if the service answers and has it.
    pub async fn metric(&self, base: &str, line_start: &str) -> Option<f64> {
        let text = self
            .http
            .get(format!("{base}/metrics"))
            .send()
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        text.lines()
            .find(|l| l.starts_with(line_start))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
    }
}

/// Runs `check` until it returns a value, for at most `within`; that value. Fails the test
/// with `what` otherwise.
pub async fn wait_until<T>(
    what: &str,
    within: Duration,
    mut check: impl AsyncFnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "never within {within:?}: {what}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}
