//! The operators' dashboard in a real browser: headless Chromium, driven through chromedriver
//! (WebDriver over HTTP), loads `/ops` of a running `lintas ops` while the synthetic feed
//! runs through the intakes into two agency subscribers on tansu. The page must show live,
//! changing charts and tables, a dead letter with its reason, an alert and its status, the
//! services' health, switch to English, and turn a killed subscriber's status from OK to
//! STALL or STOP, as `/metrics` does. The operator first signs in with the operator token
//! (an agency's token is refused with the reason shown). Screenshots are kept under
//! target/tmp/artefacts.

mod harness;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use harness::*;
use lintas_kit::events::{
    Agency, AlertAcknowledged, AlertRaised, AlertSeverity, Envelope, RuleAlert, Summary,
};
use rdkafka::config::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde_json::{json, Value};

/// chromedriver from Debian's chromium-driver package, or $LINTAS_CHROMEDRIVER. A missing
/// browser fails the test: it is never skipped.
fn chromedriver() -> PathBuf {
    let path =
        std::env::var("LINTAS_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    let path = PathBuf::from(path);
    assert!(
        path.is_file(),
        "{} not found: install Debian's chromium and chromium-driver (.ci/run does)",
        path.display()
    );
    path
}

struct Browser {
    http: reqwest::Client,
    session: String,
    /// Chromium's profile directory: names its processes, so they can be stopped whatever
    /// happens to chromedriver.
    profile: String,
    _driver: Proc,
}

impl Drop for Browser {
    fn drop(&mut self) {
        // chromedriver is killed with its Proc; the browser it started would outlive it.
        let _ = Command::new("pkill").args(["-f", &self.profile]).status();
    }
}

impl Browser {
    async fn start(dir: &PathBuf) -> Browser {
        let port = free_port();
        let mut command = Command::new(chromedriver());
        command.arg(format!("--port={port}"));
        let driver = Proc::spawn("chromedriver", command, dir);
        let base = format!("http://127.0.0.1:{port}");
        wait_http_ok(&format!("{base}/status"), Duration::from_secs(30)).await;
        let http = reqwest::Client::new();
        let binary =
            std::env::var("LINTAS_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let profile = dir
            .join(format!("chromium-{}", uuid::Uuid::new_v4().simple()))
            .display()
            .to_string();
        let created: Value = http
            .post(format!("{base}/session"))
            .json(&json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": binary,
                    "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                             "--disable-dev-shm-usage", "--window-size=1440,1000", "--lang=id-ID",
                             format!("--user-data-dir={profile}")]
                }
            }}}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("chromedriver did not open a session: {created}"))
            .to_string();
        Browser {
            http,
            session: format!("{base}/session/{session}"),
            profile,
            _driver: driver,
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let mut request = self.http.request(method, format!("{}{path}", self.session));
        if !body.is_null() {
            request = request.json(&body);
        }
        let response: Value = request.send().await.unwrap().json().await.unwrap();
        if response["value"]["error"].is_string() {
            panic!("WebDriver {path}: {}", response["value"]);
        }
        response["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", json!({ "url": url }))
            .await;
    }

    /// Runs `body` (a function body that returns a value) in the page.
    async fn eval(&self, body: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            json!({ "script": body, "args": [] }),
        )
        .await
    }

    /// Waits until `body` returns something truthy; returns it.
    async fn until(&self, what: &str, timeout: Duration, body: &str) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let value = self.eval(body).await;
            let truthy = match &value {
                Value::Null | Value::Bool(false) => false,
                Value::String(s) => !s.is_empty(),
                _ => true,
            };
            if truthy {
                return value;
            }
            if Instant::now() > deadline {
                let page = self.eval("return document.body.innerText").await;
                panic!(
                    "the page never showed {what}; it shows:\n{}",
                    page.as_str().unwrap_or("")
                );
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    async fn resize(&self, width: u32, height: u32) {
        self.call(
            reqwest::Method::POST,
            "/window/rect",
            json!({ "width": width, "height": height }),
        )
        .await;
    }

    /// Saves a PNG screenshot as a test artefact; returns its path.
    async fn screenshot(&self, name: &str) -> PathBuf {
        use base64::Engine as _;
        let encoded = self
            .call(reqwest::Method::GET, "/screenshot", Value::Null)
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().unwrap())
            .unwrap();
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("artefacts");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, &png).unwrap();
        eprintln!("screenshot: {} ({} bytes)", path.display(), png.len());
        path
    }
}

