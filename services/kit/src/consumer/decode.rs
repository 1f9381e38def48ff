//! Decoding on the poll thread, so the next batch is decoded while the applier commits the
//! previous one.

use std::time::{Duration, Instant};

use rdkafka::message::{Message, OwnedMessage};

use super::backoff;
use crate::codec::{Codec, DecodeError, Decoded as Event};
use crate::dead_letters::{Action, Request};
use crate::internal_events::{ApplyRetried, RetryCause};
use crate::registry::RegistryError;
use crate::shutdown::Shutdown;

/// What decoding made of a record.
pub(super) enum Outcome {
    /// For the handler.
    Event(Box<Event>),
    /// Nothing this subscriber can use, and nothing wrong: an event type of a newer contract
    /// (publishers upgrade before subscribers). Its offset advances; it is counted.
    Skip(&'static str),
    /// Can never be read: to the dead-letter topic with a class and a reason.
    DeadLetter(&'static str, String),
    /// An operator's discard of a dead letter (from the redrive topic): nothing to apply,
    /// a decision to record.
    Discard,
    /// A redrive of a record already applied through another dead letter of it: nothing to
    /// apply, a decision to record.
    Duplicate,
}

/// A record and what decoding made of it.
pub(super) struct Decoded {
    pub message: OwnedMessage,
    pub outcome: Outcome,
    /// For a record of the group's redrive topic: the request it carries.
    pub redrive: Option<Request>,
}

/// What a record of the redrive topic asks, and the topic its value was written for (a
/// redriven value decodes as a record of its original topic: its encrypted fields' keys
/// belong to that topic's subject). `Err` for a record that is no request.
fn redrive_request(message: &OwnedMessage) -> Result<(Request, String), Outcome> {
    match Request::parse(message) {
        Ok(request) => {
            let topic = request.topic.clone();
            Ok((request, topic))
        }
        Err(why) => {
            tracing::warn!(topic = message.topic(), partition = message.partition(), offset = message.offset(), why = %why, "a record of the redrive topic is no redrive request; skipped");
            Err(Outcome::Skip("not_a_redrive_request"))
        }
    }
}

/// Decodes a batch, waiting out registry and key-service outages (never dead-lettering for
/// them). A schema id the registry says it does not know is waited for too, up to
/// `unknown_id_patience` (a follower registry may not have replicated it yet), then
/// dead-lettered. `None` when shutdown interrupted the wait; the records will be read again.
pub(super) async fn decode_batch(
    codec: &Codec,
    group: &str,
    redrive_topic: &str,
    messages: Vec<OwnedMessage>,
    unknown_id_patience: Duration,
    shutdown: &Shutdown,
) -> Option<Vec<Decoded>> {
    let mut out = Vec::with_capacity(messages.len());
    for message in messages {
        let (redrive, topic) = if message.topic() == redrive_topic {
            match redrive_request(&message) {
                Ok((request, topic)) => (Some(request), topic),
                Err(outcome) => {
                    out.push(Decoded {
                        message,
                        outcome,
                        redrive: None,
                    });
                    continue;
                }
            }
        } else {
            (None, message.topic().to_string())
        };
        if redrive
            .as_ref()
            .is_some_and(|r| r.action == Action::Discard)
        {
            out.push(Decoded {
                message,
                outcome: Outcome::Discard,
                redrive,
            });
            continue;
        }
        let mut attempt = 0;
        let started = Instant::now();
        let outcome = loop {
            let Some(payload) = message.payload() else {
                break Outcome::DeadLetter(
                    "framing",
                    "record has no value (tombstone)".to_string(),
                );
            };
            match codec.decode_from(&topic, payload).await {
                Ok(event) => break Outcome::Event(Box::new(event)),
                Err(DecodeError::UnknownType(_)) => break Outcome::Skip("unknown_type"),
                Err(e @ DecodeError::Registry(RegistryError::UnknownId(_)))
                    if started.elapsed() >= unknown_id_patience =>
                {
                    break Outcome::DeadLetter(e.class(), e.to_string())
                }
                Err(e)
                    if e.is_transient()
                        || matches!(e, DecodeError::Registry(RegistryError::UnknownId(_))) =>
                {
                    ApplyRetried {
                        group,
                        cause: RetryCause::Registry,
                        attempt,
                        error: &e,
                    }
                    .emit();
                    tokio::select! {
                        _ = tokio::time::sleep(backoff(attempt)) => {}
                        _ = shutdown.wait() => return None,
                    }
                    attempt += 1;
                }
                Err(e) => break Outcome::DeadLetter(e.class(), e.to_string()),
            }
        };
        out.push(Decoded {
            message,
            outcome,
            redrive,
        });
    }
    Some(out)
}
