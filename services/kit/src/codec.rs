//! The Confluent wire format: byte 0 is the magic 0, bytes 1..5 the schema id (big-endian),
//! the rest the Avro binary body. Any Confluent-compatible client reads what we write.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use apache_avro::types::Value;
use lintas_events::{catalogue, AnyEvent, Catalogue, Event, EventSchema, SubjectKeyRotations};

use crate::encryption::{
    named_types, EncryptionError, Names, Protection, ProtectionSettings, Sealed,
};
use crate::registry::{RegistryClient, RegistryError, WriterSchema};

pub const MAGIC: u8 = 0;
pub const CONTENT_TYPE: &str = "application/vnd.lintas.avro+confluent";

/// Why a record could not be decoded. Everything but `Registry(Unavailable)` and an
/// unavailable key service is a property of the record itself and sends it to the dead-letter
/// topic.
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
    #[error(transparent)]
    Encryption(#[from] EncryptionError),
    /// A subject key of a secret version this reader cannot carry forward: wait for the
    /// configuration (LINTAS_SUBJECT_KEY_ROTATIONS), never apply it under a foreign key.
    #[error(transparent)]
    SubjectKey(#[from] lintas_events::SubjectKeyError),
}

impl DecodeError {
    pub fn is_transient(&self) -> bool {
        match self {
            DecodeError::Registry(e) => e.is_transient(),
            DecodeError::Encryption(e) => e.is_transient(),
            DecodeError::SubjectKey(_) => true,
            _ => false,
        }
    }

    /// Stable class name for dead-letter headers and metric labels.
    pub fn class(&self) -> &'static str {
        match self {
            DecodeError::Framing(_) => "framing",
            DecodeError::Registry(RegistryError::UnknownId(_)) => "unknown_schema_id",
            DecodeError::Registry(_) => "registry",
            DecodeError::Avro { .. } => "avro",
            DecodeError::UnknownType(_) => "unknown_type",
            DecodeError::Encryption(_) => "encryption",
            DecodeError::SubjectKey(_) => "subject_key_version",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error("event does not fit its schema: {0}")]
    Avro(#[from] apache_avro::Error),
    #[error(transparent)]
    Encryption(#[from] EncryptionError),
}

impl EncodeError {
    pub fn is_transient(&self) -> bool {
        match self {
            EncodeError::Registry(e) => e.is_transient(),
            EncodeError::Encryption(e) => e.is_transient(),
            EncodeError::Avro(_) => false,
        }
    }
}

/// A decoded record and what this reader could not see of it.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub event: AnyEvent,
    /// `Some` when personal-data fields stayed encrypted for this reader (not entitled, or
    /// the key was destroyed): they hold ciphertext and must not be stored or shown as data.
    pub sealed: Option<Sealed>,
}

#[derive(Clone)]
pub struct Codec {
    registry: RegistryClient,
    topic_prefix: Arc<str>,
    protection: Protection,
    rotations: SubjectKeyRotations,
}

impl Codec {
    /// `topic_prefix` is prepended to every topic name (empty in production; tests use it to
    /// share one broker). The codec holds no key-encryption key: it decodes everything (the
    /// personal-data fields stay ciphertext) and encodes every event without personal data;
    /// give it its keys with [`Codec::with_protection`].
    pub fn new(registry: RegistryClient, topic_prefix: &str) -> Self {
        Codec {
            protection: Protection::new(registry.clone(), ProtectionSettings::default()),
            registry,
            topic_prefix: topic_prefix.into(),
            rotations: SubjectKeyRotations::default(),
        }
    }

    /// This codec with the KEKs it holds and the encryption rule it registers.
    pub fn with_protection(mut self, settings: ProtectionSettings) -> Self {
        self.protection = Protection::new(self.registry.clone(), settings);
        self
    }

    /// This codec carrying subject keys of older secret versions forward on decode.
    pub fn with_subject_key_rotations(mut self, rotations: SubjectKeyRotations) -> Self {
        self.rotations = rotations;
        self
    }

    /// The same codec holding only the KEKs named: one subscriber's entitlements.
    pub fn entitled_to(&self, keks: &[&str]) -> Codec {
        let mut settings = self.protection.settings().clone();
        settings.keyring = settings.keyring.only(keks);
        self.clone().with_protection(settings)
    }

    pub fn registry(&self) -> &RegistryClient {
        &self.registry
    }

    pub fn protection(&self) -> &Protection {
        &self.protection
    }

    pub fn topic_name(&self, topic: lintas_events::Topic) -> String {
        format!("{}{}", self.topic_prefix, topic.base_name())
    }

    pub fn topic_prefix(&self) -> &str {
        &self.topic_prefix
    }

    /// The ruleSet registered with an event's schema: the encryption of its personal data.
    fn rule_set(&self, entry: &EventSchema) -> Option<serde_json::Value> {
        entry
            .kek
            .map(|kek| self.protection.rule_for(kek).rule_set())
    }

    /// Registers every event schema of the catalogue under its subject, with its encryption
    /// rule. Publishers call it at start-up (with a `write` credential) so that a contract the
    /// registry refuses stops the service before it accepts anything; subscribers do not, and
    /// only look the ids of what they publish up.
    pub async fn register_all(&self) -> Result<(), RegistryError> {
        for entry in catalogue().events() {
            for topic in entry.topics {
                let subject = Catalogue::subject(&self.topic_name(*topic), entry.full_name);
                self.registry
                    .register_with_rules(&subject, &entry.json, self.rule_set(entry).as_ref())
                    .await?;
            }
        }
        Ok(())
    }

    /// The id of `E`'s schema under its subject on `topic`: registered by [`Codec::register_all`],
    /// else looked up (a reader's `read` credential suffices), else registered (which needs
    /// the `write` role).
    pub async fn schema_id<E: Event>(
        &self,
        topic: lintas_events::Topic,
    ) -> Result<u32, RegistryError> {
        let entry = catalogue().of::<E>();
        let subject = Catalogue::subject(&self.topic_name(topic), E::FULL_NAME);
        self.registry
            .id_for(&subject, &entry.json, self.rule_set(entry).as_ref())
            .await
    }

    /// Encodes `event` with its registered schema; personal-data fields are encrypted under
    /// their KEK, which this codec must hold.
    pub async fn encode<E: Event>(&self, event: &E) -> Result<Vec<u8>, EncodeError> {
        let id = self.schema_id::<E>(event.topic()).await?;
        let entry = catalogue().of::<E>();
        let mut value = apache_avro::to_value(event)?.resolve(&entry.schema)?;
        if let Some(kek) = entry.kek {
            let subject = Catalogue::subject(&self.topic_name(event.topic()), E::FULL_NAME);
            self.protection
                .seal(
                    &entry.schema,
                    write_names(entry),
                    &[],
                    &self.protection.rule_for(kek),
                    &subject,
                    &mut value,
                )
                .await?;
        }
        let body = apache_avro::to_avro_datum(&entry.schema, value)?;
        Ok(frame(id, &body))
    }

    /// Decodes with the writer schema named by the record and our reader schema for that
    /// type, so records written with an older or newer compatible schema still decode.
    /// Personal-data fields are left as they travel (ciphertext): for tools and tests that
    /// must not see them. Subscribers use [`Codec::decode_from`].
    pub async fn decode(&self, payload: &[u8]) -> Result<AnyEvent, DecodeError> {
        let (id, body) = unframe(payload)?;
        let writer = self.registry.schema_by_id(id).await?;
        let value = read_value(&writer, body)?;
        to_event(&writer, value)
    }

    /// Decodes a record read from `topic`: personal-data fields are decrypted where this
    /// codec holds their KEK (and their key still exists), and subject keys of an older
    /// secret version are carried to the current one.
    pub async fn decode_from(&self, topic: &str, payload: &[u8]) -> Result<Decoded, DecodeError> {
        let (id, body) = unframe(payload)?;
        let writer = self.registry.schema_by_id(id).await?;
        let mut value = read_value(&writer, body)?;
        let mut sealed = None;
        if !writer.encrypt_rules.is_empty() {
            // Confluent's TopicRecordNameStrategy: the subject the writer's DEK belongs to.
            let subject = Catalogue::subject(topic, &writer.full_name);
            for rule in &writer.encrypt_rules {
                let outcome = self
                    .protection
                    .open(
                        &writer.schema,
                        &writer.names,
                        &writer.metadata_tags,
                        rule,
                        &subject,
                        &mut value,
                    )
                    .await?;
                sealed = sealed.or(outcome);
            }
        }
        let mut event = to_event(&writer, value)?;
        self.carry_subject_keys_forward(&mut event)?;
        Ok(Decoded { event, sealed })
    }

    fn carry_subject_keys_forward(&self, event: &mut AnyEvent) -> Result<(), DecodeError> {
        let current = self.rotations.key_id();
        let from = event.envelope().subject_key_id.clone();
        if from == current || (from.is_none() && current.is_none()) {
            return Ok(());
        }
        for key in event.subject_keys_mut() {
            *key = self.rotations.carry_forward(from.as_deref(), key)?;
        }
        event.envelope_mut().subject_key_id = current;
        Ok(())
    }
}

/// Named types of the catalogue's schemas, computed once.
fn write_names(entry: &EventSchema) -> &'static Names {
    static NAMES: OnceLock<HashMap<&'static str, Names>> = OnceLock::new();
    let all = NAMES.get_or_init(|| {
        catalogue()
            .events()
            .iter()
            .map(|e| (e.full_name, named_types(&e.schema)))
            .collect()
    });
    &all[entry.full_name]
}

/// The Avro value of a body, in the writer's schema.
fn read_value(writer: &WriterSchema, mut body: &[u8]) -> Result<Value, DecodeError> {
    let value = apache_avro::from_avro_datum(&writer.schema, &mut body, None).map_err(|e| {
        DecodeError::Avro {
            id: writer.id,
            reason: e.to_string(),
        }
    })?;
    if !body.is_empty() {
        return Err(DecodeError::Avro {
            id: writer.id,
            reason: format!("{} trailing bytes after the record", body.len()),
        });
    }
    // apache-avro reads a string or a boolean cut short by the end of the body as null
    // instead of failing: a record truncated inside its last string field would be applied
    // with that field empty. Such a value does not match the writer's schema.
    if !value.validate(&writer.schema) {
        return Err(DecodeError::Avro {
            id: writer.id,
            reason: "the body ends inside a field: the record is truncated or corrupt".into(),
        });
    }
    Ok(value)
}

/// The typed event of a value in the writer's schema, resolved to our reader schema.
fn to_event(writer: &WriterSchema, value: Value) -> Result<AnyEvent, DecodeError> {
    let reader = catalogue()
        .get(&writer.full_name)
        .ok_or_else(|| DecodeError::UnknownType(writer.full_name.clone()))?;
    let avro = |e: apache_avro::Error| DecodeError::Avro {
        id: writer.id,
        reason: e.to_string(),
    };
    // Resolution is only needed when the writer used another version of the schema.
    let value = if writer.canonical != reader.canonical {
        value.resolve(&reader.schema).map_err(avro)?
    } else {
        value
    };
    AnyEvent::from_avro(&writer.full_name, value).map_err(avro)
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

    /// A body cut inside its last string field is refused, not read as that field being
    /// null (apache-avro's reader turns an early end inside a string into null).
    #[test]
    fn a_body_cut_inside_a_string_is_refused() {
        use crate::testing::examples::example;
        let event: lintas_events::ApplicantRegistered = example();
        let body = lintas_events::to_datum(&event).unwrap();
        let entry = catalogue().of::<lintas_events::ApplicantRegistered>();
        let writer = WriterSchema {
            id: 7,
            schema: entry.schema.clone(),
            full_name: entry.full_name.to_string(),
            canonical: entry.schema.canonical_form(),
            encrypt_rules: Vec::new(),
            metadata_tags: Vec::new(),
            names: crate::encryption::named_types(&entry.schema),
        };
        assert!(read_value(&writer, &body).is_ok());
        let cut = read_value(&writer, &body[..body.len() - 7]).unwrap_err();
        assert_eq!(cut.class(), "avro", "{cut}");
    }
}
