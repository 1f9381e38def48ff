//! Sending a [`SimRequest`] to the intakes: which token, and one HTTP attempt. Retrying,
//! pacing and counting are the caller's (`lintas simulate`).

use std::time::Duration;

use lintas_events::Agency;

use crate::SimRequest;

/// Tokens in the order given: `token=agency:OFFICE,...` (the `LINTAS_TOKENS` format).
#[derive(Clone)]
pub struct TokenBook {
    entries: Vec<(String, Agency, String)>,
}

impl std::fmt::Debug for TokenBook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenBook({} tokens)", self.entries.len())
    }
}

impl TokenBook {
    pub fn parse(spec: &str) -> Result<TokenBook, String> {
        let mut entries = Vec::new();
        for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (token, who) = entry
                .split_once('=')
                .ok_or("token entry without `=`: expected token=agency:OFFICE")?;
            let (agency, office) = who
                .split_once(':')
                .ok_or_else(|| format!("caller `{who}` without `:`: expected agency:OFFICE"))?;
            let agency: Agency = agency.trim().parse()?;
            // A hashed entry (`sha256:…`) cannot be sent; claims after the office are not sent.
            if token.trim().starts_with("sha256:") {
                continue;
            }
            let office = office.split_once(':').map_or(office, |(o, _)| o);
            entries.push((token.trim().to_string(), agency, office.trim().to_string()));
        }
        Ok(TokenBook { entries })
    }

    /// The token for a request of `agency`: the office equal to the hint, else the first
    /// office starting with the hint, else the first starting with its prefix up to the first
    /// `-` (`TPI-` for `TPI-YIA`), else the agency's first token.
    pub fn token_for(&self, agency: Agency, hint: Option<&str>) -> Option<&str> {
        let mine = || self.entries.iter().filter(move |(_, a, _)| *a == agency);
        let found = hint.and_then(|hint| {
            let prefix = hint.find('-').map_or(hint, |i| &hint[..=i]);
            mine()
                .find(|(_, _, office)| office == hint)
                .or_else(|| mine().find(|(_, _, office)| office.starts_with(hint)))
                .or_else(|| mine().find(|(_, _, office)| office.starts_with(prefix)))
        });
        found.or_else(|| mine().next()).map(|(t, _, _)| t.as_str())
    }

    /// Agencies of `needed` that have no token.
    pub fn missing(&self, needed: &[Agency]) -> Vec<Agency> {
        needed
            .iter()
            .copied()
            .filter(|a| self.token_for(*a, None).is_none())
            .collect()
    }
}

/// What the intake answered.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    /// `Retry-After` in seconds, when given.
    pub retry_after: Option<u64>,
    /// A replay of an earlier answer to the same idempotency key.
    pub replayed: bool,
    pub body: String,
}

/// Posts requests to the intakes under one base URL.
#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    base: String,
    tokens: TokenBook,
}

impl Sender {
    pub fn new(base_url: &str, tokens: TokenBook) -> Result<Sender, reqwest::Error> {
        Ok(Sender {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()?,
            base: base_url.trim_end_matches('/').to_string(),
            tokens,
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    pub fn tokens(&self) -> &TokenBook {
        &self.tokens
    }

    /// One attempt, with the request's idempotency key and its agency's bearer token.
    pub async fn post(&self, request: &SimRequest) -> Result<Answer, reqwest::Error> {
        let token = self
            .tokens
            .token_for(request.agency, request.office_hint)
            .unwrap_or_default();
        let response = self
            .client
            .post(format!("{}{}", self.base, request.path))
            .bearer_auth(token)
            .header("idempotency-key", &request.idempotency_key)
            .json(&request.body)
            .send()
            .await?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let retry_after = header("retry-after").and_then(|v| v.trim().parse().ok());
        let replayed = header("idempotent-replayed").as_deref() == Some("true");
        let body = response.text().await.unwrap_or_default();
        Ok(Answer {
            status,
            retry_after,
            replayed,
            body,
        })
    }
}
