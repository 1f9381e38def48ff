//! `lintas simulate`: drives the intake APIs with the synthetic feed of `lintas-simulate`, a
//! reproducible model of one regency. Requests go one at a time in event-time order, each
//! with its idempotency key, so a second run with the same seed (on the same day, or with
//! the same `--end`) publishes nothing new.

use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use lintas_simulate::send::{Sender, TokenBook};
use lintas_simulate::{Scenario, Settings, SimRequest};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Attempts of one request answered 503 before it counts as refused.
const MAX_UNAVAILABLE: u32 = 30;
/// Attempts of one request the intake did not answer at all before the run stops.
const MAX_TRANSPORT_FAILURES: u32 = 5;

#[derive(Args, Debug)]
pub struct SimulateArgs {
    /// Base URL of the intakes, for example http://127.0.0.1:8080.
    #[arg(
        long,
        env = "LINTAS_INTAKE_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub intake_url: String,
    /// Caller tokens, `token=agency:OFFICE,...`: the first token of each agency is used; for
    /// checkpoint calls the office of the checkpoint, else any `TPI-` office. Not needed with
    /// --dry-run.
    #[arg(long, env = "LINTAS_TOKENS", hide_env_values = true)]
    pub tokens: Option<String>,
    /// Seed of the model: the same seed and settings give the same requests.
    #[arg(long, env = "LINTAS_SIM_SEED", default_value_t = 1)]
    pub seed: u64,
    /// Simulated days, ending at --end.
    #[arg(long, env = "LINTAS_SIM_DAYS", default_value_t = 7)]
    pub days: u32,
    /// Average requests per simulated day (one regency: tens).
    #[arg(long, env = "LINTAS_SIM_PER_DAY", default_value_t = 40)]
    pub per_day: u32,
    /// Requests per second; 0 sends as fast as the intake answers.
    #[arg(long, env = "LINTAS_SIM_RATE", default_value_t = 0.0)]
    pub rate: f64,
    /// Stop after this many requests.
    #[arg(long, env = "LINTAS_SIM_COUNT")]
    pub count: Option<u64>,
    /// End of the simulated period (RFC 3339, within the last 24 hours); default: today
    /// 00:00 WIB, so that every run of one day sends the same requests.
    #[arg(long, env = "LINTAS_SIM_END")]
    pub end: Option<String>,
    /// Print the requests as JSON lines on stdout instead of sending them.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Default)]
struct Counts {
    sent: u64,
    accepted: u64,
    replayed: u64,
    client_errors: u64,
    server_errors: u64,
    retried: u64,
}

impl Counts {
    fn refused(&self) -> u64 {
        self.client_errors + self.server_errors
    }

