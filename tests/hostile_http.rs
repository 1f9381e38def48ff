//! A hostile corpus against the real binary (`lintas up`, which serves every kind of route
//! Lintas has: intakes, agency views and alert desks, erasures, the registry, the dashboard,
//! metrics): each refusal answers the one JSON error shape and publishes nothing; a client that
//! never finishes its headers or its body is cut off; invented methods add no metric series.

mod harness;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use harness::*;
use reqwest::Method;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const HEADER_TIMEOUT_SECS: u64 = 2;
const REQUEST_TIMEOUT_SECS: u64 = 3;

struct Up {
    _proc: Proc,
    base: String,
    addr: String,
}

async fn start_up() -> Up {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("hostile-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let addr = format!("127.0.0.1:{}", free_port());
    let proc = Proc::spawn(
        "up",
        lintas(&[
            "up",
            "--data-dir",
            dir.join("data").to_str().unwrap(),
            "--listen",
            &addr,
            "--tokens",
            &tokens_spec(),
            "--http-header-timeout-secs",
            &HEADER_TIMEOUT_SECS.to_string(),
            "--http-request-timeout-secs",
            &REQUEST_TIMEOUT_SECS.to_string(),
        ]),
        &dir,
    );
    let base = format!("http://{addr}");
    wait_http_ok(&format!("{base}/readyz"), Duration::from_secs(90)).await;
    Up {
        _proc: proc,
        base,
        addr,
    }
}

/// Sends a request and returns the status and the body, asserting the one error shape:
/// `Content-Type: application/json` and `{"error": string, …}`.
async fn refused(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let text = response.text().await.unwrap();
    assert!(
        (400..600).contains(&status),
        "expected a refusal, got {status}: {text}"
    );
    assert!(
        content_type.starts_with("application/json"),
        "{status} answered as `{content_type}`: {text}"
    );
    let body: Value =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status} not JSON: {text}"));
    assert!(body["error"].is_string(), "{status} without error: {body}");
    (status, body)
}

