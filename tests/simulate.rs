//! `lintas simulate` against the real intake on tansu and PostgreSQL: every generated request
//! is accepted (202); running the same seed again replays the idempotency keys, answers 202
//! again and publishes nothing new; `--dry-run` prints the same requests every time.

mod harness;

use std::process::Output;

use harness::*;
use time::format_description::well_known::Rfc3339;

const TOPICS: [&str; 5] = [
    "lintas.applicants.v1",
    "lintas.screening.v1",
    "lintas.departures.v1",
    "lintas.cases.v1",
    "lintas.alerts.imigrasi.v1",
];

fn records(brokers: &str) -> Vec<i64> {
    TOPICS.iter().map(|t| records_in(brokers, t)).collect()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The closing line `sent N, accepted A, refused R, retried T in S s`.
fn summary(output: &Output) -> String {
    let stdout = text(&output.stdout);
    stdout
        .lines()
        .rev()
        .find(|l| l.starts_with("sent "))
        .unwrap_or_else(|| {
            panic!(
                "no summary line\nstdout:\n{stdout}\nstderr:\n{}",
                text(&output.stderr)
            )
        })
        .to_string()
}

/// The start of today in WIB, the command's default end, fixed once so that both runs of a
/// test see the same requests even across midnight.
fn end() -> String {
    lintas_simulate::Settings::start_of_day_wib(time::OffsetDateTime::now_utc())
        .format(&Rfc3339)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulated_feed_is_accepted_and_a_replay_publishes_nothing() {
    let stack = Stack::start(3).await;
    let (broker, _, _, intake) = stack.parts();
    let tokens = tokens_spec();
    let end = end();
    // Three days of one regency at 120 requests a day: at least 150 requests whatever the
    // weekday (offices close at weekends; checkpoints do not).
    let args = [
        "simulate",
        "--intake-url",
        &intake.url,
        "--tokens",
        &tokens,
        "--seed",
        "7",
        "--days",
        "3",
        "--per-day",
        "120",
        "--count",
        "150",
        "--end",
        &end,
    ];

    let before = records(&broker.brokers);
    let first = lintas(&args).output().unwrap();
    assert!(
        first.status.success(),
        "first run failed\nstdout:\n{}\nstderr:\n{}",
        text(&first.stdout),
        text(&first.stderr)
    );
    let line = summary(&first);
    eprintln!("first run:  {line}");
    assert!(
        line.starts_with("sent 150, accepted 150, refused 0, "),
        "{line}\nstderr:\n{}",
        text(&first.stderr)
    );
    let after_first = records(&broker.brokers);
    let published: i64 = after_first.iter().sum::<i64>() - before.iter().sum::<i64>();
    // Group checks publish one event per traveller and flagged interviews two.
    assert!(published >= 150, "{published} events for 150 requests");
    for (topic, (b, a)) in TOPICS.iter().zip(before.iter().zip(&after_first)).take(4) {
        assert!(a > b, "nothing published on {topic}");
    }

    let second = lintas(&args).output().unwrap();
    assert!(
        second.status.success(),
        "second run failed\nstdout:\n{}\nstderr:\n{}",
        text(&second.stdout),
        text(&second.stderr)
    );
    let line = summary(&second);
    eprintln!("second run: {line}");
    assert!(
        line.starts_with("sent 150, accepted 150, refused 0, "),
        "{line}"
    );
    assert!(
        text(&second.stderr).contains("150 of the accepted were replays"),
        "{}",
        text(&second.stderr)
    );
    assert_eq!(
        records(&broker.brokers),
        after_first,
        "the replay published new records"
    );
    drop(stack);
}

#[test]
fn dry_run_prints_the_same_requests_every_time() {
    let end = end();
    let args = [
        "simulate",
        "--dry-run",
        "--seed",
        "7",
        "--days",
        "3",
        "--end",
        &end,
    ];
    let first = lintas(&args).output().unwrap();
    let second = lintas(&args).output().unwrap();
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(second.status.success(), "{}", text(&second.stderr));
    let lines: Vec<serde_json::Value> = text(&first.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.len() > 30, "{} requests in three days", lines.len());
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line["idempotency_key"], format!("sim-7-{}", i + 1));
        assert!(line["body"].is_object() && line["path"].is_string());
    }
    assert_eq!(first.stdout, second.stdout);

    // Another seed, another feed; no --end, the default.
    let other = lintas(&["simulate", "--dry-run", "--seed", "8", "--days", "3"])
        .output()
        .unwrap();
    assert!(other.status.success());
    assert_ne!(other.stdout, first.stdout);
}
