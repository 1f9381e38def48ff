//! `lintas dead-letters list|show|redrive|discard`: what a subscriber could not apply, and an
//! operator's decisions about it (`lintas_kit::dead_letters` describes the mechanism).
//!
//! - `list`: each dead letter of a group with its state: `pending`, `requested` (a request is
//!   on the redrive topic, not yet carried out), `applied`, `failed_again`, `discarded` or
//!   `duplicate` (its record was applied through another dead letter of it);
//! - `show`: one dead letter: its error headers, a hash of its key, its schema id and size,
//!   never its value or its key in clear (personal data);
//! - `redrive`: sends the chosen dead letters back to that group's subscriber only (by
//!   partition and offset range, by error class, or all), each applied at most once;
//! - `discard`: records that an operator dropped a dead letter, and why.
//!
//! States come from the subscriber's own database (`--database-url`, `--schema`), where the
//! runtime records each outcome in the transaction that carries it out.

use std::time::{Duration, Instant};

use clap::{Args, Subcommand, ValueEnum};
use lintas_kit::dead_letters::{self, Action, Decision, State, Summary, Topics};
use lintas_kit::store::Store;
use rdkafka::message::{Message, OwnedMessage};

#[derive(Args, Debug)]
pub struct DeadLettersArgs {
    #[command(subcommand)]
    pub action: DeadLettersAction,
}

/// Where the group's topics and records are.
#[derive(Args, Debug)]
pub struct Target {
    /// The subscriber's consumer group (imigrasi, disnaker, polri, kejaksaan, desa, or your
    /// own subscriber's): its dead letters are `lintas.<group>.dlq`.
    #[arg(long)]
    pub group: String,
    #[arg(long, env = "LINTAS_BROKERS")]
    pub brokers: String,
    #[arg(long, env = "LINTAS_TOPIC_PREFIX", default_value = "")]
    pub topic_prefix: String,
    /// Extra librdkafka properties `key=value` (TLS, SASL).
    #[arg(
        long = "kafka-property",
        env = "LINTAS_KAFKA_PROPERTIES",
        value_delimiter = ','
    )]
    pub kafka_properties: Vec<String>,
    #[command(flatten)]
    pub kafka_auth: lintas_kit::kafka_auth::KafkaAuth,
    /// The subscriber's database, where it records what came of each dead letter. Without
    /// it, states are not shown and `--wait` cannot follow progress.
    #[arg(long, env = "LINTAS_DATABASE_URL")]
    pub database_url: Option<String>,
    /// The subscriber's schema in that database (default: the group's name).
    #[arg(long)]
    pub schema: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum DeadLettersAction {
    /// Every dead letter of a group with its state, and the counts per state.
    List {
        #[command(flatten)]
        target: Target,
        /// Only the dead letters in this state.
        #[arg(long, value_enum)]
        state: Option<Shown>,
        /// One JSON document instead of text.
        #[arg(long)]
        json: bool,
    },
    /// One dead letter: error headers, key hash, schema id, size (never the value).
    Show {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 0)]
        partition: i32,
        #[arg(long)]
        offset: i64,
        #[arg(long)]
        json: bool,
    },
    /// Apply chosen dead letters again, in that group's subscriber only, once each.
    Redrive {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        selection: Selection,
        /// Who decided (recorded with the outcome).
        #[arg(long, env = "LINTAS_OPERATOR")]
        operator: String,
        /// Why (for instance the handler version that now accepts them).
        #[arg(long, default_value = "")]
        reason: String,
        /// Wait up to this many seconds for the subscriber to carry the requests out,
        /// printing its progress (needs --database-url).
        #[arg(long, default_value_t = 0)]
        wait: u64,
    },
    /// Record that an operator dropped a dead letter, and why (auditable).
    Discard {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 0)]
        partition: i32,
        #[arg(long)]
        offset: i64,
        /// Why it is dropped (required).
        #[arg(long)]
        reason: String,
        #[arg(long, env = "LINTAS_OPERATOR")]
        operator: String,
        /// Wait up to this many seconds for the subscriber to record it (needs
        /// --database-url).
        #[arg(long, default_value_t = 0)]
        wait: u64,
    },
}

