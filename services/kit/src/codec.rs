//! The Confluent wire format: byte 0 is the magic 0, bytes 1..5 the schema id (big-endian),
//! the rest the Avro binary body. Any Confluent-compatible client reads what we write.

use std::sync::Arc;

use lintas_events::{catalogue, AnyEvent, Catalogue, Event};

use crate::registry::{RegistryClient, RegistryError};

pub const MAGIC: u8 = 0;
pub const CONTENT_TYPE: &str = "application/vnd.lintas.avro+confluent";

/// Why a record could not be decoded. Everything but `Registry(Unavailable)` is a property
/// of the record itself and sends it to the dead-letter topic.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("record is not in the Confluent wire format: {0}")]
    Framing(String),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error("Avro body does not match writer schema {id}: {reason}")]
    Avro { id: u32, reason: String },
    #[error("record type {0} is not part of the contract this subscriber knows")]
    UnknownType(String),
}

impl DecodeError {
    pub fn is_transient(&self) -> bool {
        matches!(self, DecodeError::Registry(e) if e.is_transient())
    }

    /// Stable class name for dead-letter headers and metric labels.
    pub fn class(&self) -> &'static str {
        match self {
            DecodeError::Framing(_) => "framing",
            DecodeError::Registry(RegistryError::UnknownId(_)) => "unknown_schema_id",
            DecodeError::Registry(_) => "registry",
            DecodeError::Avro { .. } => "avro",
            DecodeError::UnknownType(_) => "unknown_type",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error("event does not fit its schema: {0}")]
    Avro(#[from] apache_avro::Error),
}

#[derive(Clone)]
pub struct Codec {
    registry: RegistryClient,
    topic_prefix: Arc<str>,
}

impl Codec {
    /// `topic_prefix` is prepended to every topic name (empty in production; tests use it to
    /// share one broker).
    pub fn new(registry: RegistryClient, topic_prefix: &str) -> Self {
        Codec {
            registry,
            topic_prefix: topic_prefix.into(),
        }
    }

    pub fn registry(&self) -> &RegistryClient {
        &self.registry
    }

    pub fn topic_name(&self, topic: lintas_events::Topic) -> String {
        format!("{}{}", self.topic_prefix, topic.base_name())
    }

    pub fn topic_prefix(&self) -> &str {
        &self.topic_prefix
    }

    /// Registers every event schema of the catalogue under its subject. Publishers call it at
    /// start-up so that a contract the registry refuses stops the service before it accepts
    /// anything.
    pub async fn register_all(&self) -> Result<(), RegistryError> {
        for entry in catalogue().events() {
            let subject = Catalogue::subject(&self.topic_name(entry.topic), entry.full_name);
            self.registry.register(&subject, &entry.json).await?;
        }
        Ok(())
    }

    pub async fn schema_id<E: Event>(&self) -> Result<u32, RegistryError> {
        let entry = catalogue().of::<E>();
        let subject = Catalogue::subject(&self.topic_name(E::TOPIC), E::FULL_NAME);
        self.registry.register(&subject, &entry.json).await
    }

    pub async fn encode<E: Event>(&self, event: &E) -> Result<Vec<u8>, EncodeError> {
        let id = self.schema_id::<E>().await?;
        let body = lintas_events::to_datum(event)?;
        Ok(frame(id, &body))
    }

    /// Decodes with the writer schema named by the record and our reader schema for that
    /// type, so records written with an older or newer compatible schema still decode.
    pub async fn decode(&self, payload: &[u8]) -> Result<AnyEvent, DecodeError> {
        let (id, mut body) = unframe(payload)?;
        let writer = self.registry.schema_by_id(id).await?;
        let reader = catalogue()
            .get(&writer.full_name)
            .ok_or_else(|| DecodeError::UnknownType(writer.full_name.clone()))?;
        // Resolution is only needed when the writer used another version of the schema.
        let reader_schema = (writer.canonical != reader.canonical).then_some(&reader.schema);
        let value = apache_avro::from_avro_datum(&writer.schema, &mut body, reader_schema)
            .map_err(|e| DecodeError::Avro {
                id,
                reason: e.to_string(),
            })?;
        if !body.is_empty() {
            return Err(DecodeError::Avro {
                id,
                reason: format!("{} trailing bytes after the record", body.len()),
            });
        }
        AnyEvent::from_avro(&writer.full_name, value).map_err(|e| DecodeError::Avro {
            id,
            reason: e.to_string(),
        })
    }
}

pub fn frame(schema_id: u32, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 5);
    out.push(MAGIC);
    out.extend_from_slice(&schema_id.to_be_bytes());
    out.extend_from_slice(body);
    out
}

pub fn unframe(payload: &[u8]) -> Result<(u32, &[u8]), DecodeError> {
    match payload {
        [] => Err(DecodeError::Framing("empty value".into())),
        [MAGIC, a, b, c, d, body @ ..] => Ok((u32::from_be_bytes([*a, *b, *c, *d]), body)),
        [MAGIC, ..] => Err(DecodeError::Framing(format!(
            "{} bytes is shorter than the 5-byte header",
            payload.len()
        ))),
        [other, ..] => Err(DecodeError::Framing(format!(
            "magic byte is {other}, expected 0"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_and_unframe() {
        let framed = frame(258, b"xyz");
        assert_eq!(&framed[..5], &[0, 0, 0, 1, 2]);
        let (id, body) = unframe(&framed).unwrap();
        assert_eq!((id, body), (258, &b"xyz"[..]));
        assert_eq!(unframe(b"").unwrap_err().class(), "framing");
        assert_eq!(unframe(&[0, 0, 1]).unwrap_err().class(), "framing");
        assert_eq!(unframe(b"{\"json\":1}").unwrap_err().class(), "framing");
    }
}
