//! A service's own Kafka principal from configuration. What an operator notices: the
//! password is read from a file (never a flag or LINTAS_KAFKA_PROPERTIES, which would put it
//! in the process list or the environment), the service logs which principal, protocol and
//! mechanism it connects with, and the password appears in none of its output; a half-done
//! configuration is refused at start with the setting named.
//!
//! (tansu, the tests' broker, enforces neither SASL nor ACLs: that the principals' ACLs are
//! exactly what each service reads and writes is checked by deploy/kubernetes/validate.py.)

mod harness;

use std::time::{Duration, Instant};

use harness::*;

const PASSWORD: &str = "kafka-password-never-printed-7f3a";

fn ops_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "ops",
        // Nothing listens there: the clients retry and log, which is what is read below.
        "--brokers",
        "127.0.0.1:9",
        "--schema-registry-url",
        "http://127.0.0.1:9",
        "--listen",
        "127.0.0.1:0",
        "--metrics-listen",
        "127.0.0.1:0",
        "--tokens",
        "operator-token-0000000000001=other:OPS:operator",
    ];
    args.extend_from_slice(extra);
    args
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_password_comes_from_a_file_and_is_never_printed() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("kafka-principal-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let password_file = dir.join("password");
    std::fs::write(&password_file, format!("{PASSWORD}\n")).unwrap();
    let file = password_file.to_str().unwrap();

    let mut command = lintas(&ops_args(&[
        "--kafka-security-protocol",
        "sasl_plaintext",
        "--kafka-username",
        "lintas-ops",
        "--kafka-password-file",
        file,
    ]));
    command.env("RUST_LOG", "debug");
    let proc = Proc::spawn("ops", command, &dir);
    let deadline = Instant::now() + Duration::from_secs(20);
    let log = loop {
        let log = std::fs::read_to_string(&proc.log).unwrap_or_default();
        if log.contains("Kafka client") && log.contains("operators' dashboard") {
            break log;
        }
        assert!(Instant::now() < deadline, "no start-up lines:\n{log}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // Give the clients time to try the broker and log about it.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let log = std::fs::read_to_string(&proc.log).unwrap_or(log);
    let line = log.lines().find(|l| l.contains("Kafka client")).unwrap();
    for said in ["lintas-ops", "sasl_plaintext", "SCRAM-SHA-512"] {
        assert!(
            line.contains(said),
            "the start-up line names {said}: {line}"
        );
    }
    assert!(
        !log.contains(PASSWORD),
        "the Kafka password is in the service's output:\n{log}"
    );
    drop(proc);

    // The password as a property, a missing password file, a user without SASL: refused at
    // start, naming the setting, and the value is not echoed.
    let cases: [(&[&str], &str); 3] = [
        (
            &[
                "--kafka-property",
                "sasl.password=kafka-password-never-printed-7f3a",
            ],
            "LINTAS_KAFKA_PASSWORD_FILE",
        ),
        (
            &[
                "--kafka-security-protocol",
                "sasl_ssl",
                "--kafka-username",
                "lintas-ops",
            ],
            "LINTAS_KAFKA_PASSWORD_FILE",
        ),
        (
            &[
                "--kafka-username",
                "lintas-ops",
                "--kafka-password-file",
                file,
            ],
            "LINTAS_KAFKA_SECURITY_PROTOCOL",
        ),
    ];
    for (extra, named) in cases {
        let output = lintas(&ops_args(extra)).output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(!output.status.success(), "{extra:?} was accepted:\n{text}");
        assert!(
            text.contains(named),
            "{extra:?}: {named} not named:\n{text}"
        );
        assert!(
            !text.contains(PASSWORD),
            "{extra:?}: the value is echoed:\n{text}"
        );
    }
}
