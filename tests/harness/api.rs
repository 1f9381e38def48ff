//! The one HTTP client of the tests: calls to the services' APIs answering `(status, JSON)`,
//! and waiting until an answer satisfies a check.

use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
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
        let (status, _, body) = self.send(request).await;
        (status, body)
    }

    /// Sends `request` (built on [`Client::http`], for headers or bodies [`Client::call`]
    /// does not set): the status, the headers and the answer as [`Client::call`] reads it.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> (u16, HeaderMap, Value) {
        let Ok(response) = request.send().await else {
            return (0, HeaderMap::new(), Value::Null);
        };
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, headers, body)
    }

    /// GET `url` with `token`.
    pub async fn get(&self, url: &str, token: &str) -> (u16, Value) {
        self.call(Method::GET, url, Some(token), None).await
    }

    /// POST `body` to `url` with `token`.
    pub async fn post(&self, url: &str, token: &str, body: Value) -> (u16, Value) {
        self.call(Method::POST, url, Some(token), Some(body)).await
    }

    /// POST `body` to `url` with `token`, with an `Idempotency-Key` when `key` is given: the
    /// status, the answer and the headers.
    pub async fn post_keyed(
        &self,
        url: &str,
        token: &str,
        body: &Value,
        key: Option<&str>,
    ) -> (u16, Value, HeaderMap) {
        let mut request = self.http.post(url).bearer_auth(token).json(body);
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        let (status, headers, answer) = self.send(request).await;
        (status, answer, headers)
    }

    /// POST the bytes `body` as `content_type` to `url` with `token`: the status, the answer
    /// and the headers.
    pub async fn post_bytes(
        &self,
        url: &str,
        token: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (u16, Value, HeaderMap) {
        let request = self
            .http
            .post(url)
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body);
        let (status, headers, answer) = self.send(request).await;
        (status, answer, headers)
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

/// An endpoint of an agency's API: the agency that owns it, the method, the URL and the body.
pub type Endpoint<'a> = (&'a str, Method, String, Option<Value>);

impl Client {
    /// The access matrix: every `(agency, token)` of `tokens` on every endpoint. The owner's
    /// token gets through (an answer, neither 401 nor 403), every other agency's is 403, and no
    /// token is 401. Returns how many calls with a token were checked.
    pub async fn assert_only_owners(
        &self,
        endpoints: &[Endpoint<'_>],
        tokens: &[(&str, &str)],
    ) -> usize {
        let mut checked = 0;
        for (owner, method, url, body) in endpoints {
            for (agency, token) in tokens {
                let (status, answer) = self
                    .call(method.clone(), url, Some(token), body.clone())
                    .await;
                if agency == owner {
                    assert!(
                        ![0, 401, 403].contains(&status),
                        "{agency} on its own {url}: {status} {answer}"
                    );
                } else {
                    assert_eq!(status, 403, "{agency} token on {url}: {answer}");
                }
                checked += 1;
            }
            let (status, _) = self.call(method.clone(), url, None, body.clone()).await;
            assert_eq!(status, 401, "no token on {url}");
        }
        checked
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