fn field_names(body: &Value) -> Vec<String> {
    body["fields"]
        .as_array()
        .map(|fields| {
            fields
                .iter()
                .map(|f| f["field"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Sum of `lintas_events_published_total` and the outbox's pending rows: what was published.
async fn published(client: &reqwest::Client, base: &str) -> f64 {
    let text = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|l| l.starts_with("lintas_events_published_total"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

fn applicant_body() -> Value {
    with(
        registration("jobseeker_card_ak1", NIK_SITI, "Siti Aminah"),
        "identity_document_checked",
        json!(true),
    )
}

/// Every hostile body on every JSON route (intake, alert desk, erasure) is refused in the one
/// shape, with the field named where there is one, and nothing is published.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_bodies_are_refused_in_one_shape_and_publish_nothing() {
    let up = start_up().await;
    let client = reqwest::Client::new();
    let base = &up.base;
    let before = published(&client, base).await;
    let intake = format!("{base}/v1/applicants");
    let desk = format!(
        "{base}/v1/agencies/polri/alerts/{}/close",
        uuid::Uuid::new_v4()
    );
    let erasures = format!("{base}/v1/agencies/imigrasi/erasures");
    // Each route with its body limit: the intakes take 64 KiB, the others the server's 1 MiB.
    let routes = [
        (intake.as_str(), DISNAKER_TOKEN, 64 * 1024),
        (desk.as_str(), POLRI_TOKEN, 1024 * 1024),
        (erasures.as_str(), IMIGRASI_PERSONAL_TOKEN, 1024 * 1024),
    ];
    let post = |url: &str, token: &str, content_type: &str, body: String| {
        client
            .post(url)
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body)
    };

    for (url, token, limit) in routes {
        // Oversize body.
        let big = json!({ "note": "x".repeat(limit + 1024) }).to_string();
        let (status, _) = refused(post(url, token, "application/json", big)).await;
        assert_eq!(status, 413, "{url}");
        // Malformed JSON.
        let (status, _) = refused(post(url, token, "application/json", "{\"a\":".into())).await;
        assert_eq!(status, 400, "{url}");
        // Wrong content type.
        let (status, _) = refused(post(url, token, "text/plain", "{}".into())).await;
        assert_eq!(status, 415, "{url}");
        // Duplicate keys, at the top and nested.
        let (status, body) = refused(post(
            url,
            token,
            "application/json",
            r#"{"officer_id":"off-1","officer_id":"off-2"}"#.into(),
        ))
        .await;
        assert_eq!(
            (status, field_names(&body)),
            (400, vec!["officer_id".into()]),
            "{url}"
        );
        let (status, body) = refused(post(
            url,
            token,
            "application/json",
            r#"{"x":{"y":[{"z":1,"z":2}]}}"#.into(),
        ))
        .await;
        assert_eq!(
            (status, field_names(&body)),
            (400, vec!["x.y[0].z".into()]),
            "{url}"
        );
    }

    // A bidirectional override (or a zero-width character) in a name or a note.
    let mut body = applicant_body();
    body["full_name"] = json!("Siti \u{202E}haminA");
    let (status, answer) = refused(post(
        &intake,
        DISNAKER_TOKEN,
        "application/json",
        body.to_string(),
    ))
    .await;
    assert_eq!(
        (status, field_names(&answer)),
        (422, vec!["full_name".into()])
    );
    let note = json!({"officer_id": "off-1", "reason": "resolved", "note": "ok\u{200B}"});
    let (status, answer) = refused(post(
        &desk,
        POLRI_TOKEN,
        "application/json",
        note.to_string(),
    ))
    .await;
    assert_eq!((status, field_names(&answer)), (422, vec!["note".into()]));
    let erasure = json!({"person_key": "abcdefgh12345678", "reason": "x\u{2066}y",
        "legal_basis": "UU 27/2022", "officer_id": "off-1"});
    let (status, answer) = refused(post(
        &erasures,
        IMIGRASI_PERSONAL_TOKEN,
        "application/json",
        erasure.to_string(),
    ))
    .await;
    assert_eq!((status, field_names(&answer)), (422, vec!["reason".into()]));

    // Unknown route, wrong method, invented method, bad path and query parameters.
    let (status, _) = refused(client.get(format!("{base}/v1/nowhere"))).await;
    assert_eq!(status, 404);
    let (status, _) = refused(client.delete(&intake).bearer_auth(DISNAKER_TOKEN)).await;
    assert_eq!(status, 405);
    let (status, _) =
        refused(client.request(Method::from_bytes(b"X31337").unwrap(), &intake)).await;
    assert_eq!(status, 405);
    let (status, _) = refused(
        client
            .get(format!("{base}/v1/agencies/polri/alerts?limit=nope"))
            .bearer_auth(POLRI_TOKEN),
    )
    .await;
    assert_eq!(status, 422);
    let (status, _) = refused(client.get(format!("{base}/ops/api/snapshot"))).await;
    assert_eq!(status, 401);

    assert_eq!(
        published(&client, base).await,
        before,
        "a refused request published"
    );
    // The same applicant, clean, is accepted: the refusals above were about the input.
    let accepted = client
        .post(&intake)
        .bearer_auth(DISNAKER_TOKEN)
        .json(&applicant_body())
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status().as_u16(), 202);
    assert!(published(&client, base).await > before);
}

/// The registry keeps Confluent's error body for the same refusals.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_refusals_keep_confluents_shape() {
    let up = start_up().await;
    let client = reqwest::Client::new();
    let url = format!("{}/registry/subjects/x-value/versions", up.base);
    for (content_type, body) in [
        ("application/json", "{\"schema\":".to_string()),
        ("application/json", "{\"schema\": 5}".to_string()),
        ("text/plain", "{}".to_string()),
    ] {
        let response = client
            .post(&url)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let answer: Value = response.json().await.unwrap();
        assert!((400..500).contains(&status), "{status} {answer}");
        assert!(answer["error_code"].is_u64(), "{answer}");
        assert!(answer["message"].is_string(), "{answer}");
    }
}

/// A client that sends part of its headers and then nothing is disconnected within the
/// header timeout (plus a margin); one that sends its headers but not its body gets a JSON 408
/// after the request timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_cut_off() {
    let up = start_up().await;
    let mut slow = tokio::net::TcpStream::connect(&up.addr).await.unwrap();
    slow.write_all(b"POST /v1/applicants HTTP/1.1\r\nHost: lintas\r\nX-Slow: a")
        .await
        .unwrap();
    let started = Instant::now();
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(
        Duration::from_secs(HEADER_TIMEOUT_SECS + 3),
        slow.read_to_end(&mut rest),
    )
    .await;
    assert!(closed.is_ok(), "still open after the header timeout + 3 s");
    assert!(started.elapsed() >= Duration::from_millis(HEADER_TIMEOUT_SECS * 1000 - 500));

    let mut body_never_comes = tokio::net::TcpStream::connect(&up.addr).await.unwrap();
    body_never_comes
        .write_all(
            format!(
                "POST /v1/applicants HTTP/1.1\r\nHost: lintas\r\nAuthorization: Bearer {DISNAKER_TOKEN}\r\n\
                 Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"nik\":"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let mut answer = Vec::new();
    // The server may reset the connection after its answer (the body is left unread).
    let _ = tokio::time::timeout(
        Duration::from_secs(REQUEST_TIMEOUT_SECS + 5),
        body_never_comes.read_to_end(&mut answer),
    )
    .await
    .expect("answered within the request timeout");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("application/json"), "{answer}");
    assert!(answer.contains("\"error\""), "{answer}");
}

/// The label sets of the HTTP request metrics that invented methods or unknown routes could
/// reach (`method="OTHER"`, `route="unmatched"`), and any label holding an invented method.
async fn http_series(client: &reqwest::Client, base: &str) -> BTreeSet<String> {
    let text = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|l| l.starts_with("lintas_http_") || l.starts_with("lintas_registry_request"))
        .filter(|l| {
            l.contains("method=\"OTHER\"")
                || l.contains("route=\"unmatched\"")
                || l.contains("method=\"X")
        })
        .map(|l| l.rsplit_once(' ').unwrap().0.to_string())
        .collect()
}

/// `curl -X X$RANDOM` on matched and unmatched routes adds no metric series: methods are
/// labelled from a fixed set and routes by template.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invented_methods_add_no_metric_series() {
    let up = start_up().await;
    let client = reqwest::Client::new();
    let paths = [
        "/v1/applicants",
        "/registry/subjects",
        "/v1/agencies/polri/alerts",
        "/metrics",
        "/no/such/route/123",
    ];
    let batch = |seed: u32| {
        let client = client.clone();
        let base = up.base.clone();
        async move {
            for (i, path) in paths.iter().enumerate() {
                for n in 0..5u32 {
                    let method = format!("X{}", seed * 1000 + i as u32 * 10 + n);
                    let response = client
                        .request(
                            Method::from_bytes(method.as_bytes()).unwrap(),
                            format!("{base}{path}"),
                        )
                        .send()
                        .await
                        .unwrap();
                    assert!(response.status().is_client_error(), "{method} {path}");
                }
            }
        }
    };
    http_series(&client, &up.base).await;
    batch(rand_seed()).await;
    let first = http_series(&client, &up.base).await;
    batch(rand_seed() + 1).await;
    let second = http_series(&client, &up.base).await;
    assert!(
        !first.is_empty(),
        "the invented methods were not counted at all"
    );
    assert_eq!(first, second, "new series after invented methods");
    assert!(
        !second.iter().any(|s| s.contains("method=\"X")),
        "a client's method became a label"
    );
}

fn rand_seed() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos()
        % 100_000
}

