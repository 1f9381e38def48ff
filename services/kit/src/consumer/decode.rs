//! Decoding on the poll thread, so the next batch is decoded while the applier commits the
//! previous one.

use rdkafka::message::{Message, OwnedMessage};

use super::backoff;
use crate::codec::{Codec, Decoded as Event};
use crate::metrics::APPLY_RETRIES;
use crate::shutdown::Shutdown;

/// A record and what decoding made of it: the event, or the class and reason for the
/// dead-letter topic.
pub(super) struct Decoded {
    pub message: OwnedMessage,
    pub event: Result<Event, (&'static str, String)>,
}

/// Decodes a batch, waiting out registry outages (never dead-lettering for them). `None`
/// when shutdown interrupted the wait; the records will be read again.
pub(super) async fn decode_batch(
    codec: &Codec,
    group: &str,
    messages: Vec<OwnedMessage>,
    shutdown: &Shutdown,
) -> Option<Vec<Decoded>> {
    let mut out = Vec::with_capacity(messages.len());
    for message in messages {
        let mut attempt = 0;
        let event = loop {
            let Some(payload) = message.payload() else {
                break Err(("framing", "record has no value (tombstone)".to_string()));
            };
            match codec.decode_from(message.topic(), payload).await {
                Ok(event) => break Ok(event),
                Err(e) if e.is_transient() => {
                    APPLY_RETRIES.with_label_values(&[group, "registry"]).inc();
                    tracing::warn!(group, error = %e, "schema registry unavailable; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(backoff(attempt)) => {}
                        _ = shutdown.wait() => return None,
                    }
                    attempt += 1;
                }
                Err(e) => break Err((e.class(), e.to_string())),
            }
        };
        out.push(Decoded { message, event });
    }
    Some(out)
}