/// The operators' credential of this test (`lintas ops --tokens`).
const OPERATOR_TOKEN: &str = "operator-token-0000000000001";

const STATUS_OF: &str = "return Object.fromEntries([...document.querySelectorAll('#groups tbody tr')].map(r => [r.dataset.group, r.querySelector('.status').innerText.trim()]))";

/// The operators' dashboard of a running system (`lintas ops` watching the immigration and
/// Disnaker subscribers while the synthetic feed runs): each claim below holds on the one
/// system, in order, as an operator would see it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_shows_the_live_feed_and_a_stopped_subscriber() {
    let mut watched = Watched::start().await;
    only_the_operator_token_opens_the_dashboard(&watched.browser).await;
    both_groups_keep_up_and_the_charts_move(&watched.browser).await;
    a_dead_letter_shows_its_reason_but_not_its_body(&watched.browser).await;
    an_acknowledged_alert_shows_without_personal_data(&watched).await;
    every_service_shows_ready(&watched.browser).await;
    the_page_switches_to_english(&watched.browser).await;
    a_stopped_subscriber_turns_stall_or_stop(&mut watched).await;
}

/// Two subscribers on the usual stack, `lintas ops` watching them, the synthetic feed
/// flowing, one poison record on the applicants' topic, and a browser on `/ops`.
/// Fields drop in order: the browser and the processes before the stack they use.
struct Watched {
    browser: Browser,
    _feed: Proc,
    _ops: Proc,
    disnaker: Service,
    _imigrasi: Service,
    stack: Stack,
    metrics: String,
}

