//! The README's run command: `lintas up` on its embedded default (in-process broker, SQLite,
//! in-process registry) starts, accepts an applicant, shows it in the immigration view, shuts
//! down cleanly on SIGTERM, and keeps its views across a restart.

mod harness;

use std::time::{Duration, Instant};

use harness::*;
use reqwest::Method;
use serde_json::json;

struct Up {
    proc: Proc,
    base: String,
    disnaker: String,
    imigrasi: String,
    operator: String,
    /// The registry's read credential the banner printed.
    registry_read: String,
}

async fn start_up(dir: &std::path::PathBuf) -> Up {
    let run = EmbeddedRun::start(dir, &[]).await;
    assert!(
        run.banner.contains("EPHEMERAL"),
        "the embedded broker must be labelled ephemeral"
    );
    // The harness hands every command a registry credential in the environment: the run
    // prints only what it generated.
    let (_, env_password) = REGISTRY_READ.split_once(':').unwrap();
    assert!(!run.banner.contains(env_password), "{}", run.banner);
    Up {
        registry_read: run.field("registry read"),
        operator: run.field("token operator"),
        disnaker: run.field("token disnaker"),
        imigrasi: run.field("token imigrasi"),
        base: run.base,
        proc: run.proc,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_run_serves_the_whole_flow() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("up-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut up = start_up(&dir).await;
    wait_http_ok(&format!("{}/readyz", up.base), Duration::from_secs(60)).await;
    let client = Client::new();
    let subjects_url = format!("{}/registry/subjects", up.base);
    let (anonymous, _) = client.call(Method::GET, &subjects_url, None, None).await;
    assert_eq!(anonymous, 401, "the registry needs credentials");
    let (user, password) = up.registry_read.split_once(':').unwrap();
    let subjects: Vec<String> = client
        .http
        .get(&subjects_url)
        .basic_auth(user, Some(password))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        subjects.contains(&"lintas.applicants.v1-lintas.events.ApplicantRegistered".to_string()),
        "{subjects:?}"
    );
    let (write, _, _) = client
        .send(
            client
                .http
                .post(format!("{subjects_url}/anything/versions"))
                .basic_auth(user, Some(password))
                .json(&json!({"schema": "\"string\""})),
        )
        .await;
    assert_eq!(write, 403, "the printed credential only reads");

    let body = budi_registration("33.01.08.2001", "Jeruklegi");
    let first_registration = |base: &str, disnaker: &str| {
        client
            .http
            .post(format!("{base}/v1/applicants"))
            .bearer_auth(disnaker)
            .header("Idempotency-Key", "first-registration")
            .json(&body)
    };
    let (status, _, accepted) = client
        .send(first_registration(&up.base, &up.disnaker))
        .await;
    assert_eq!(status, 202, "{accepted}");
    let subject = accepted["subject_key"]
        .as_str()
        .expect("202 with subject key")
        .to_string();
    let view = format!("{}/v1/agencies/imigrasi/subjects/{subject}", up.base);
    let history = client
        .wait_for(
            &view,
            &up.imigrasi,
            Duration::from_secs(30),
            "the history",
            |_| true,
        )
        .await;
    assert_eq!(history["events"][0]["event_id"], accepted["event_id"]);

    // The operators' dashboard at the same base URL, counting that event on its topic and
    // watching the subscribers of the embedded run; its data only with the operator token
    // the banner printed.
    let (status, page) = client
        .call(Method::GET, &format!("{}/ops", up.base), None, None)
        .await;
    assert_eq!(status, 200);
    assert!(page
        .as_str()
        .is_some_and(|page| page.contains("Pemantauan Operasional")));
    let snapshot = format!("{}/ops/api/snapshot", up.base);
    let (anonymous, _) = client.call(Method::GET, &snapshot, None, None).await;
    assert_eq!(anonymous, 401);
    let (agency, _) = client.get(&snapshot, &up.imigrasi).await;
    assert_eq!(agency, 403);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, snapshot) = client.get(&snapshot, &up.operator).await;
        let groups: Vec<&str> = snapshot["groups"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|g| g["status"] == "OK")
            .map(|g| g["group"].as_str().unwrap())
            .collect();
        let counted = snapshot["throughput"]["minutes"]["series"]["topic:lintas.applicants.v1"]
            .as_array()
            .is_some_and(|v| v.iter().any(|r| r.as_f64().unwrap() > 0.0));
        if groups == ["desa", "disnaker", "imigrasi", "kejaksaan", "polri"] && counted {
            break;
        }
        assert!(Instant::now() < deadline, "dashboard snapshot: {snapshot}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // SIGTERM: a clean exit, and a quiet one: no client left talking to the embedded broker
    // after it is gone (librdkafka's AllBrokersDown), no error logged.
    let logged_before = std::fs::read(&up.proc.log).unwrap().len();
    let status = up.proc.terminate();
    assert!(
        status.success(),
        "lintas up exited with {status} on SIGTERM"
    );
    let log = std::fs::read(&up.proc.log).unwrap();
    let stopping = String::from_utf8_lossy(&log[logged_before..]);
    assert!(
        !stopping.contains("AllBrokersDown")
            && !stopping.contains("ERROR")
            && !stopping.contains("brokers are down"),
        "a clean stop logs no error:\n{stopping}"
    );

    // Restart on the same data directory: the views are still there, and a new event about
    // the same person is applied (the new ephemeral broker starts at offset 0 again).
    let up = start_up(&dir).await;
    wait_http_ok(&format!("{}/readyz", up.base), Duration::from_secs(60)).await;
    let view = format!("{}/v1/agencies/imigrasi/subjects/{subject}", up.base);
    let kept = client
        .wait_for(
            &view,
            &up.imigrasi,
            Duration::from_secs(30),
            "the history",
            |_| true,
        )
        .await;
    assert_eq!(kept["events"].as_array().unwrap().len(), 1);
    // The last run's Idempotency-Key answers point at a log this broker does not hold: the
    // same key is published again, not answered from memory with nothing on the feed.
    let (again, headers, _) = client
        .send(first_registration(&up.base, &up.disnaker))
        .await;
    assert_eq!(again, 202);
    assert!(
        headers.get("idempotent-replayed").is_none(),
        "a key of the previous run was answered from memory, and nothing was published"
    );
    client
        .publish(
            &format!("{}/v1/applicants", up.base),
            &up.disnaker,
            body.clone(),
        )
        .await;
    client
        .wait_for(
            &view,
            &up.imigrasi,
            Duration::from_secs(60),
            "the event after restart",
            |now| now["events"].as_array().unwrap().len() == 2,
        )
        .await;
}
