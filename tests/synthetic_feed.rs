//! The synthetic feed through every agency's subscriber, on tansu and PostgreSQL: two weeks of
//! one regency's traffic (seeded) goes through the intakes, and each agency's rules fire on
//! what the model produces, the time-based ones (JA1, JA2) included, with nothing
//! dead-lettered. Rules the model produces too rarely to count on (DN3, PO2, PO3, JA3) have
//! scenario tests of their own.

mod harness;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use harness::*;
use serde_json::Value;

async fn rules(client: &reqwest::Client, url: &str, token: &str) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = match &cursor {
            Some(c) => format!("{url}?limit=500&cursor={c}"),
            None => format!("{url}?limit=500"),
        };
        let Ok(response) = client.get(&page).bearer_auth(token).send().await else {
            return counts;
        };
        let Ok(body) = response.json::<Value>().await else {
            return counts;
        };
        for alert in body["alerts"].as_array().into_iter().flatten() {
            *counts
                .entry(alert["rule"].as_str().unwrap_or("?").to_string())
                .or_default() += 1;
        }
        match body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return counts,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_agency_gets_its_alerts_from_the_synthetic_feed() {
    let broker = Broker::start(2).await;
    let database = fresh_database().await;
    let registry = start_registry(&database, &broker.dir).await;
    let intake = start_intake(&broker.brokers, &registry.url, &database, &broker.dir).await;
    let subscribers: Vec<(&str, &str, Service)> = [
        ("imigrasi", IMIGRASI_TOKEN),
        ("disnaker", DISNAKER_TOKEN),
        ("polri", POLRI_TOKEN),
        ("kejaksaan", KEJAKSAAN_TOKEN),
    ]
    .into_iter()
    .map(|(agency, token)| {
        let service = spawn_subscriber(
            agency,
            &broker.brokers,
            &registry.url,
            &database,
            &broker.dir,
            &[],
        );
        (agency, token, service)
    })
    .collect();
    let _desa = spawn_desa(&broker.brokers, &registry.url, &database, &broker.dir);

    let tokens = tokens_spec();
    let sent = lintas(&[
        "simulate",
        "--intake-url",
        &intake.url,
        "--tokens",
        &tokens,
        "--seed",
        "3",
        "--days",
        "14",
        "--per-day",
        "150",
    ])
    .output()
    .unwrap();
    assert!(
        sent.status.success(),
        "simulate: {}",
        String::from_utf8_lossy(&sent.stderr)
    );

    let expected: BTreeMap<&str, &[&str]> = BTreeMap::from([
        ("imigrasi", &["IM1", "IM2", "IM3"][..]),
        ("disnaker", &["DN1", "DN2", "DN4"][..]),
        ("polri", &["PO1"][..]),
        ("kejaksaan", &["JA1", "JA2"][..]),
    ]);
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let mut missing = Vec::new();
        let mut seen = BTreeMap::new();
        for (agency, token, service) in &subscribers {
            let counts = rules(
                &client,
                &format!("{}/v1/agencies/{agency}/alerts", service.url),
                token,
            )
            .await;
            let fired: BTreeSet<&str> = counts.keys().map(String::as_str).collect();
            for rule in expected[agency] {
                if !fired.contains(rule) {
                    missing.push(*rule);
                }
            }
            seen.insert(*agency, counts);
        }
        if missing.is_empty() {
            eprintln!("alerts from the synthetic feed: {seen:?}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "rules never fired: {missing:?}; seen {seen:?}"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    assert_eq!(
        records_in(&broker.brokers, "lintas.imigrasi.dlq"),
        0,
        "nothing dead-lettered"
    );
}
