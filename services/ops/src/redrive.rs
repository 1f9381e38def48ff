//! Operators' decisions about dead letters from the page, as `lintas dead-letters` makes them
//! (`lintas_kit::dead_letters`): `POST /ops/api/groups/{group}/dead-letters/redrive` and
//! `POST /ops/api/groups/{group}/dead-letters/{partition}/{offset}/discard`, behind the
//! operator credential, which names who decided.
//!
//! The monitor has no access to the subscribers' databases, so it cannot tell which dead
//! letters a subscriber already applied: it skips those a request was already written for,
//! and the subscriber skips any request for a dead letter it already decided, so a repeated
//! redrive applies nothing twice either way.

use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use lintas_kit::auth::Caller;
use lintas_kit::dead_letters::{Action, Summary, Topics};
use lintas_kit::events::AvroEnum;
use lintas_kit::views::problem;
use rdkafka::message::{Message, OwnedMessage};

use crate::Ops;

/// Which dead letters to redrive: exactly one of `all`, `class`, or `from_offset` (with
/// `partition`, default 0, and `to_offset`, inclusive, default the end).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RedriveBody {
    #[serde(default)]
    all: bool,
    class: Option<String>,
    partition: Option<i32>,
    from_offset: Option<i64>,
    to_offset: Option<i64>,
    #[serde(default)]
    reason: String,
}

impl RedriveBody {
    fn check(&self) -> Result<(), &'static str> {
        let chosen = usize::from(self.all)
            + usize::from(self.class.is_some())
            + usize::from(self.from_offset.is_some());
        if chosen != 1 {
            return Err("name exactly one of \"all\": true, \"class\" or \"from_offset\"");
        }
        if self.from_offset.is_none() && (self.partition.is_some() || self.to_offset.is_some()) {
            return Err("\"partition\" and \"to_offset\" go with \"from_offset\"");
        }
        Ok(())
    }

    fn matches(&self, s: &Summary) -> bool {
        if self.all {
            return true;
        }
        if let Some(class) = &self.class {
            return s.class == *class;
        }
        let from = self.from_offset.unwrap_or(i64::MAX);
        s.partition == self.partition.unwrap_or(0)
            && s.offset >= from
            && self.to_offset.is_none_or(|to| s.offset <= to)
    }
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DiscardBody {
    reason: String,
}

/// Who decides: the credential's officer if it names one, else its office.
fn operator(caller: &Caller) -> String {
    caller
        .officer
        .clone()
        .unwrap_or_else(|| format!("{}:{}", caller.agency.symbol(), caller.office))
}

/// The group's topics, if it is a group the monitor watches (never a topic a caller makes up).
fn topics_of(ops: &Ops, group: &str) -> Option<Topics> {
    let settings = &ops.settings;
    let watched = settings.groups.iter().any(|(g, _)| g == group)
        || ops.named_groups().iter().any(|g| g == group);
    watched.then(|| {
        Topics::new(
            &settings.brokers,
            settings.extra.clone(),
            &settings.topic_prefix,
            group,
        )
    })
}

/// The dead letters and the ones a request was already written for, read at the viewer's
/// bounded rate (reading a topic costs the broker as much as a view).
async fn read(
    ops: &Ops,
    topics: &Topics,
) -> Result<(Vec<OwnedMessage>, Vec<(i32, i64)>), Response> {
    if let Err(crate::viewer::TooManyViews(wait)) = ops.viewer.admit() {
        return Err(problem(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "the broker is read at a bounded rate; retry in {}s",
                wait.as_secs().max(1)
            ),
        ));
    }
    let reader = topics.clone();
    let read = tokio::task::spawn_blocking(move || {
        anyhow::Ok((reader.dead_letters()?, reader.requests()?))
    })
    .await;
    match read {
        Ok(Ok((letters, requests))) => Ok((
            letters,
            requests
                .into_iter()
                .map(|(_, r)| (r.dlq_partition, r.dlq_offset))
                .collect(),
        )),
        other => {
            tracing::warn!(group = %topics.group, outcome = ?other.map(|r| r.err().map(|e| e.to_string())), "dead letters not read");
            Err(problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "could not read from the broker; retry",
            ))
        }
    }
}