/// Which dead letters a redrive sends: exactly one of `--all`, `--class`, or `--from-offset`
/// (with `--partition` and, optionally, `--to-offset`).
#[derive(Args, Debug)]
#[group(required = true, multiple = true)]
pub struct Selection {
    /// Every pending dead letter of the group.
    #[arg(long, conflicts_with_all = ["class", "from_offset"])]
    pub all: bool,
    /// The pending dead letters of this error class (`rejected`, `avro`, `framing`, …).
    #[arg(long, conflicts_with = "from_offset")]
    pub class: Option<String>,
    /// The dead-letter topic's partition of the range.
    #[arg(long, requires = "from_offset")]
    pub partition: Option<i32>,
    /// First offset of the range (in the dead-letter topic).
    #[arg(long)]
    pub from_offset: Option<i64>,
    /// Last offset of the range, inclusive (default: the end).
    #[arg(long, requires = "from_offset")]
    pub to_offset: Option<i64>,
}

impl Selection {
    fn matches(&self, summary: &Summary) -> bool {
        if self.all {
            return true;
        }
        if let Some(class) = &self.class {
            return summary.class == *class;
        }
        let Some(from) = self.from_offset else {
            return false;
        };
        summary.partition == self.partition.unwrap_or(0)
            && summary.offset >= from
            && self.to_offset.is_none_or(|to| summary.offset <= to)
    }
}

/// A dead letter's state as `list` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shown {
    Pending,
    Requested,
    Applied,
    FailedAgain,
    Discarded,
    Duplicate,
}

impl Shown {
    fn as_str(self) -> &'static str {
        match self {
            Shown::Pending => "pending",
            Shown::Requested => "requested",
            Shown::Applied => "applied",
            Shown::FailedAgain => "failed_again",
            Shown::Discarded => "discarded",
            Shown::Duplicate => "duplicate",
        }
    }

    fn of(decision: Option<&Decision>, requested: bool) -> Shown {
        match decision.map(|d| d.state) {
            Some(State::Applied) => Shown::Applied,
            Some(State::FailedAgain) => Shown::FailedAgain,
            Some(State::Discarded) => Shown::Discarded,
            Some(State::Duplicate) => Shown::Duplicate,
            None if requested => Shown::Requested,
            None => Shown::Pending,
        }
    }
}

pub async fn run(args: DeadLettersArgs) -> anyhow::Result<()> {
    match args.action {
        DeadLettersAction::List {
            target,
            state,
            json,
        } => list(&Board::load(&target).await?, state, json),
        DeadLettersAction::Show {
            target,
            partition,
            offset,
            json,
        } => show(&Board::load(&target).await?, partition, offset, json),
        DeadLettersAction::Redrive {
            target,
            selection,
            operator,
            reason,
            wait,
        } => {
            let board = Board::load(&target).await?;
            let chosen: Vec<&OwnedMessage> = board
                .letters
                .iter()
                .filter(|m| selection.matches(&Summary::of(*m)))
                .collect();
            let order = Order {
                action: Action::Redrive,
                operator: &operator,
                reason: &reason,
                wait,
            };
            carry_out(&board, &target, chosen, order).await
        }
        DeadLettersAction::Discard {
            target,
            partition,
            offset,
            reason,
            operator,
            wait,
        } => {
            if reason.trim().is_empty() {
                anyhow::bail!("a discard needs a reason (--reason)");
            }
            let board = Board::load(&target).await?;
            let letter = board.find(partition, offset)?;
            let order = Order {
                action: Action::Discard,
                operator: &operator,
                reason: &reason,
                wait,
            };
            carry_out(&board, &target, vec![letter], order).await
        }
    }
}

/// The group's dead letters, the requests made for them and, with a database, what came of
/// them.
struct Board {
    topics: Topics,
    letters: Vec<OwnedMessage>,
    requested: std::collections::HashSet<(i32, i64)>,
    store: Option<Store>,
    decisions: std::collections::HashMap<(i32, i64), Decision>,
}

