use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Path, Query};
use axum::http::{Method, Request, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

use super::*;

fn app() -> Router {
    let settings = HttpSettings {
        max_body_bytes: 1024,
        ..Default::default()
    };
    harden(
        Router::new()
            .route(
                "/echo",
                post(|StrictJson(v): StrictJson<Value>| async move { Json(v) }),
            )
            .route(
                "/items/{id}",
                get(|Path(id): Path<u32>| async move { id.to_string() }),
            )
            .route(
                "/search",
                get(|Query(q): Query<HashMap<String, u32>>| async move { format!("{q:?}") }),
            ),
        &settings,
    )
}

async fn call(
    method: &str,
    uri: &str,
    content_type: Option<&str>,
    body: &str,
) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(ct) = content_type {
        request = request.header("content-type", ct);
    }
    let response = app()
        .oneshot(request.body(Body::from(body.to_string())).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Duplicate keys are found at any depth and named by path; a clean body parses as serde_json
/// would.
#[test]
fn duplicate_keys_at_any_depth_are_refused() {
    let ok = parse(br#"{"a":{"b":[1,{"c":"x"}]},"d":null}"#).unwrap();
    assert_eq!(ok, json!({"a":{"b":[1,{"c":"x"}]},"d":null}));
    assert_eq!(
        parse(br#"{"name":"a","name":"b"}"#),
        Err(BodyError::DuplicateKeys(vec!["name".into()]))
    );
    assert_eq!(
        parse(br#"{"a":{"b":[1,{"c":1,"c":2}]}}"#),
        Err(BodyError::DuplicateKeys(vec!["a.b[1].c".into()]))
    );
    assert!(matches!(parse(b"{\"a\":1"), Err(BodyError::Malformed(_))));
    assert!(matches!(parse(b"{} {}"), Err(BodyError::Malformed(_))));
}

/// Control characters and Unicode format characters (bidi overrides and isolates,
/// zero-width characters, the BOM) are refused in any string, with its path.
#[test]
fn format_and_control_characters_are_refused() {
    for bad in [
        "\u{202E}", "\u{202A}", "\u{2066}", "\u{2069}", "\u{200B}", "\u{200F}", "\u{FEFF}",
        "\u{0000}", "\n", "\u{007F}", "\u{00AD}",
    ] {
        let body = json!({"people": [{"name": format!("Siti{bad}Aminah")}]}).to_string();
        assert_eq!(
            parse(body.as_bytes()),
            Err(BodyError::Characters(vec!["people[0].name".into()])),
            "{bad:?}"
        );
    }
    assert!(parse(
        json!({"name": "Siti Aminah, Ñoño 日本"})
            .to_string()
            .as_bytes()
    )
    .is_ok());
}

/// axum's own refusals come out in the one JSON shape: unknown route, wrong method, body too
/// large, wrong content type, malformed JSON, bad path and query parameters.
#[tokio::test]
async fn every_refusal_is_json() {
    let json_ct = Some("application/json");
    let cases = [
        ("GET", "/nowhere", None, "", StatusCode::NOT_FOUND),
        (
            "DELETE",
            "/echo",
            json_ct,
            "{}",
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            "XYZZY",
            "/echo",
            json_ct,
            "{}",
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            "POST",
            "/echo",
            json_ct,
            &format!("{{\"a\":\"{}\"}}", "x".repeat(4096)),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "POST",
            "/echo",
            Some("text/plain"),
            "{}",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        ("POST", "/echo", json_ct, "{\"a\":", StatusCode::BAD_REQUEST),
        (
            "POST",
            "/echo",
            json_ct,
            "{\"a\":1,\"a\":2}",
            StatusCode::BAD_REQUEST,
        ),
        (
            "POST",
            "/echo",
            json_ct,
            "{\"a\":\"\u{202E}x\"}",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("GET", "/items/abc", None, "", StatusCode::BAD_REQUEST),
        ("GET", "/search?n=abc", None, "", StatusCode::BAD_REQUEST),
    ];
    for (method, uri, ct, body, status) in cases {
        let (got, answer) = call(method, uri, ct, body).await;
        assert_eq!(got, status, "{method} {uri}: {answer}");
        assert!(answer["error"].is_string(), "{method} {uri}: {answer}");
    }
    let (_, answer) = call("POST", "/echo", json_ct, "{\"a\":1,\"a\":2}").await;
    assert_eq!(answer["fields"][0]["field"], "a");
    let (ok, answer) = call("POST", "/echo", json_ct, "{\"a\":[1]}").await;
    assert_eq!((ok, answer), (StatusCode::OK, json!({"a":[1]})));
}

/// Metric labels come from a fixed set whatever method a client invents.
#[test]
fn methods_outside_the_fixed_set_are_other() {
    assert_eq!(method_label(&Method::GET), "GET");
    assert_eq!(method_label(&Method::PATCH), "PATCH");
    assert_eq!(
        method_label(&Method::from_bytes(b"X12345").unwrap()),
        "OTHER"
    );
    assert_eq!(method_label(&Method::CONNECT), "OTHER");
}

async fn start(settings: HttpSettings) -> (std::net::SocketAddr, Shutdown) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = Shutdown::new();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        serve(
            listener,
            Router::new().route("/livez", get(|| async { "ok" })),
            &settings,
            stop,
        )
        .await
    });
    (addr, shutdown)
}

/// A client that never finishes its headers is disconnected after the header timeout, while
/// a normal request on the same server is answered.
#[tokio::test]
async fn slowloris_is_cut_off() {
    let (addr, shutdown) = start(HttpSettings {
        header_timeout_secs: 1,
        ..Default::default()
    })
    .await;
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /livez HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    let started = Instant::now();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "connection still open after 5 s");
    assert!(started.elapsed() < Duration::from_secs(3));

    let mut ok = tokio::net::TcpStream::connect(addr).await.unwrap();
    ok.write_all(b"GET /livez HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    ok.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    shutdown.trigger();
}

/// With one connection slot, a second connection waits until the first closes.
#[tokio::test]
async fn connections_beyond_the_limit_wait() {
    let (addr, shutdown) = start(HttpSettings {
        max_connections: 1,
        header_timeout_secs: 2,
        ..Default::default()
    })
    .await;
    let first = tokio::net::TcpStream::connect(addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut second = tokio::net::TcpStream::connect(addr).await.unwrap();
    second
        .write_all(b"GET /livez HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    let early = tokio::time::timeout(
        Duration::from_millis(500),
        second.read_to_string(&mut answer),
    )
    .await;
    assert!(early.is_err(), "served beyond the limit: {answer}");
    drop(first);
    tokio::time::timeout(Duration::from_secs(5), second.read_to_string(&mut answer))
        .await
        .unwrap()
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    shutdown.trigger();
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

/// A certificate for localhost signed by the test CA, into `cert`/`key`.
fn leaf(dir: &std::path::Path, name: &str) {
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
            &format!("{name}.key"),
            "-out",
            &format!("{name}.csr"),
            "-subj",
            &format!("/CN={name}"),
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
            &format!("{name}.csr"),
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
            &format!("{name}.pem"),
        ],
    );
}

async fn served_certificate(addr: std::net::SocketAddr, ca: &std::path::Path) -> Vec<u8> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut tls = connector
        .connect("localhost".try_into().unwrap(), tcp)
        .await
        .unwrap();
    tls.write_all(b"GET /livez HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    tls.read_to_end(&mut answer).await.unwrap();
    assert!(answer.starts_with(b"HTTP/1.1 200"));
    tls.get_ref().1.peer_certificates().unwrap()[0].to_vec()
}

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

/// HTTPS from PEM files; replacing the files serves the new certificate at the next
/// handshake, without a restart.
#[tokio::test]
async fn tls_certificate_is_reloaded_when_its_files_change() {
    let dir = std::env::temp_dir().join(format!("lintas-tls-{}", uuid::Uuid::new_v4()));
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
            "/CN=test-ca",
        ],
    );
    leaf(&dir, "one");
    leaf(&dir, "two");
    let (cert, key) = (dir.join("server.pem"), dir.join("server.key"));
    std::fs::copy(dir.join("one.pem"), &cert).unwrap();
    std::fs::copy(dir.join("one.key"), &key).unwrap();
    let (addr, shutdown) = start(HttpSettings {
        tls_cert: Some(cert.clone()),
        tls_key: Some(key.clone()),
        ..Default::default()
    })
    .await;
    let der = |name: &str| {
        CertificateDer::from_pem_file(dir.join(name))
            .unwrap()
            .to_vec()
    };
    assert_eq!(
        served_certificate(addr, &dir.join("ca.pem")).await,
        der("one.pem")
    );
    // The key first, then the certificate, as a renewal would write them.
    std::fs::copy(dir.join("two.key"), &key).unwrap();
    std::fs::copy(dir.join("two.pem"), &cert).unwrap();
    assert_eq!(
        served_certificate(addr, &dir.join("ca.pem")).await,
        der("two.pem")
    );
    shutdown.trigger();
    let _ = std::fs::remove_dir_all(&dir);
}
