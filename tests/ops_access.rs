//! Who may use the operators' dashboard (`lintas ops`). What an operator notices: the page
//! asks for the operator token; without it, or with an agency's token, the dashboard's data
//! and the dead-letter viewer are refused in the same JSON shape as every other refusal;
//! `/metrics` is not on the dashboard's port but on its own; reading dead letters faster
//! than the viewer's rate answers 429 with `Retry-After` instead of opening more broker
//! connections.

mod harness;

use std::time::Duration;

use harness::*;
use rdkafka::config::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde_json::Value;

const OPERATOR_TOKEN: &str = "operator-token-0000000000001";

struct Ops {
    _proc: Proc,
    _broker: Broker,
    url: String,
    metrics_url: String,
}

/// `lintas ops` on tansu with one dead letter in `lintas.imigrasi.dlq`, reading at most
/// `views_per_minute` dead letters a minute.
async fn start_ops(views_per_minute: u32) -> Ops {
    let broker = Broker::start(1).await;
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &broker.brokers)
        .create()
        .unwrap();
    producer
        .send(
            FutureRecord::to("lintas.imigrasi.dlq")
                .key("k")
                .payload("poison body 3301014501900001"),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let metrics_listen = format!("127.0.0.1:{}", free_port());
    let tokens = format!(
        "{OPERATOR_TOKEN}=other:OPS-CILACAP:operator,{IMIGRASI_TOKEN}=imigrasi:KANIM-CILACAP"
    );
    let rate = views_per_minute.to_string();
    let proc = Proc::spawn(
        "ops",
        lintas(&[
            "ops",
            "--brokers",
            &broker.brokers,
            // Never reached: no alert is decoded here.
            "--schema-registry-url",
            "http://127.0.0.1:9",
            "--listen",
            &listen,
            "--metrics-listen",
            &metrics_listen,
            "--watch",
            "imigrasi",
            "--sample-ms",
            "500",
            "--tokens",
            &tokens,
            "--dead-letter-views-per-minute",
            &rate,
        ]),
        &broker.dir,
    );
    let url = format!("http://{listen}");
    wait_http_ok(&format!("{url}/readyz"), Duration::from_secs(60)).await;
    Ops {
        _proc: proc,
        _broker: broker,
        url,
        metrics_url: format!("http://{metrics_listen}"),
    }
}

/// GET with an optional bearer token: status, headers, body as JSON (Null if not JSON).
async fn get(url: &str, token: Option<&str>) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, headers, body)
}

fn assert_refusal(
    what: &str,
    (status, _, body): &(u16, reqwest::header::HeaderMap, Value),
    want: u16,
) {
    assert_eq!(*status, want, "{what}: {body}");
    let message = body["error"].as_str().unwrap_or_default();
    assert!(
        !message.is_empty() && body.as_object().is_some_and(|o| o.len() == 1),
        "{what}: not the JSON refusal {{\"error\": …}}: {body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_needs_an_operator_token() {
    let ops = start_ops(60).await;
    let snapshot = format!("{}/ops/api/snapshot", ops.url);
    let letter = format!("{}/ops/api/dead-letters/lintas.imigrasi.dlq/0/0", ops.url);

    // The page itself is a sign-in form and a script, holding no data.
    let page = reqwest::get(format!("{}/ops", ops.url)).await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(policy.contains("script-src 'self'"), "{policy}");
    let html = page.text().await.unwrap();
    assert!(html.contains("id=\"sign-in\""), "{html}");

    // Anonymous, unknown and malformed credentials: 401 with the JSON reason.
    for url in [&snapshot, &letter] {
        let anonymous = get(url, None).await;
        assert_refusal("anonymous", &anonymous, 401);
        assert_eq!(anonymous.1["www-authenticate"], "Bearer");
        assert_refusal(
            "unknown token",
            &get(url, Some("not-a-token-at-all-000")).await,
            401,
        );
        // An agency's token, valid elsewhere, lacks the operator role.
        assert_refusal("agency token", &get(url, Some(IMIGRASI_TOKEN)).await, 403);
    }

    // The operator's token reads the data and opens the dead letter, without its body.
    let (status, headers, body) = get(&snapshot, Some(OPERATOR_TOKEN)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    assert!(body["groups"].is_array(), "{body}");
    let (status, _, body) = get(&letter, Some(OPERATOR_TOKEN)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["value_bytes"], 28, "{body}");
    assert!(
        !body.to_string().contains("3301014501900001"),
        "the body must not be shown: {body}"
    );
    // Not a dead-letter topic: 404, in the same JSON shape.
    let other = format!("{}/ops/api/dead-letters/lintas.applicants.v1/0/0", ops.url);
    assert_refusal(
        "not a dead-letter topic",
        &get(&other, Some(OPERATOR_TOKEN)).await,
        404,
    );

    // /metrics is served on its own port, not beside the dashboard.
    let (status, _, _) = get(&format!("{}/metrics", ops.url), None).await;
    assert_eq!(status, 404, "/metrics must not be on the dashboard's port");
    let metrics = reqwest::get(format!("{}/metrics", ops.metrics_url))
        .await
        .unwrap();
    assert_eq!(metrics.status().as_u16(), 200);
    let text = metrics.text().await.unwrap();
    assert!(text.contains("lintas_group_status"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dead_letter_viewer_is_rate_limited() {
    // 4 a minute: one at once, the next after 15 s.
    let ops = start_ops(4).await;
    let letter = format!("{}/ops/api/dead-letters/lintas.imigrasi.dlq/0/0", ops.url);
    let (status, _, body) = get(&letter, Some(OPERATOR_TOKEN)).await;
    assert_eq!(status, 200, "the first view is within the rate: {body}");
    // Refusals of other callers do not count against the operators' rate, and are not 429.
    assert_refusal("anonymous", &get(&letter, None).await, 401);
    let mut refused = 0;
    for _ in 0..5 {
        let response = get(&letter, Some(OPERATOR_TOKEN)).await;
        assert_refusal("beyond the rate", &response, 429);
        let retry: u64 = response.1["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=15).contains(&retry), "Retry-After {retry}");
        refused += 1;
    }
    assert_eq!(refused, 5);
    // The dashboard's data is not rate-limited with it.
    let (status, _, _) = get(
        &format!("{}/ops/api/snapshot", ops.url),
        Some(OPERATOR_TOKEN),
    )
    .await;
    assert_eq!(status, 200);
}
