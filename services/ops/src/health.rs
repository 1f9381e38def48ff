//! Probes each service's `/readyz` and keeps its answer: ready or not, and each part's
//! reason, as the service itself explains it.

use std::collections::BTreeMap;
use std::time::Duration;

use lintas_kit::shutdown::Shutdown;

use crate::{Ops, ServiceView};

pub async fn probe_services(ops: Ops, shutdown: Shutdown) -> anyhow::Result<()> {
    {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(3))
            .build()
            .expect("HTTP client");
        let mut every = tokio::time::interval(ops.settings.sample_every);
        loop {
            tokio::select! {
                _ = shutdown.wait() => return Ok(()),
                _ = every.tick() => {}
            }
            let mut services = Vec::new();
            for (name, url) in &ops.settings.services {
                services.push(probe(&client, name, url).await);
            }
            ops.view().services = services;
        }
    }
}

async fn probe(client: &reqwest::Client, name: &str, url: &str) -> ServiceView {
    let mut view = ServiceView {
        name: name.to_string(),
        url: url.to_string(),
        ready: false,
        parts: BTreeMap::new(),
        error: None,
    };
    let target = format!("{}/readyz", url.trim_end_matches('/'));
    match client.get(&target).send().await {
        Ok(response) => {
            let status = response.status();
            match response.json::<serde_json::Value>().await {
                Ok(body) => {
                    view.ready = status.is_success()
                        && body.get("ready").and_then(|r| r.as_bool()).unwrap_or(true);
                    if let Some(parts) = body.get("parts").and_then(|p| p.as_object()) {
                        for (part, state) in parts {
                            let state = state.as_str().map(str::to_string);
                            view.parts
                                .insert(part.clone(), state.unwrap_or_else(|| "?".into()));
                        }
                    }
                    // Warnings (records a broker skipped) show beside the parts; the service
                    // stays ready.
                    if let Some(warnings) = body.get("warnings").and_then(|w| w.as_object()) {
                        for (part, message) in warnings {
                            let message = message.as_str().unwrap_or("?");
                            view.parts
                                .insert(part.clone(), format!("warning: {message}"));
                        }
                    }
                }
                Err(_) => view.ready = status.is_success(),
            }
            if !view.ready && view.parts.is_empty() {
                view.error = Some(format!("/readyz answered {status}"));
            }
        }
        Err(e) => {
            view.error = Some(if e.is_timeout() {
                "no answer within 3 s".to_string()
            } else if e.is_connect() {
                "not reachable (connection refused or no route)".to_string()
            } else {
                e.to_string()
            })
        }
    }
    view
}