impl Watched {
    async fn start() -> Watched {
        let stack = Stack::start(2).await;
        let (broker, database, registry, intake) = stack.parts();
        let imigrasi = spawn_imigrasi(&broker.brokers, &registry.url, database, &broker.dir, &[]);
        let disnaker = spawn_subscriber(
            "disnaker",
            &broker.brokers,
            &registry.url,
            database,
            &broker.dir,
            &[],
        );
        wait_http_ok(&format!("{}/readyz", imigrasi.url), Duration::from_secs(60)).await;
        wait_http_ok(&format!("{}/readyz", disnaker.url), Duration::from_secs(60)).await;

        let ops_listen = format!("127.0.0.1:{}", free_port());
        let metrics_listen = format!("127.0.0.1:{}", free_port());
        let ops_tokens = format!(
            "{OPERATOR_TOKEN}=other:OPS-CILACAP:operator,{IMIGRASI_TOKEN}=imigrasi:KANIM-CILACAP"
        );
        let services = format!(
            "intake={},imigrasi={},disnaker={}",
            intake.url, imigrasi.url, disnaker.url
        );
        let ops = Proc::spawn(
            "ops",
            lintas(&[
                "ops",
                "--brokers",
                &broker.brokers,
                "--schema-registry-url",
                &registry.url,
                "--listen",
                &ops_listen,
                "--metrics-listen",
                &metrics_listen,
                "--tokens",
                &ops_tokens,
                "--watch",
                "imigrasi,disnaker",
                "--service",
                &services,
                "--sample-ms",
                "1000",
                "--window-seconds",
                "10",
                "--stop-after-seconds",
                "30",
            ]),
            &broker.dir,
        );
        let ops_url = format!("http://{ops_listen}");
        wait_http_ok(&format!("{ops_url}/readyz"), Duration::from_secs(60)).await;

        // The synthetic feed, steady for the whole test.
        let tokens = tokens_spec();
        let feed = Proc::spawn(
            "simulate",
            lintas(&[
                "simulate",
                "--intake-url",
                &intake.url,
                "--tokens",
                &tokens,
                "--seed",
                "11",
                "--days",
                "3",
                "--per-day",
                "3000",
                "--rate",
                // Requests per second. The feed raises about one alert per four requests (IM2
                // at each woman's pilgrimage departure, as the brief says), and the page lists
                // the 15 newest: at this rate the test's own alert stays there about a minute.
                "1",
                "--count",
                "100000",
            ]),
            &broker.dir,
        );
        // A record no subscriber can read.
        let raw: FutureProducer = ClientConfig::new()
            .set("bootstrap.servers", &broker.brokers)
            .create()
            .unwrap();
        raw.send(
            FutureRecord::to("lintas.applicants.v1")
                .key("poison")
                .payload("{\"nik\": \"not avro\"}"),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
        let browser = Browser::start(&broker.dir).await;
        browser.goto(&format!("{ops_url}/ops")).await;
        Watched {
            browser,
            _feed: feed,
            _ops: ops,
            disnaker,
            _imigrasi: imigrasi,
            stack,
            metrics: format!("http://{metrics_listen}/metrics"),
        }
    }
}

/// Signed out, the page shows the sign-in form and no data; an agency's token is refused
/// with the reason (only operators may look); the operator's token opens the dashboard, in
/// Indonesian by default.
async fn only_the_operator_token_opens_the_dashboard(browser: &Browser) {
    let sign_in = |token: &str| {
        format!(
            "document.getElementById('token').value = '{token}'; \
             document.getElementById('sign-in-button').click(); return true"
        )
    };
    browser
        .until(
            "the sign-in form",
            Duration::from_secs(10),
            "return !document.getElementById('sign-in').hidden && document.getElementById('dashboard').hidden",
        )
        .await;
    browser.eval(&sign_in(IMIGRASI_TOKEN)).await;
    let refused = browser
        .until(
            "the agency token refused",
            Duration::from_secs(10),
            "const e = document.getElementById('sign-in-error').innerText; return !document.getElementById('sign-in').hidden && e ? e : null",
        )
        .await;
    assert!(refused.as_str().unwrap().contains("operator"), "{refused}");
    browser.eval(&sign_in(OPERATOR_TOKEN)).await;
    browser
        .until(
            "the dashboard after signing in",
            Duration::from_secs(10),
            "return document.getElementById('sign-in').hidden && !document.getElementById('dashboard').hidden",
        )
        .await;
    let title = browser
        .eval("return document.querySelector('h1').innerText")
        .await;
    assert_eq!(title, "Lintas — Pemantauan Operasional");
}

/// Both subscribers show OK while they keep up, and the event count, the throughput chart
/// and the by-type chart change while the page stays loaded.
async fn both_groups_keep_up_and_the_charts_move(browser: &Browser) {
    browser
        .until(
            "both groups OK",
            Duration::from_secs(90),
            &format!("const s = (() => {{ {STATUS_OF} }})(); return s.imigrasi === 'OK' && s.disnaker === 'OK'"),
        )
        .await;
    let read = "return { seen: document.getElementById('events-seen').innerText, \
        lines: [...document.querySelectorAll('#chart-topics polyline')].map(p => p.getAttribute('points')).join('|'), \
        types: document.querySelectorAll('#chart-types polyline').length, \
        lag: [...document.querySelectorAll('#groups .lag')].map(c => c.innerText).join(',') }";
    let first = browser
        .until(
            // More than the two alert events: the synthetic feed is flowing.
            "the synthetic feed's throughput on the charts",
            Duration::from_secs(60),
            &format!("const r = (() => {{ {read} }})(); return r.lines.length > 0 && Number(r.seen.replace(/\\D/g, '')) >= 20 ? r : null"),
        )
        .await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let second = browser.eval(read).await;
    assert_ne!(first["seen"], second["seen"], "event count did not change");
    assert_ne!(first["lines"], second["lines"], "the chart did not change");
    assert!(
        second["types"].as_u64().unwrap() >= 2,
        "by-type chart: {second}"
    );
}

/// The poison record is counted once for the subscriber that dead-lettered it, listed newest
/// with its reason, and opens to its headers, never its body.
async fn a_dead_letter_shows_its_reason_but_not_its_body(browser: &Browser) {
    browser
        .until(
            "imigrasi's dead letter",
            Duration::from_secs(60),
            "return [...document.querySelectorAll('#dead-letters tbody tr')].some(r => r.innerText.includes('imigrasi') && r.innerText.includes('magic byte'))",
        )
        .await;
    let count = browser
        .eval("return document.querySelector('#dead-letter-counts tr[data-dlq=imigrasi] .count').innerText")
        .await;
    assert_eq!(count, "1");
    browser
        .eval("[...document.querySelectorAll('#dead-letters tbody tr')].find(r => r.innerText.includes('imigrasi')).querySelector('button').click(); return true")
        .await;
    let detail = browser
        .until(
            "the dead letter's headers",
            Duration::from_secs(20),
            "const d = document.getElementById('dead-letter-detail'); return !d.hidden && d.innerText.includes('__connect.errors.exception.message') ? d.innerText : null",
        )
        .await;
    let detail = detail.as_str().unwrap();
    assert!(detail.contains("lintas.applicants.v1"), "{detail}");
    assert!(
        !detail.contains("not avro"),
        "the body must not be shown: {detail}"
    );
}

/// An alert raised and acknowledged on the feed appears with its rule, owner and status
/// ("diterima"), and nothing on the page looks like a NIK.
async fn an_acknowledged_alert_shows_without_personal_data(watched: &Watched) {
    let (broker, registry) = (&watched.stack.broker, &watched.stack.registry);
    let events = producer(&broker.brokers, &registry.url);
    let alert_id = uuid::Uuid::new_v4();
    let raised = AlertRaised::from_rule(
        alert_id,
        RuleAlert {
            rule: "IM1".into(),
            owner: Agency::Imigrasi,
            office: "KANIM-CILACAP".into(),
            occurred_at: time::OffsetDateTime::now_utc(),
            subject_key: Some("subject-key-ops-test".into()),
            severity: AlertSeverity::Priority,
            evidence: vec![uuid::Uuid::new_v4()],
            summary: Summary {
                id: "Ditandai lagi dalam 12 bulan".into(),
                en: "Flagged again within 12 months".into(),
            },
            review_within: time::Duration::days(3),
        },
    );
    // Published now, not at the start: the synthetic feed raises alerts every few seconds
    // (IM2 at each woman's pilgrimage departure, as the brief says) and the page lists the 15
    // newest.
    events.publish(&raised).await.unwrap();
    let acknowledged = Envelope::new(
        Agency::Imigrasi,
        "KANIM-CILACAP",
        "im-7",
        time::OffsetDateTime::now_utc() + time::Duration::seconds(1),
    );
    events
        .publish(&AlertAcknowledged {
            envelope: acknowledged,
            alert_id,
            by_agency: Agency::Imigrasi,
            note: None,
        })
        .await
        .unwrap();
    let alert = watched
        .browser
        .until(
            "the alert",
            Duration::from_secs(30),
            &format!("const r = document.querySelector('#alerts tr[data-alert=\"{alert_id}\"]'); return r ? r.innerText : null"),
        )
        .await;
    let alert = alert.as_str().unwrap();
    assert!(
        alert.contains("IM1")
            && alert.contains("imigrasi")
            && alert.contains("diterima")
            && alert.contains("Ditandai lagi dalam 12 bulan"),
        "the summary in Bahasa Indonesia by default: {alert}"
    );
    let text = watched.browser.eval("return document.body.innerText").await;
    assert!(
        !text
            .as_str()
            .unwrap()
            .chars()
            .collect::<Vec<_>>()
            .windows(16)
            .any(|w| w.iter().all(char::is_ascii_digit)),
        "a NIK-like number is on the page"
    );
}

/// The three services the operator named (intake, imigrasi, disnaker) show as ready.
async fn every_service_shows_ready(browser: &Browser) {
    browser
        .until(
            "three ready services",
            Duration::from_secs(30),
            "return document.querySelectorAll('#services .badge.ready').length === 3",
        )
        .await;
}

/// The language toggle switches the page to English (the alert's status too) and back.
async fn the_page_switches_to_english(browser: &Browser) {
    browser
        .eval("document.getElementById('lang-toggle').click(); return true")
        .await;
    let title = browser
        .eval("return document.querySelector('h1').innerText")
        .await;
    assert_eq!(title, "Lintas — Operations");
    let status = browser
        .eval("return [...document.querySelectorAll('#alerts td')].map(c => c.innerText).join(' ')")
        .await;
    assert!(
        status.as_str().unwrap().contains("acknowledged")
            && status
                .as_str()
                .unwrap()
                .contains("Flagged again within 12 months"),
        "{status}"
    );
    browser.screenshot("ops-dashboard-laptop-en.png").await;
    browser
        .eval("document.getElementById('lang-toggle').click(); return true")
        .await;
    browser.resize(1920, 1080).await;
    browser.screenshot("ops-dashboard-wall.png").await;
}

/// A subscriber killed while the feed goes on turns STALL or STOP on the page and in
/// `/metrics` (`lintas_group_status`), its service NOT READY ("TIDAK SIAP"), while the other
/// stays OK.
async fn a_stopped_subscriber_turns_stall_or_stop(watched: &mut Watched) {
    watched.disnaker.proc.kill();
    let browser = &watched.browser;
    let statuses = browser
        .until(
            "disnaker STALL or STOP",
            Duration::from_secs(90),
            &format!("const s = (() => {{ {STATUS_OF} }})(); return (s.disnaker === 'STALL' || s.disnaker === 'STOP') ? s : null"),
        )
        .await;
    assert_eq!(statuses["imigrasi"], "OK", "{statuses}");
    let services = browser
        .eval("return document.querySelector('#services [data-service=disnaker]').innerText")
        .await;
    assert!(
        services.as_str().unwrap().contains("TIDAK SIAP"),
        "{services}"
    );
    browser
        .screenshot("ops-dashboard-stopped-subscriber.png")
        .await;

    let metrics = reqwest::get(&watched.metrics)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let stopped = ["STALL", "STOP"].iter().any(|s| {
        metrics.contains(&format!(
            "lintas_group_status{{group=\"disnaker\",status=\"{s}\"}} 1"
        ))
    });
    assert!(
        stopped,
        "{}",
        metrics
            .lines()
            .filter(|l| l.starts_with("lintas_group_status"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(metrics.contains("lintas_group_status{group=\"imigrasi\",status=\"OK\"} 1"));
}

/// The page of the embedded run (`lintas up`), whose broker lists no consumer groups: it says
/// so, and an integrator's group that committed offsets appears once the operator types its
/// name into the page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_run_page_states_the_group_limit_and_watches_a_named_group() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("ops-up-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let up = EmbeddedRun::start(&dir, &[]).await;
    let (broker, operator) = (up.field("broker"), up.field("token operator"));
    let base = up.base.clone();
    wait_http_ok(&format!("{base}/readyz"), Duration::from_secs(60)).await;

    // An integrator's group committed on the embedded broker.
    let group = "rust-trial.applicants";
    commit_at_start(&broker, group);

    let browser = Browser::start(&dir).await;
    browser.goto(&format!("{base}/ops")).await;
    browser
        .eval(&format!(
            "document.getElementById('token').value = '{operator}'; \
             document.getElementById('sign-in-button').click(); return true"
        ))
        .await;
    let limit = browser
        .until(
            "the stated limit",
            Duration::from_secs(30),
            "const n = document.getElementById('groups-unlisted'); return !n.hidden && n.innerText",
        )
        .await;
    assert!(
        limit
            .as_str()
            .unwrap()
            .contains("tidak mendaftar grup konsumennya"),
        "{limit}"
    );
    let sign_in_shown = browser
        .eval("return getComputedStyle(document.getElementById('sign-in')).display")
        .await;
    assert_eq!(sign_in_shown, "none", "signed in: no sign-in form");
    let shown = browser
        .until(
            "our subscribers",
            Duration::from_secs(30),
            "const g = [...document.querySelectorAll('#groups tbody tr')].map(r => r.dataset.group); return g.length >= 5 && g",
        )
        .await;
    assert!(
        !shown.as_array().unwrap().iter().any(|g| g == group),
        "not listed by the embedded broker: {shown}"
    );
    browser
        .eval(&format!(
            "document.getElementById('group-name').value = '{group}'; \
             document.querySelector('#name-group button').click(); return true"
        ))
        .await;
    let result = browser
        .until(
            "the group named",
            Duration::from_secs(10),
            "return document.getElementById('name-group-result').innerText",
        )
        .await;
    assert_eq!(result, format!("Dipantau: {group}"));
    let source = browser
        .until(
            "the named group's row",
            Duration::from_secs(20),
            &format!(
                "const r = document.querySelector('#groups tr[data-group=\"{group}\"]'); \
                 return r && `${{r.dataset.source}} ${{r.querySelector('.status').innerText.trim()}}`"
            ),
        )
        .await;
    assert_eq!(source, "named OK");
    browser
        .eval("document.getElementById('groups-section').scrollIntoView(); return true")
        .await;
    browser.screenshot("ops-embedded-named-group.png").await;
    // In English too.
    browser
        .eval("document.getElementById('lang-toggle').click(); return true")
        .await;
    let limit = browser
        .until(
            "the limit in English",
            Duration::from_secs(10),
            "const t = document.getElementById('groups-unlisted').innerText; return t.startsWith('This broker') && t",
        )
        .await;
    assert!(limit.as_str().unwrap().contains("lintas up"), "{limit}");
    drop(up);
}
