//! `lintas new subscriber NAME` writes a crate that compiles and whose tests pass, on its own
//! (a workspace of its own, the kit by path), and which, run as the guide says against the
//! embedded run (`lintas up`), consumes its feed: what an integrator following the guide gets.

mod harness;

use std::path::PathBuf;
use std::process::Command;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaffolded_subscriber_builds_passes_its_tests_and_consumes_the_embedded_feed() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("scaffold-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");

    let refused = harness::lintas(&[
        "new",
        "subscriber",
        "Bad-Name",
        "--dir",
        dir.to_str().unwrap(),
    ])
    .output()
    .unwrap();
    assert!(!refused.status.success(), "a bad name must be refused");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("lowercase"));

    let made = harness::lintas(&[
        "new",
        "subscriber",
        "village_watch",
        "--dir",
        dir.to_str().unwrap(),
    ])
    .output()
    .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let root = dir.join("village_watch");
    for file in [
        "Cargo.toml",
        "README.md",
        "src/lib.rs",
        "src/main.rs",
        "tests/handler.rs",
        "migrations/postgres/20261127000000_init.sql",
        "migrations/sqlite/20261127000000_init.sql",
    ] {
        assert!(root.join(file).is_file(), "{file} missing");
    }
    let lib = std::fs::read_to_string(root.join("src/lib.rs")).unwrap();
    assert!(
        lib.contains("pub const GROUP: &str = \"village_watch\"")
            && lib.contains("VillageWatchHandler")
    );
    let again = harness::lintas(&[
        "new",
        "subscriber",
        "village_watch",
        "--dir",
        dir.to_str().unwrap(),
    ])
    .output()
    .unwrap();
    assert!(
        !again.status.success(),
        "an existing crate must not be overwritten"
    );

    // Build and test it like its author would, reusing this build's cache and lockfile.
    std::fs::copy(repo.join("Cargo.lock"), root.join("Cargo.lock")).unwrap();
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    let output = Command::new(option_env!("CARGO").unwrap_or("cargo"))
        .args(["test", "--offline"])
        .current_dir(&root)
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .unwrap();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "the scaffolded crate does not build or pass:\n{log}"
    );
    assert!(
        log.contains("test counts_events_per_subject_and_type ... ok"),
        "{log}"
    );

    // Run it against `lintas up`, as services/kit/README.md says, and feed it one applicant.
    let up_port = harness::free_port();
    let up = harness::Proc::spawn(
        "up",
        harness::lintas(&[
            "up",
            "--data-dir",
            dir.join("up-data").to_str().unwrap(),
            "--listen",
            &format!("127.0.0.1:{up_port}"),
        ]),
        &dir,
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    let banner = loop {
        let text = std::fs::read_to_string(&up.log).unwrap_or_default();
        if text.contains("Stop with Ctrl-C.") {
            break text;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "lintas up did not start:\n{text}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let field = |prefix: &str| {
        banner
            .lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix(prefix)
                    .map(|rest| rest.split_whitespace().next().unwrap().to_string())
            })
            .unwrap_or_else(|| panic!("no `{prefix}` in the banner:\n{banner}"))
    };
    let (brokers, registry, registry_read, disnaker) = (
        field("broker"),
        field("schema registry"),
        field("registry read"),
        field("token disnaker"),
    );
    let binary = target.join("debug").join("village-watch");
    let mut command = Command::new(&binary);
    command
        .env("LINTAS_BROKERS", &brokers)
        .env("LINTAS_SCHEMA_REGISTRY_URL", &registry)
        // The read credential the banner printed is all a subscriber needs.
        .env("LINTAS_REGISTRY_USER_INFO", &registry_read)
        .env(
            "LINTAS_DATABASE_URL",
            format!("sqlite://{}/vw.db", dir.display()),
        )
        .env(
            "LINTAS_LISTEN",
            format!("127.0.0.1:{}", harness::free_port()),
        );
    let _subscriber = harness::Proc::spawn("village-watch", command, &dir);
    let client = reqwest::Client::new();
    let body = serde_json::json!({
        "source": "jobseeker_card_ak1", "nik": "3301011301900001", "full_name": "Budi", "sex": "male", "birth_date": "1990-01-13",
        "village": "Maos", "sub_district": "Maos", "regency": "Cilacap", "declared_purpose": "work", "destination_country": "MY", "officer_id": "off-2"
    });
    let accepted = client
        .post(format!("http://127.0.0.1:{up_port}/v1/applicants"))
        .bearer_auth(&disnaker)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status().as_u16(), 202);
    sqlx::any::install_default_drivers();
    let db = format!("sqlite://{}/vw.village_watch.db?mode=rwc", dir.display());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if let Ok(pool) = sqlx::AnyPool::connect(&db).await {
            let seen: Result<i64, _> = sqlx::query_scalar("SELECT COUNT(*) FROM events_seen")
                .fetch_one(&pool)
                .await;
            pool.close().await;
            if seen.is_ok_and(|n| n >= 1) {
                break;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the scaffolded subscriber never applied the embedded run's event"
        );
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    drop(up);
}
