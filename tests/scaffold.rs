//! `lintas new subscriber NAME` writes a crate that compiles and whose tests pass, on its own
//! (a workspace of its own, the kit by path), as an integrator would use it.

mod harness;

use std::path::PathBuf;
use std::process::Command;

#[test]
fn scaffolded_subscriber_compiles_and_its_tests_pass() {
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
}
