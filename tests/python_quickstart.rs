//! What a Python integrator following only tests/python/README.md gets: its quickstart reader
//! (tests/python/quickstart_reader.py, the README's code block byte for byte), run against the
//! embedded run (`lintas up`) with the broker and the registry's read credential its banner
//! prints, shows each event's type (the `lintas.event.type` header), key and
//! `envelope.subject_key`; the README's read_feed.py command with the run's immigration KEK
//! decrypts the personal data that stays ciphertext without it. Its consumer group commits offsets to the embedded broker, which does
//! not list its groups (librdkafka's mock cluster answers no ListGroups): the operators' page says
//! so, and shows the group, with its lag and status, once it is named (LINTAS_OPS_GROUPS at
//! start, or by an operator at run time).
//!
//! Needs python3 with pip; the Python packages (tests/python/requirements.txt) are installed
//! when missing, and a failed install fails the test: it never skips.

mod harness;

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use harness::*;
use serde_json::{json, Value};
use tokio::io::AsyncBufReadExt;

fn repo_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .canonicalize()
        .expect("repository root")
}

fn python() -> String {
    std::env::var("LINTAS_PYTHON").unwrap_or_else(|_| "python3".into())
}

const IMPORT_CHECK: &str = "import confluent_kafka, fastavro\n\
     from confluent_kafka import DeserializingConsumer\n\
     from confluent_kafka.schema_registry.avro import AvroDeserializer";