impl Board {
    async fn load(target: &Target) -> anyhow::Result<Board> {
        if operator_blank(&target.group) {
            anyhow::bail!("--group must name a consumer group");
        }
        let extra = lintas_kit::kafka_auth::client_properties(
            &target.kafka_auth,
            crate::settings::kafka_properties(&target.kafka_properties)?,
        )?;
        let topics = Topics::new(&target.brokers, extra, &target.topic_prefix, &target.group);
        let reader = topics.clone();
        let (letters, requests) = tokio::task::spawn_blocking(move || {
            anyhow::Ok((reader.dead_letters()?, reader.requests()?))
        })
        .await??;
        let requested = requests
            .iter()
            .map(|(_, r)| (r.dlq_partition, r.dlq_offset))
            .collect();
        let store = match &target.database_url {
            Some(url) => {
                let schema = target
                    .schema
                    .clone()
                    .unwrap_or_else(|| target.group.clone());
                Some(Store::connect(url, &schema).await?)
            }
            None => None,
        };
        let mut board = Board {
            topics,
            letters,
            requested,
            store,
            decisions: Default::default(),
        };
        board.refresh().await?;
        Ok(board)
    }

    async fn refresh(&mut self) -> anyhow::Result<()> {
        if let Some(store) = &self.store {
            self.decisions = dead_letters::decisions(store, &self.topics.group).await?;
        }
        Ok(())
    }

    fn state(&self, m: &OwnedMessage) -> Shown {
        let at = (m.partition(), m.offset());
        Shown::of(self.decisions.get(&at), self.requested.contains(&at))
    }

    fn find(&self, partition: i32, offset: i64) -> anyhow::Result<&OwnedMessage> {
        self.letters
            .iter()
            .find(|m| m.partition() == partition && m.offset() == offset)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "no dead letter at {}[{partition}]@{offset}",
                    self.topics.dead_letter_topic
                )
            })
    }
}

fn operator_blank(s: &str) -> bool {
    s.trim().is_empty()
}