fn unknown_group(group: &str) -> Response {
    problem(
        StatusCode::NOT_FOUND,
        format!("no watched consumer group {group:?}: name it first (POST /ops/api/groups)"),
    )
}

pub(crate) async fn redrive(
    ops: &Ops,
    caller: &Caller,
    group: &str,
    body: Result<Json<RedriveBody>, JsonRejection>,
) -> Response {
    let body = match body {
        Ok(Json(body)) => body,
        Err(e) => return problem(StatusCode::BAD_REQUEST, e.body_text()),
    };
    if let Err(why) = body.check() {
        return problem(StatusCode::UNPROCESSABLE_ENTITY, why);
    }
    let Some(topics) = topics_of(ops, group) else {
        return unknown_group(group);
    };
    let (letters, requested) = match read(ops, &topics).await {
        Ok(read) => read,
        Err(response) => return response,
    };
    let (already, todo): (Vec<OwnedMessage>, Vec<OwnedMessage>) = letters
        .into_iter()
        .filter(|m| body.matches(&Summary::of(m)))
        .partition(|m| requested.contains(&(m.partition(), m.offset())));
    send(
        caller,
        &topics,
        todo,
        already.len(),
        Action::Redrive,
        &body.reason,
    )
    .await
}

pub(crate) async fn discard(
    ops: &Ops,
    caller: &Caller,
    (group, partition, offset): (String, i32, i64),
    body: Result<Json<DiscardBody>, JsonRejection>,
) -> Response {
    let reason = match body {
        Ok(Json(DiscardBody { reason })) if !reason.trim().is_empty() => reason,
        Ok(_) => return problem(StatusCode::UNPROCESSABLE_ENTITY, "a discard needs a reason"),
        Err(e) => return problem(StatusCode::BAD_REQUEST, e.body_text()),
    };
    let Some(topics) = topics_of(ops, &group) else {
        return unknown_group(&group);
    };
    let (letters, requested) = match read(ops, &topics).await {
        Ok(read) => read,
        Err(response) => return response,
    };
    let Some(letter) = letters
        .into_iter()
        .find(|m| m.partition() == partition && m.offset() == offset)
    else {
        return problem(
            StatusCode::NOT_FOUND,
            format!(
                "no dead letter at {}/{partition}/{offset}",
                topics.dead_letter_topic
            ),
        );
    };
    // A dead letter already asked about is decided by that first request; say so.
    if requested.contains(&(partition, offset)) {
        return send(caller, &topics, Vec::new(), 1, Action::Discard, &reason).await;
    }
    send(caller, &topics, vec![letter], 0, Action::Discard, &reason).await
}

async fn send(
    caller: &Caller,
    topics: &Topics,
    letters: Vec<OwnedMessage>,
    already_requested: usize,
    action: Action,
    reason: &str,
) -> Response {
    let who = operator(caller);
    match topics.send(&letters, action, &who, reason, |_| {}).await {
        Ok(sent) => {
            tracing::info!(group = %topics.group, office = %caller.office, agency = %caller.agency, action = action.as_str(), sent, already_requested, "dead-letter requests sent");
            (
                StatusCode::ACCEPTED,
                Json(serde_json::json!({
                    "group": topics.group,
                    "action": action,
                    "sent": sent,
                    "already_requested": already_requested,
                    "redrive_topic": topics.redrive_topic,
                    "operator": who,
                })),
            )
                .into_response()
        }
        Err(e) => {
            tracing::warn!(group = %topics.group, error = %e, "dead-letter requests not sent");
            problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "could not write to the broker; retry (requests already sent are not repeated)",
            )
        }
    }
}