/// Installs tests/python/requirements.txt when the packages are missing; a failure is a test
/// failure, never a skip.
fn ensure_python_deps() {
    let importable = || {
        std::process::Command::new(python())
            .args(["-c", IMPORT_CHECK])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if importable() {
        return;
    }
    let out = std::process::Command::new(python())
        .args([
            "-m",
            "pip",
            "install",
            "-q",
            "-r",
            "tests/python/requirements.txt",
        ])
        .current_dir(repo_root())
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{} -m pip`: {e}", python()));
    assert!(
        out.status.success() && importable(),
        "`{} -m pip install -r tests/python/requirements.txt` did not make the packages importable:\n{}\n{}",
        python(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The README's quickstart is the file the suite runs: it cannot drift.
#[test]
fn readme_quickstart_is_the_script_the_suite_runs() {
    let root = repo_root();
    let readme = std::fs::read_to_string(root.join("tests/python/README.md")).unwrap();
    let script = std::fs::read_to_string(root.join("tests/python/quickstart_reader.py")).unwrap();
    let start = readme
        .find("```python\n")
        .expect("a ```python block in tests/python/README.md")
        + "```python\n".len();
    let len = readme[start..]
        .find("\n```")
        .expect("the python block's closing fence");
    let block = &readme[start..start + len + 1];
    assert_eq!(
        block, script,
        "tests/python/README.md's quickstart differs from tests/python/quickstart_reader.py"
    );
    assert!(
        script.lines().count() <= 32,
        "a quickstart of about 20 lines"
    );
    // What the README promises to say.
    for needed in [
        "/registry",
        "basic.auth.user.info",
        "registry read",
        "envelope.subject_key",
        "lintas.event.type",
        "schemas/asyncapi.json",
        "group.id",
        "--kek-secret",
        "LINTAS_OPS_GROUPS",
        "/ops/api/groups",
    ] {
        assert!(readme.contains(needed), "README does not mention {needed}");
    }
}

struct Up {
    proc: Proc,
    base: String,
    broker: String,
    registry_read: String,
    disnaker: String,
    imigrasi: String,
    operator: String,
}

async fn start_up(dir: &PathBuf, extra: &[&str]) -> Up {
    let run = EmbeddedRun::start(dir, extra).await;
    Up {
        broker: run.field("broker"),
        registry_read: run.field("registry read"),
        disnaker: run.field("token disnaker"),
        imigrasi: run.field("token imigrasi"),
        operator: run.field("token operator"),
        base: run.base,
        proc: run.proc,
    }
}

/// The quickstart, its standard output collected line by line; killed when dropped.
struct Reader {
    _child: tokio::process::Child,
    lines: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<String>>,
}

fn start_quickstart(up: &Up) -> Reader {
    let script = repo_root().join("tests/python/quickstart_reader.py");
    let mut child = tokio::process::Command::new(python())
        .arg(&script)
        .args([&up.broker, &up.registry_read, &up.base])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", script.display()));
    let lines = Arc::new(Mutex::new(Vec::new()));
    let stderr = Arc::new(Mutex::new(String::new()));
    let mut out = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let sink = lines.clone();
    tokio::spawn(async move {
        while let Ok(Some(line)) = out.next_line().await {
            sink.lock().unwrap().push(line);
        }
    });
    let mut err = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let sink = stderr.clone();
    tokio::spawn(async move {
        while let Ok(Some(line)) = err.next_line().await {
            let mut text = sink.lock().unwrap();
            text.push_str(&line);
            text.push('\n');
        }
    });
    Reader {
        _child: child,
        lines,
        stderr,
    }
}

async fn snapshot(client: &reqwest::Client, up: &Up) -> Value {
    client
        .get(format!("{}/ops/api/snapshot", up.base))
        .bearer_auth(&up.operator)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn group<'a>(snapshot: &'a Value, name: &str) -> Option<&'a Value> {
    snapshot["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["group"] == name)
}

/// Polls the snapshot until `done` holds; fails with the last one after `timeout`.
async fn until(
    client: &reqwest::Client,
    up: &Up,
    what: &str,
    timeout: Duration,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + timeout;
    loop {
        let snap = snapshot(client, up).await;
        if done(&snap) {
            return snap;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not within {timeout:?}; last snapshot: {snap}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// What a Python integrator following tests/python/README.md gets from one embedded run
/// (`lintas up`, the quickstart's group named by the operator at start): each claim below, in
/// order, on the one run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quickstart_reads_the_embedded_feed_and_integrators_groups_reach_ops() {
    ensure_python_deps();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("quickstart-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let up = start_up(&dir, &["--ops-group", "quickstart-reader"]).await;
    wait_http_ok(&format!("{}/readyz", up.base), Duration::from_secs(60)).await;
    let trial = Trial {
        dir,
        up,
        client: reqwest::Client::new(),
    };
    the_embedded_broker_lists_no_groups_and_the_page_says_so(&trial).await;
    let reader = the_quickstart_prints_each_events_type_and_keys(&trial).await;
    personal_data_is_ciphertext_unless_read_with_the_kek(&trial).await;
    the_quickstarts_named_group_shows_caught_up(&trial).await;
    drop(reader);
    an_unlisted_group_shows_once_an_operator_names_it(&trial).await;
    drop(trial.up.proc);
}

/// The embedded run under trial: its folder, its banner's values and a client.
struct Trial {
    dir: PathBuf,
    up: Up,
    client: reqwest::Client,
}

/// The embedded broker lists no consumer groups: the operators' data says so (with the group
/// named at start, not yet seen), and the page states the limit.
async fn the_embedded_broker_lists_no_groups_and_the_page_says_so(trial: &Trial) {
    let (up, client) = (&trial.up, &trial.client);
    let snap = until(
        client,
        up,
        "a sample of the broker",
        Duration::from_secs(30),
        |s| !s["group_discovery"]["broker_lists_groups"].is_null(),
    )
    .await;
    assert_eq!(
        snap["group_discovery"]["broker_lists_groups"], false,
        "{snap}"
    );
    assert_eq!(
        snap["group_discovery"]["named"],
        json!(["quickstart-reader"])
    );
    assert!(group(&snap, "quickstart-reader").is_none(), "{snap}");
    let page = client
        .get(format!("{}/ops/app.js", up.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("This broker does not list its consumer groups"),
        "the page states the limit"
    );
}

/// Two events posted to the intakes are printed by the quickstart, run as the README says,
/// each as its type (the `lintas.event.type` header), its key and its `envelope.subject_key`
/// (the same: events are keyed by subject), and nothing else. The reader keeps running.
async fn the_quickstart_prints_each_events_type_and_keys(trial: &Trial) -> Reader {
    let up = &trial.up;
    let applicant = Client::new()
        .publish(
            &format!("{}/v1/applicants", up.base),
            &up.disnaker,
            budi_registration("33.01.08.2001", "Jeruklegi"),
        )
        .await;
    let flagged = Client::new()
        .publish(
            &format!("{}/v1/imigrasi/visa-flags", up.base),
            &up.imigrasi,
            umrah_flag(NIK_SITI),
        )
        .await;
    let key = |v: &Value| {
        v["subject_key"]
            .as_str()
            .expect("a subject key")
            .to_string()
    };
    let (applicant_key, flagged_key) = (key(&applicant), key(&flagged));
    let expected = [
        format!("ApplicantRegistered {applicant_key} {applicant_key}"),
        format!("VisaTypeFlagged {flagged_key} {flagged_key}"),
    ];
    let reader = start_quickstart(up);
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let lines = reader.lines.lock().unwrap().clone();
        if expected.iter().all(|e| lines.contains(e)) {
            assert_eq!(lines.len(), 2, "exactly the two events: {lines:?}");
            return reader;
        }
        assert!(
            Instant::now() < deadline,
            "the quickstart did not print {expected:?} within 90 s; it printed {lines:?}\n--- stderr\n{}",
            reader.stderr.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// The applicant's NIK and name are ciphertext to a reader without the KEK (the quickstart,
/// any integrator); the README's read_feed.py command with the run's immigration KEK
/// decrypts them.
async fn personal_data_is_ciphertext_unless_read_with_the_kek(trial: &Trial) {
    let kek = std::fs::read_to_string(trial.dir.join("data/kek-lintas-imigrasi.secret")).unwrap();
    let clear = read_personal_data(&trial.up, Some(kek.trim())).await;
    assert_eq!(clear["nik"], "3301011301900001");
    assert_eq!(clear["full_name"], "Budi");
    let sealed = read_personal_data(&trial.up, None).await;
    assert_ne!(sealed["nik"], "3301011301900001");
    assert!(
        sealed["nik"].as_str().unwrap().len() > 40,
        "base64 ciphertext: {sealed}"
    );
}

/// The applicant's `personal` record as read_feed.py prints it, with the KEK or without.
async fn read_personal_data(up: &Up, kek: Option<&str>) -> Value {
    let registry = format!("{}/registry", up.base);
    let user_info = format!("basic.auth.user.info={}", up.registry_read);
    let mut args = vec![
        "--brokers",
        up.broker.as_str(),
        "--registry",
        registry.as_str(),
        "--registry-config",
        user_info.as_str(),
        "--topics",
        "lintas.applicants.v1",
        "--expect",
        "1",
        "--timeout",
        "60",
    ];
    if let Some(kek) = kek {
        args.extend(["--kek-secret", kek]);
    }
    let out = tokio::process::Command::new(python())
        .arg(repo_root().join("tests/python/read_feed.py"))
        .args(&args)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "read_feed.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line: Value = serde_json::from_slice(&out.stdout).unwrap();
    line["value"]["personal"].clone()
}

/// The quickstart's group commits (auto-commit, every 5 s) and shows on the operators' data:
/// named, caught up, OK, on the partitions it committed on; its members unknown to a broker
/// that lists no groups.
async fn the_quickstarts_named_group_shows_caught_up(trial: &Trial) {
    let snap = until(
        &trial.client,
        &trial.up,
        "the quickstart's group on /ops",
        Duration::from_secs(40),
        |s| {
            group(s, "quickstart-reader").is_some_and(|g| {
                g["status"] == "OK"
                    && g["lag"] == 0
                    && g["partitions"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|p| p["topic"] == "lintas.screening.v1" && p["committed"] == 1)
            })
        },
    )
    .await;
    let g = group(&snap, "quickstart-reader").unwrap();
    assert_eq!(g["source"], "named");
    assert!(g["members"].is_null(), "{g}");
}

/// A Rust integrator's group that committed but is behind stays unseen until an operator
/// names it (no token 401, an agency's 403, a bad name 422, 201 then 200 once named), then
/// shows with its lag on its partitions, turns from OK once it stalls, and the operators'
/// data holds no personal data.
async fn an_unlisted_group_shows_once_an_operator_names_it(trial: &Trial) {
    let (up, client) = (&trial.up, &trial.client);
    let rust_group = "rust-trial.applicants";
    commit_at_start(&up.broker, rust_group);
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(
        group(&snapshot(client, up).await, rust_group).is_none(),
        "the embedded broker does not list it"
    );
    let groups_url = format!("{}/ops/api/groups", up.base);
    let name = |token: Option<&str>, body: Value| {
        let mut request = client.post(&groups_url).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(name(None, json!({"group": rust_group})).await, 401);
    assert_eq!(
        name(Some(&up.disnaker), json!({"group": rust_group})).await,
        403
    );
    assert_eq!(
        name(Some(&up.operator), json!({"group": "bad name <b>"})).await,
        422
    );
    assert_eq!(
        name(Some(&up.operator), json!({"group": rust_group})).await,
        201
    );
    assert_eq!(
        name(Some(&up.operator), json!({"group": rust_group})).await,
        200,
        "named once"
    );
    let snap = until(
        client,
        up,
        "the Rust group on /ops",
        Duration::from_secs(20),
        |s| group(s, rust_group).is_some(),
    )
    .await;
    let g = group(&snap, rust_group).unwrap();
    assert_eq!(g["source"], "named");
    assert_eq!(g["lag"], 1, "one applicant behind: {g}");
    assert!(
        g["partitions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["topic"] == "lintas.applicants.v1"),
        "shown on the partitions it committed on: {g}"
    );
    // Its status is judged like any other group's: lagging and not moving is not OK for long.
    let snap = until(
        client,
        up,
        "the Rust group stalled",
        Duration::from_secs(60),
        |s| group(s, rust_group).is_some_and(|g| g["status"] != "OK" && g["status"] != "WARN"),
    )
    .await;
    eprintln!("{}", group(&snap, rust_group).unwrap());
    let text = snap.to_string();
    for secret in ["3301011301900001", "3301014501900001", "Budi"] {
        assert!(!text.contains(secret), "{secret} in the snapshot");
    }
}

/// On a broker that lists its groups (tansu, like Kafka) nothing needs naming: `lintas up
/// --brokers` finds an integrator's group by itself, with its lag.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_real_broker_integrators_groups_are_found_without_naming() {
    let broker = Broker::start(2).await;
    let dir = broker.dir.clone();
    let up = start_up(&dir, &["--brokers", &broker.brokers]).await;
    wait_http_ok(&format!("{}/readyz", up.base), Duration::from_secs(60)).await;
    let client = reqwest::Client::new();
    Client::new()
        .publish(
            &format!("{}/v1/applicants", up.base),
            &up.disnaker,
            budi_registration("33.01.08.2001", "Jeruklegi"),
        )
        .await;
    commit_at_start(&broker.brokers, "rust-trial.applicants");
    let snap = until(
        &client,
        &up,
        "the Rust group found on tansu",
        Duration::from_secs(40),
        |s| group(s, "rust-trial.applicants").is_some_and(|g| g["lag"] == 1),
    )
    .await;
    assert_eq!(snap["group_discovery"]["broker_lists_groups"], true);
    let g = group(&snap, "rust-trial.applicants").unwrap();
    assert_eq!(g["source"], "broker");
    assert_eq!(g["members"], 0, "the broker says it has none: {g}");
    let page = client
        .get(format!("{}/ops/app.js", up.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    drop(up.proc);
}
