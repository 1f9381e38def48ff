//! `lintas new subscriber NAME` writes a crate that compiles offline and whose tests pass, on
//! its own (a workspace of its own, its own Cargo.lock, the kit by a relative path or git tag),
//! and which, run as the guide says against the embedded run (`lintas up`), consumes its feed
//! and serves its authenticated route: what an integrator following the guide gets.

mod harness;

use std::path::PathBuf;
use std::process::Command;

/// A crate made by `lintas new subscriber`, built and tested offline, then run against the
/// embedded run: each claim below, in order, on the one crate (its build is the slow part).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaffolded_subscriber_builds_passes_its_tests_and_consumes_the_embedded_feed() {
    let dir = scratch("scaffold");
    let root = make(&dir, "village_watch");
    the_crate_holds_its_files_and_no_path_of_this_machine(&root, &dir);
    let target = it_builds_and_passes_its_tests_offline(&root);
    it_consumes_the_embedded_feed_and_serves_its_route(&dir, &target).await;
}

/// A fresh folder for one test's crates.
fn scratch(what: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{what}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// This checkout, whose kit the crates take.
fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `lintas new subscriber NAME --dir DIR` from this checkout.
fn new_subscriber(dir: &std::path::Path, name: &str) -> std::process::Output {
    harness::lintas(&["new", "subscriber", name, "--dir", dir.to_str().unwrap()])
        .current_dir(repo())
        .output()
        .unwrap()
}

/// Makes crate `name` under `dir`; returns its folder.
fn make(dir: &std::path::Path, name: &str) -> PathBuf {
    let made = new_subscriber(dir, name);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    dir.join(name)
}

/// A name that is no crate name (`Bad-Name`) is refused, saying it must be lowercase.
#[test]
fn a_bad_name_is_refused() {
    let refused = new_subscriber(&scratch("scaffold-bad"), "Bad-Name");
    assert!(!refused.status.success(), "a bad name must be refused");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("lowercase"));
}

/// Making a crate where one exists fails: an integrator's work is never overwritten.
#[test]
fn an_existing_crate_is_not_overwritten() {
    let dir = scratch("scaffold-again");
    make(&dir, "village_watch");
    let again = new_subscriber(&dir, "village_watch");
    assert!(
        !again.status.success(),
        "an existing crate must not be overwritten"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// The crate holds its manifest, lock file, README, handler, `main`, test and a migration
/// per dialect, named after it, and no file names a folder of the machine that made it.
fn the_crate_holds_its_files_and_no_path_of_this_machine(
    root: &std::path::Path,
    dir: &std::path::Path,
) {
    for file in [
        "Cargo.toml",
        "Cargo.lock",
        "README.md",
        "src/lib.rs",
        "src/main.rs",
        "tests/handler.rs",
        "migrations/postgres/20261127000000_init.sql",
        "migrations/sqlite/20261127000000_init.sql",
    ] {
        assert!(root.join(file).is_file(), "{file} missing");
    }
    no_path_of_this_machine(root, &[&repo(), dir]);
    let lib = std::fs::read_to_string(root.join("src/lib.rs")).unwrap();
    assert!(
        lib.contains("pub const GROUP: &str = \"village_watch\"")
            && lib.contains("VillageWatchHandler")
            && lib.contains("/v1/village_watch/event-types")
    );
}

/// The crate builds and its tests pass (each on SQLite and on PostgreSQL) with the network
/// off, from its own Cargo.lock and cargo's cache of this build, with the versions of the
/// main dependencies Lintas is tested with. Returns the target folder it was built in.
fn it_builds_and_passes_its_tests_offline(root: &std::path::Path) -> PathBuf {
    // Build and test it like its author would, with the network off: its own Cargo.lock and
    // cargo's cache of this build are all it needs.
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    let output = Command::new(option_env!("CARGO").unwrap_or("cargo"))
        .args(["test", "--offline"])
        .current_dir(root)
        .env("CARGO_TARGET_DIR", &target)
        .env("CARGO_NET_OFFLINE", "true")
        .output()
        .unwrap();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "the scaffolded crate does not build or pass offline:\n{log}"
    );
    for test in [
        "test counts_each_event_once_per_subject_and_type::sqlite ... ok",
        "test counts_each_event_once_per_subject_and_type::postgresql ... ok",
        "test the_route_answers_its_agency_only::sqlite ... ok",
        "test the_route_answers_its_agency_only::postgresql ... ok",
    ] {
        assert!(log.contains(test), "{test} did not run:\n{log}");
    }
    assert_same_versions_as_lintas(root);
    target
}

/// The crate's Cargo.lock has the versions of rdkafka, sqlx, tokio and axum this checkout's
/// has.
fn assert_same_versions_as_lintas(root: &std::path::Path) {
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).unwrap();
    let kit_version = |lock: &str, name: &str| {
        lock.split("[[package]]")
            .find(|p| p.contains(&format!("name = \"{name}\"\n")))
            .map(|p| {
                p.lines()
                    .find(|l| l.starts_with("version"))
                    .unwrap()
                    .to_string()
            })
    };
    let ours = std::fs::read_to_string(repo().join("Cargo.lock")).unwrap();
    for dependency in ["rdkafka", "sqlx", "tokio", "axum"] {
        assert_eq!(
            kit_version(&lock, dependency),
            kit_version(&ours, dependency),
            "{dependency}: the scaffolded crate must build with the version Lintas is tested with"
        );
    }
}

