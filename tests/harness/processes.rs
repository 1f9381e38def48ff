//! The processes of a test: the `lintas` binary and its services (registry, intakes,
//! subscribers), each a child killed when dropped, with its log printed when the test fails.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::credentials::*;

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{name}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A child process killed (SIGKILL) when dropped; its output goes to a log file that the
/// test prints when it fails.
pub struct Proc {
    pub child: Child,
    pub log: PathBuf,
    pub name: String,
}

impl Proc {
    pub fn spawn(name: &str, mut command: Command, dir: &PathBuf) -> Proc {
        let log = dir.join(format!("{name}-{}.log", uuid::Uuid::new_v4().simple()));
        let file = std::fs::File::create(&log).unwrap();
        command
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .stdin(Stdio::null())
            .current_dir(dir);
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Proc {
            child,
            log,
            name: name.into(),
        }
    }

    /// SIGKILL, as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM and wait, as an orchestrator would.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        self.child.wait().unwrap()
    }

    pub fn tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!(
                "---- last lines of {} ({}) ----\n{}",
                self.name,
                self.log.display(),
                self.tail()
            );
        }
    }
}

pub fn lintas(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lintas"));
    command
        .args(args)
        .env(
            "RUST_LOG",
            std::env::var("LINTAS_TEST_LOG").unwrap_or_else(|_| "info,librdkafka=warn".into()),
        )
        .env("LINTAS_REGISTRY_USER_INFO", REGISTRY_READ);
    command
}

pub struct Registry {
    pub proc: Proc,
    pub url: String,
}

pub async fn start_registry(database_url: &str, dir: &PathBuf) -> Registry {
    start_registry_on(database_url, dir, free_port()).await
}

pub async fn start_registry_on(database_url: &str, dir: &PathBuf, port: u16) -> Registry {
    let listen = format!("127.0.0.1:{port}");
    let users = dir.join(format!("registry-users-{port}"));
    std::fs::write(&users, registry_users()).unwrap();
    let proc = Proc::spawn(
        "registry",
        lintas(&[
            "registry",
            "--database-url",
            database_url,
            "--listen",
            &listen,
            "--users-file",
            users.to_str().unwrap(),
        ]),
        dir,
    );
    let url = format!("http://{listen}");
    wait_http_ok(&format!("{url}/readyz"), Duration::from_secs(60)).await;
    // The deploy step: the publishers' write credential registers the whole contract, so
    // that subscribers (read role) find the ids of what they publish.
    codec(&url, &lintas_kit::events::keks::ALL)
        .register_all()
        .await
        .expect("the contract registers");
    Registry { proc, url }
}

pub struct Service {
    pub proc: Proc,
    pub url: String,
}

pub async fn start_intake(
    brokers: &str,
    registry: &str,
    database_url: &str,
    dir: &PathBuf,
) -> Service {
    start_intake_on(brokers, registry, database_url, dir, free_port()).await
}

pub async fn start_intake_on(
    brokers: &str,
    registry: &str,
    database_url: &str,
    dir: &PathBuf,
    port: u16,
) -> Service {
    start_intake_with(brokers, registry, database_url, dir, port, &[]).await
}

/// The intakes with `extra` flags.
pub async fn start_intake_with(
    brokers: &str,
    registry: &str,
    database_url: &str,
    dir: &PathBuf,
    port: u16,
    extra: &[&str],
) -> Service {
    let listen = format!("127.0.0.1:{port}");
    let mut args = vec![
        "intake",
        "all",
        "--brokers",
        brokers,
        "--schema-registry-url",
        registry,
        "--database-url",
        database_url,
        "--listen",
        &listen,
    ];
    args.extend_from_slice(extra);
    let mut command = lintas(&args);
    command
        .env("LINTAS_REGISTRY_USER_INFO", REGISTRY_WRITE)
        .env("LINTAS_TOKENS", tokens_spec())
        .env("LINTAS_DISNAKER_REGENCY", "33.01")
        .env("LINTAS_SUBJECT_KEY_SECRET", SECRET)
        .env(
            "LINTAS_KEK_SECRETS",
            kek_secrets(&lintas_kit::events::keks::ALL),
        );
    let proc = Proc::spawn("intake", command, dir);
    let url = format!("http://{listen}");
    wait_http_ok(&format!("{url}/readyz"), Duration::from_secs(60)).await;
    Service { proc, url }
}

/// The immigration subscriber as its own process.
pub fn spawn_imigrasi(
    brokers: &str,
    registry: &str,
    database_url: &str,
    dir: &PathBuf,
    extra: &[&str],
) -> Service {
    spawn_subscriber("imigrasi", brokers, registry, database_url, dir, extra)
}

/// The village early-warning subscriber as its own process.
pub fn spawn_desa(brokers: &str, registry: &str, database_url: &str, dir: &PathBuf) -> Service {
    spawn_subscriber("desa", brokers, registry, database_url, dir, &[])
}

/// `lintas subscriber <agency>` as its own process, with a short session timeout unless
/// `extra` sets one.
pub fn spawn_subscriber(
    agency: &str,
    brokers: &str,
    registry: &str,
    database_url: &str,
    dir: &PathBuf,
    extra: &[&str],
) -> Service {
    let listen = format!("127.0.0.1:{}", free_port());
    let mut args = vec![
        "subscriber",
        agency,
        "--brokers",
        brokers,
        "--schema-registry-url",
        registry,
        "--database-url",
        database_url,
        "--listen",
        &listen,
    ];
    if !extra.contains(&"--session-timeout-ms") {
        args.extend_from_slice(&["--session-timeout-ms", "6000"]);
    }
    args.extend_from_slice(extra);
    let mut command = lintas(&args);
    command
        .env("LINTAS_TOKENS", tokens_spec())
        .env("LINTAS_DISNAKER_REGENCY", "33.01")
        .env("LINTAS_KEK_SECRETS", kek_secrets(keks_of(agency)));
    let proc = Proc::spawn(agency, command, dir);
    Service {
        proc,
        url: format!("http://{listen}"),
    }
}

pub async fn wait_http_ok(url: &str, timeout: Duration) {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Ok(r) = client.get(url).send().await {
            if r.status().is_success() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{url} did not answer 200 within {timeout:?}");
}
