//! `lintas`: every Lintas service as a subcommand, `lintas up` for all of them in one
//! process, and the tools around them. The embedded run and the distributed run are the same
//! code.
#![forbid(unsafe_code)]

mod cmd;
mod settings;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "lintas",
    version,
    about = "Lintas: the inter-agency event backbone"
)]
struct Cli {
    /// Log as JSON lines (for log shippers) instead of text.
    #[arg(long, global = true, env = "LINTAS_LOG_JSON")]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Everything in one process: broker (embedded, ephemeral, unless --brokers), registry,
    /// intakes, the five agency subscribers and the operators' dashboard, on SQLite unless
    /// --database-url.
    Up(cmd::up::UpArgs),
    /// The schema registry (Confluent REST API).
    Registry(cmd::registry::RegistryArgs),
    /// The intakes (publishers): Disnaker, immigration office, checkpoint and referral
    /// endpoints, one of them or all; each validates agency input and publishes events.
    Intake(cmd::intake::IntakeArgs),
    /// An agency subscriber.
    Subscriber(cmd::subscriber::SubscriberArgs),
    /// Create the feed's topics on a broker.
    Topics(cmd::topics::TopicsArgs),
    /// What is on the feed: event types, topics, keys and fields (personal data and
    /// encrypted fields marked), from this build's contract; `--json` for tools.
    Events(cmd::events::EventsArgs),
    /// What this build is made of, from the code itself: topics, events and their keys,
    /// subscribers, intake endpoints, headers and every command's environment variables;
    /// `--json` for the deployment and contract checks.
    Describe(cmd::describe::DescribeArgs),
    /// Benchmark: raw consume rate against the immigration subscriber's apply rate.
    Bench(cmd::bench::BenchArgs),
    /// Scaffolding: `lintas new subscriber NAME` creates a subscriber crate.
    New(cmd::new::NewArgs),
    /// The operators' dashboard and consumer-group monitor.
    Ops(cmd::ops::OpsArgs),
    /// Synthetic feed: drives the intake APIs with a realistic, reproducible mix.
    Simulate(cmd::simulate::SimulateArgs),
    /// The audit chain of personal-data reads: `lintas audit verify`.
    Audit(cmd::audit::AuditArgs),
    /// Data-encryption keys of personal data: list, rotate, shred after retention.
    Keys(cmd::keys::KeysArgs),
    /// A subscriber's dead letters: list, show, redrive (applied once, in that subscriber
    /// only), discard (with a reason, on record).
    DeadLetters(cmd::dead_letters::DeadLettersArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        // Its standard output is the answer (JSON for scripts): logs go to standard error.
        Command::DeadLetters(_) => lintas_kit::telemetry::init_tool_logging(cli.log_json),
        _ => lintas_kit::telemetry::init_logging(cli.log_json),
    }
    match cli.command {
        Command::Up(args) => cmd::up::run(args).await,
        Command::Registry(args) => cmd::registry::run(args).await,
        Command::Intake(args) => cmd::intake::run(args).await,
        Command::Subscriber(args) => cmd::subscriber::run(args).await,
        Command::Topics(args) => cmd::topics::run(args).await,
        Command::Events(args) => cmd::events::run(args).await,
        Command::Describe(args) => cmd::describe::run(args).await,
        Command::Bench(args) => cmd::bench::run(args).await,
        Command::Simulate(args) => cmd::simulate::run(args).await,
        Command::New(args) => cmd::new::run(args).await,
        Command::Ops(args) => cmd::ops::run(args).await,
        Command::Audit(args) => cmd::audit::run(args).await,
        Command::Keys(args) => cmd::keys::run(args).await,
        Command::DeadLetters(args) => cmd::dead_letters::run(args).await,
    }
}

#[cfg(test)]
mod runbook {
    use clap::error::ErrorKind;
    use clap::CommandFactory;

    /// Every `lintas …` command line in `deploy/RUNBOOK.md` exists with those arguments:
    /// this binary's parser accepts it. Arguments the deployment supplies through its
    /// environment (brokers, registry, database) may be missing; an unknown subcommand, flag
    /// or value fails.
    #[test]
    fn runbook_commands_exist() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/RUNBOOK.md");
        let runbook = std::fs::read_to_string(path).expect("deploy/RUNBOOK.md");
        let lines: Vec<&str> = runbook
            .lines()
            .map(str::trim)
            .filter(|line| line.starts_with("lintas "))
            .collect();
        assert!(lines.len() >= 5, "the runbook's commands: {lines:?}");
        for line in lines {
            let words = line.split_whitespace();
            match super::Cli::command().try_get_matches_from(words) {
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::MissingRequiredArgument => {}
                Err(e) => panic!("deploy/RUNBOOK.md: `{line}` does not parse: {e}"),
            }
        }
    }
}