fn openssl(dir: &std::path::Path, args: &[&str]) {
    let status = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl");
    assert!(status.success(), "openssl {args:?}");
}

/// A certificate for localhost signed by the test CA (`ca.pem`), as `{name}.pem`/`{name}.key`.
fn leaf(dir: &std::path::Path, name: &str) {
    let (key, csr, pem) = (
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.pem"),
    );
    let subject = format!("/CN={name}");
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &csr,
            "-subj",
            &subject,
        ],
    );
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
            "-out",
            &pem,
        ],
    );
}

/// `--tls-cert`/`--tls-key` on a real service (the registry): HTTPS with the certificate from
/// the files, plain HTTP refused on that port, and a renewed certificate served at the next
/// connection without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_from_pem_files_is_served_and_reloaded() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("tls-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    openssl(
        &dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=ca",
        ],
    );
    leaf(&dir, "first");
    leaf(&dir, "second");
    let (cert, key) = (dir.join("server.pem"), dir.join("server.key"));
    std::fs::copy(dir.join("first.pem"), &cert).unwrap();
    std::fs::copy(dir.join("first.key"), &key).unwrap();
    let port = free_port();
    let database = format!("sqlite://{}/registry.db", dir.display());
    let users = dir.join("registry-users");
    std::fs::write(&users, registry_users()).unwrap();
    let _registry = Proc::spawn(
        "registry",
        lintas(&[
            "registry",
            "--database-url",
            &database,
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--users-file",
            users.to_str().unwrap(),
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ]),
        &dir,
    );
    let ca = reqwest::Certificate::from_pem(&std::fs::read(dir.join("ca.pem")).unwrap()).unwrap();
    let served = |ca: reqwest::Certificate| async move {
        // A new client each time: a new connection, a new handshake.
        let client = reqwest::Client::builder()
            .add_root_certificate(ca)
            .tls_info(true)
            .build()
            .unwrap();
        let response = client
            .get(format!("https://localhost:{port}/livez"))
            .send()
            .await
            .ok()?;
        assert_eq!(response.status().as_u16(), 200);
        response
            .extensions()
            .get::<reqwest::tls::TlsInfo>()
            .and_then(|info| info.peer_certificate().map(<[u8]>::to_vec))
    };
    let der = |name: &str| {
        let pem = std::fs::read_to_string(dir.join(name)).unwrap();
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, body).unwrap()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let first = loop {
        if let Some(cert) = served(ca.clone()).await {
            break cert;
        }
        assert!(Instant::now() < deadline, "no HTTPS answer");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(first, der("first.pem"));
    let plain = reqwest::get(format!("http://127.0.0.1:{port}/livez")).await;
    assert!(
        plain.map(|r| !r.status().is_success()).unwrap_or(true),
        "plain HTTP answered on the TLS port"
    );
    std::fs::copy(dir.join("second.key"), &key).unwrap();
    std::fs::copy(dir.join("second.pem"), &cert).unwrap();
    assert_eq!(served(ca.clone()).await.unwrap(), der("second.pem"));
}