/// Run as services/kit/README.md says against `lintas up`, with the registry's read
/// credential only, the crate applies an applicant posted to the intake into exactly the
/// SQLite file its URL names, and its route serves the count to the agency's officer and
/// tells another agency which agency it needs.
async fn it_consumes_the_embedded_feed_and_serves_its_route(
    dir: &PathBuf,
    target: &std::path::Path,
) {
    let up = harness::EmbeddedRun::start(dir, &[]).await;
    let (brokers, registry, registry_read, disnaker) = (
        up.field("broker"),
        up.field("schema registry"),
        up.field("registry read"),
        up.field("token disnaker"),
    );
    let binary = target.join("debug").join("village-watch");
    let watch_port = harness::free_port();
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
        .env("LINTAS_TOKENS", "watch-officer-token-01=imigrasi:KANIM-CILACAP,other-agency-token-01=polri:POLRESTA-CILACAP")
        .env(
            "LINTAS_LISTEN",
            format!("127.0.0.1:{watch_port}"),
        );
    let _subscriber = harness::Proc::spawn("village-watch", command, dir);
    let client = reqwest::Client::new();
    let body = harness::budi_registration("33.01.07.2001", "Maos");
    let accepted = client
        .post(format!("{}/v1/applicants", up.base))
        .bearer_auth(&disnaker)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status().as_u16(), 202);
    sqlx::any::install_default_drivers();
    // The views are in exactly the file the URL names.
    let db = format!("sqlite://{}/vw.db?mode=ro", dir.display());
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

    // Its generated route, live: the agency's officer reads the count, another agency is
    // told which agency the resource needs.
    let route = format!("http://127.0.0.1:{watch_port}/v1/village_watch/event-types");
    let read = |token: &'static str| client.get(&route).bearer_auth(token).send();
    let counts: serde_json::Value = read("watch-officer-token-01")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(counts["event_types"]["ApplicantRegistered"], 1, "{counts}");
    let refused = read("other-agency-token-01").await.unwrap();
    assert_eq!(refused.status().as_u16(), 403);
    let reason: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(reason["error"], "this resource needs an imigrasi token");
    drop(up);
}

/// `--kit-git URL --kit-tag TAG` writes the git form of the kit dependency, for a crate kept
/// in a repository of its own.
#[test]
fn a_scaffold_can_take_the_kit_from_git_at_a_tag() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("scaffold-git-{}", uuid::Uuid::new_v4().simple()));
    let made = harness::lintas(&[
        "new",
        "subscriber",
        "border_watch",
        "--dir",
        dir.to_str().unwrap(),
        "--kit-git",
        "https://git.example.go.id/lintas/lintas.git",
        "--kit-tag",
        "v0.1.0",
    ])
    .output()
    .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let manifest = std::fs::read_to_string(dir.join("border_watch/Cargo.toml")).unwrap();
    assert!(
        manifest.contains(r#"lintas-kit = { git = "https://git.example.go.id/lintas/lintas.git", tag = "v0.1.0" }"#),
        "{manifest}"
    );
    no_path_of_this_machine(&dir.join("border_watch"), &[&dir]);
    std::fs::remove_dir_all(&dir).ok();
}

/// No file of a scaffolded crate names a folder of the machine that made it.
fn no_path_of_this_machine(root: &std::path::Path, folders: &[&std::path::Path]) {
    let folders: Vec<String> = folders
        .iter()
        .map(|f| std::fs::canonicalize(f).unwrap().display().to_string())
        .collect();
    let mut pending = vec![root.to_path_buf()];
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            pending.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for folder in &folders {
            // A relative path (`../../work/lintas/services/kit`) may pass through it; an
            // absolute one may not.
            let absolute = text
                .match_indices(folder.as_str())
                .any(|(at, _)| !text[..at].ends_with(".."));
            assert!(!absolute, "{} names {folder}", path.display());
        }
    }
}