fn list(board: &Board, only: Option<Shown>, json: bool) -> anyhow::Result<()> {
    let rows: Vec<(Summary, Shown)> = board
        .letters
        .iter()
        .map(|m| (Summary::of(m), board.state(m)))
        .filter(|(_, state)| only.is_none_or(|o| o == *state))
        .collect();
    let mut counts = std::collections::BTreeMap::new();
    for m in &board.letters {
        *counts.entry(board.state(m).as_str()).or_insert(0usize) += 1;
    }
    if json {
        let letters: Vec<serde_json::Value> = rows
            .iter()
            .map(|(summary, state)| {
                let mut v = serde_json::to_value(summary).expect("a summary serialises");
                v["state"] = serde_json::json!(state.as_str());
                v
            })
            .collect();
        let out = serde_json::json!({
            "group": board.topics.group,
            "topic": board.topics.dead_letter_topic,
            "states_known": board.store.is_some(),
            "counts": counts,
            "dead_letters": letters,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    println!("{} dead letters", board.topics.dead_letter_topic);
    println!("PARTITION OFFSET  STATE         CLASS              STAGE    REDRIVES ORIGINAL");
    for (s, state) in &rows {
        println!(
            "{:<9} {:<7} {:<13} {:<18} {:<8} {:<8} {}[{}]@{}",
            s.partition,
            s.offset,
            state.as_str(),
            s.class,
            s.stage,
            s.redrive_count,
            s.topic,
            s.original_partition,
            s.original_offset
        );
    }
    let counts: Vec<String> = counts.iter().map(|(k, v)| format!("{k} {v}")).collect();
    println!("total {}: {}", board.letters.len(), counts.join(", "));
    if board.store.is_none() {
        println!("(states from the redrive topic only: pass --database-url for what the subscriber applied)");
    }
    Ok(())
}

fn show(board: &Board, partition: i32, offset: i64, json: bool) -> anyhow::Result<()> {
    let letter = board.find(partition, offset)?;
    let summary = Summary::of(letter);
    let state = board.state(letter);
    let decision = board.decisions.get(&(partition, offset));
    // Header names only for the record's own headers: their values are the publisher's.
    let header_names: Vec<String> = dead_letters::header_pairs(letter)
        .into_iter()
        .map(|(k, _)| k)
        .filter(|k| !k.starts_with("__connect.errors."))
        .collect();
    if json {
        let mut v = serde_json::to_value(&summary)?;
        v["state"] = serde_json::json!(state.as_str());
        v["decision"] = serde_json::to_value(decision)?;
        v["header_names"] = serde_json::json!(header_names);
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    println!(
        "dead letter    {}[{}]@{}",
        board.topics.dead_letter_topic, summary.partition, summary.offset
    );
    println!("state          {}", state.as_str());
    if let Some(d) = decision {
        println!(
            "decided        by {:?} at {} ms: {}",
            d.operator, d.decided_at_ms, d.reason
        );
    }
    println!(
        "original       {}[{}]@{}",
        summary.topic, summary.original_partition, summary.original_offset
    );
    println!("stage, class   {}, {}", summary.stage, summary.class);
    println!("message        {}", summary.message);
    println!("redrives       {}", summary.redrive_count);
    println!(
        "key sha-256    {}",
        summary.key_hash.as_deref().unwrap_or("(no key)")
    );
    println!(
        "schema id      {}",
        summary
            .schema_id
            .map_or("(not Confluent-framed)".to_string(), |id| id.to_string())
    );
    println!(
        "value          {} bytes (not shown: personal data stays in Kafka)",
        summary.value_bytes
    );
    println!("headers        {}", header_names.join(", "));
    Ok(())
}

/// What an operator asked for.
struct Order<'a> {
    action: Action,
    operator: &'a str,
    reason: &'a str,
    wait: u64,
}

/// Sends the requests for the letters not decided yet, then, with `--wait`, follows the
/// subscriber until it has carried each one out.
async fn carry_out(
    board: &Board,
    target: &Target,
    chosen: Vec<&OwnedMessage>,
    order: Order<'_>,
) -> anyhow::Result<()> {
    if operator_blank(order.operator) {
        anyhow::bail!("--operator (or LINTAS_OPERATOR) must name who decides");
    }
    if order.wait > 0 && target.database_url.is_none() {
        anyhow::bail!("--wait follows the subscriber's database: pass --database-url");
    }
    let (decided, todo): (Vec<&OwnedMessage>, Vec<&OwnedMessage>) = chosen
        .into_iter()
        .partition(|m| board.decisions.contains_key(&(m.partition(), m.offset())));
    let verb = order.action.as_str();
    println!(
        "{verb}: {} dead letters chosen, {} already decided (skipped), {} to send to {}",
        decided.len() + todo.len(),
        decided.len(),
        todo.len(),
        board.topics.redrive_topic
    );
    let letters: Vec<OwnedMessage> = todo.iter().map(|m| (*m).clone()).collect();
    let total = letters.len();
    board
        .topics
        .send(&letters, order.action, order.operator, order.reason, |n| {
            if n % 100 == 0 || n == total {
                println!("sent {n}/{total}");
            }
        })
        .await?;
    if order.wait == 0 || total == 0 {
        return Ok(());
    }
    follow(board, &letters, Duration::from_secs(order.wait)).await
}

/// Prints what the subscriber made of `letters` as it records it, until every one is
/// decided or `wait` is over (an error then: the subscriber is down or behind).
async fn follow(board: &Board, letters: &[OwnedMessage], wait: Duration) -> anyhow::Result<()> {
    let store = board.store.as_ref().expect("checked by the caller");
    let deadline = Instant::now() + wait;
    let mut last = String::new();
    loop {
        let decisions = dead_letters::decisions(store, &board.topics.group).await?;
        let mut counts = std::collections::BTreeMap::new();
        for m in letters {
            let state = Shown::of(decisions.get(&(m.partition(), m.offset())), true);
            *counts.entry(state.as_str()).or_insert(0usize) += 1;
        }
        let line: Vec<String> = counts.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let line = line.join(", ");
        if line != last {
            println!("progress: {line}");
            last = line;
        }
        if !counts.contains_key("requested") {
            return Ok(());
        }
        if Instant::now() >= deadline {
            anyhow::bail!(
                "{} of {} requests not carried out after {}s: is the {} subscriber running?",
                counts["requested"],
                letters.len(),
                wait.as_secs(),
                board.topics.group
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