    fn message(&self) -> String {
        format!(
            "202 {}  4xx {}  5xx {}  retried {}",
            self.accepted, self.client_errors, self.server_errors, self.retried
        )
    }
}

pub async fn run(args: SimulateArgs) -> anyhow::Result<()> {
    let end = end(args.end.as_deref())?;
    let settings = Settings {
        days: args.days,
        per_day: args.per_day,
        ..Settings::new(end)
    };
    let requests = Scenario::new(args.seed, settings).take(args.count.unwrap_or(u64::MAX) as usize);

    if args.dry_run {
        use std::io::Write;
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        let mut n = 0;
        for request in requests {
            writeln!(out, "{}", request.to_json())?;
            n += 1;
        }
        out.flush()?;
        eprintln!("dry run: {n} requests, nothing sent");
        return Ok(());
    }

    let spec = args
        .tokens
        .context("--tokens (or LINTAS_TOKENS) is needed to send; use --dry-run to print")?;
    let book = TokenBook::parse(&spec).map_err(|e| anyhow::anyhow!("--tokens: {e}"))?;
    let missing = book.missing(lintas_simulate::AGENCIES);
    anyhow::ensure!(
        missing.is_empty(),
        "--tokens has no token for {}; the simulation sends as {}",
        join(&missing),
        join(lintas_simulate::AGENCIES)
    );
    let sender = Sender::new(&args.intake_url, book)?;

    let progress = ProgressBar::with_draw_target(args.count, ProgressDrawTarget::stderr());
    let template = match args.count {
        Some(_) => "{spinner} {pos}/{len} requests  {per_sec}  {msg}  [{elapsed_precise}]",
        None => "{spinner} {pos} requests  {per_sec}  {msg}  [{elapsed_precise}]",
    };
    progress.set_style(ProgressStyle::with_template(template).expect("valid template"));
    progress.enable_steady_tick(Duration::from_millis(200));
    let mut ticker = (args.rate > 0.0).then(|| {
        let mut interval = tokio::time::interval(Duration::from_secs_f64(1.0 / args.rate));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        interval
    });

    let started = Instant::now();
    let mut counts = Counts::default();
    for request in requests {
        if let Some(ticker) = ticker.as_mut() {
            ticker.tick().await;
        }
        counts.sent += 1;
        send(&sender, &request, &mut counts, &progress).await?;
        progress.inc(1);
        progress.set_message(counts.message());
    }
    progress.finish_and_clear();

    println!(
        "sent {}, accepted {}, refused {}, retried {} in {:.1} s",
        counts.sent,
        counts.accepted,
        counts.refused(),
        counts.retried,
        started.elapsed().as_secs_f64()
    );
    if counts.replayed > 0 {
        eprintln!(
            "{} of the accepted were replays of earlier answers (same idempotency keys)",
            counts.replayed
        );
    }
    anyhow::ensure!(
        counts.refused() == 0,
        "{} requests refused ({} 4xx, {} 5xx): the generator and the intake disagree",
        counts.refused(),
        counts.client_errors,
        counts.server_errors
    );
    Ok(())
}

/// One request until it is answered: 503 is retried with the same key after Retry-After
/// seconds; other refusals are counted and printed.
async fn send(
    sender: &Sender,
    request: &SimRequest,
    counts: &mut Counts,
    progress: &ProgressBar,
) -> anyhow::Result<()> {
    let (mut unavailable, mut transport) = (0, 0);
    loop {
        match sender.post(request).await {
            Ok(answer) if answer.status == 202 => {
                counts.accepted += 1;
                counts.replayed += u64::from(answer.replayed);
                return Ok(());
            }
            Ok(answer) if answer.status == 503 && unavailable < MAX_UNAVAILABLE => {
                unavailable += 1;
                counts.retried += 1;
                let wait = answer.retry_after.unwrap_or(5);
                progress.set_message(format!("{}  (503, retrying in {wait} s)", counts.message()));
                tokio::time::sleep(Duration::from_secs(wait)).await;
            }
            Ok(answer) => {
                if answer.status < 500 {
                    counts.client_errors += 1;
                } else {
                    counts.server_errors += 1;
                }
                progress.suspend(|| {
                    eprintln!(
                        "{} {} ({}): {}\n  request: {}",
                        answer.status,
                        request.path,
                        request.idempotency_key,
                        answer.body,
                        request.body
                    )
                });
                return Ok(());
            }
            Err(e) if transport < MAX_TRANSPORT_FAILURES => {
                transport += 1;
                counts.retried += 1;
                progress.suspend(|| eprintln!("{} failed ({e}); retrying", request.path));
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(e) => {
                return Err(anyhow::anyhow!(
                    "the intake at {} does not answer: {e}",
                    sender.base_url()
                ))
            }
        }
    }
}

/// `--end`, or the start of today in WIB; never in the future, and recent enough that the
/// due dates set from it are still in the future for the intake.
fn end(arg: Option<&str>) -> anyhow::Result<OffsetDateTime> {
    let now = OffsetDateTime::now_utc();
    let end = match arg {
        None => return Ok(Settings::start_of_day_wib(now)),
        Some(text) => OffsetDateTime::parse(text, &Rfc3339)
            .with_context(|| format!("--end `{text}` is not an RFC 3339 time"))?,
    };
    anyhow::ensure!(end <= now, "--end must not be in the future");
    anyhow::ensure!(
        now - end <= time::Duration::days(1),
        "--end must be within the last 24 hours (the intake refuses due dates in the past)"
    );
    Ok(end)
}

fn join(agencies: &[lintas_kit::events::Agency]) -> String {
    agencies
        .iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
