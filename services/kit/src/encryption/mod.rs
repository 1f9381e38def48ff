//! Personal data encrypted field by field on the feed, in the format of Confluent's
//! client-side field-level encryption (CSFLE), so that Confluent's own clients read what
//! Lintas writes and the other way round.
//!
//! ```text
//! schema field  "confluent:tags": ["PII"]      the contract marks personal data
//! ruleSet       ENCRYPT on tag PII, KEK <name>  registered with the schema
//! KEK           held by its entitled agencies only (a KMS, or local-kms with a secret)
//! DEK           random AES-256-GCM key per subject and version, stored in the registry's
//!               DEK Registry wrapped by the KEK; rotated every `dek_rotation_days`
//! field value   base64(0x00 ‖ DEK version (4 bytes, BE) ‖ nonce ‖ ciphertext ‖ tag)
//! ```
//!
//! A writer must hold the KEK of every encrypted field it writes: without it nothing is
//! published. A reader without the KEK (or after the DEK version was destroyed) still
//! decodes the record: the rest of the event applies and the personal-data fields keep their
//! ciphertext ([`crate::codec::Decoded::sealed`]), which is Confluent's `onFailure: NONE`.

mod dek;
mod kms;
pub mod rules;
mod walk;

use std::collections::HashMap;
use std::sync::Arc;

#[cfg(test)]
mod tests;

use apache_avro::schema::Schema;
use apache_avro::types::Value;
use base64::Engine;

pub use dek::{DekError, DekVersion};
pub use kms::{Kms, KmsError, KmsFuture, LocalKms};
pub use rules::{DekAlgorithm, EncryptRule, OnReadFailure, PII_TAG};

use dek::{DekClient, KekDefaults};
pub(crate) use walk::{named_types, Names};
use walk::{tagged_leaves, Tagging};

use crate::registry::RegistryClient;

const BASE64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The key-encryption keys this process holds, by KEK name: its entitlements.
#[derive(Clone, Default)]
pub struct Keyring {
    keks: Arc<HashMap<String, Arc<dyn Kms>>>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.keks.keys().collect();
        names.sort();
        write!(f, "Keyring({names:?})")
    }
}

impl Keyring {
    /// Least length of a local-kms secret.
    pub const MIN_SECRET_LEN: usize = 32;

    /// `kek=secret,kek=secret`: local-kms KEKs (`LINTAS_KEK_SECRETS`).
    pub fn parse_local(spec: &str) -> Result<Keyring, String> {
        let mut keyring = Keyring::default();
        for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (name, secret) = entry.split_once('=').ok_or_else(|| {
                "KEK secret entry without `=`: expected kek-name=secret".to_string()
            })?;
            if name.trim().is_empty() || secret.len() < Self::MIN_SECRET_LEN {
                return Err(format!(
                    "KEK `{}`: a name and a secret of at least {} characters",
                    name.trim(),
                    Self::MIN_SECRET_LEN
                ));
            }
            keyring = keyring.with(name.trim(), Arc::new(LocalKms::new(secret)));
        }
        Ok(keyring)
    }

    /// This keyring and KEK `name` behind `kms`.
    pub fn with(mut self, name: &str, kms: Arc<dyn Kms>) -> Keyring {
        Arc::make_mut(&mut self.keks).insert(name.to_string(), kms);
        self
    }

    /// Only the KEKs named: what one subscriber of a multi-service process may hold.
    pub fn only(&self, names: &[&str]) -> Keyring {
        Keyring {
            keks: Arc::new(
                self.keks
                    .iter()
                    .filter(|(n, _)| names.contains(&n.as_str()))
                    .map(|(n, k)| (n.clone(), k.clone()))
                    .collect(),
            ),
        }
    }

    pub fn holds(&self, name: &str) -> bool {
        self.keks.contains_key(name)
    }

    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.keks.keys().cloned().collect();
        names.sort();
        names
    }

    fn get(&self, name: &str) -> Option<&Arc<dyn Kms>> {
        self.keks.get(name)
    }
}

/// How a deployment protects personal data: the KEKs it holds and the rule it registers.
#[derive(Clone, Debug)]
pub struct ProtectionSettings {
    pub keyring: Keyring,
    /// `encrypt.kms.type` of the rules this deployment registers (KEKs are created with it).
    pub kms_type: String,
    /// Days a DEK encrypts before a new version replaces it; destroying old versions
    /// crypto-shreds what they encrypted (see docs/data-protection.md).
    pub dek_rotation_days: u32,
}

impl Default for ProtectionSettings {
    fn default() -> Self {
        ProtectionSettings {
            keyring: Keyring::default(),
            kms_type: LocalKms::KMS_TYPE.to_string(),
            dek_rotation_days: 30,
        }
    }
}

/// Why a personal-data field stayed ciphertext for this reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sealed {
    /// This reader does not hold the KEK: the normal case for every non-entitled agency.
    NoKey,
    /// The KEK or the DEK version is gone (crypto-shredded at the end of retention).
    KeyDestroyed,
    /// The KEK held here does not open the DEK: a misconfigured secret.
    WrongKey,
    /// Not a ciphertext this build opens (tampered, or an unsupported algorithm).
    Unreadable,
}

impl Sealed {
    pub fn as_str(self) -> &'static str {
        match self {
            Sealed::NoKey => "no_key",
            Sealed::KeyDestroyed => "key_destroyed",
            Sealed::WrongKey => "wrong_key",
            Sealed::Unreadable => "unreadable",
        }
    }
}

/// Why a field could not be encrypted or decrypted.
#[derive(Debug, thiserror::Error)]
pub enum EncryptionError {
    /// A writer without the KEK of a field it must encrypt: nothing is published.
    #[error("this service holds no key-encryption key `{0}`; it may not write this personal data (LINTAS_KEK_SECRETS)")]
    NoKey(String),
    /// Registry or KMS unreachable: retry.
    #[error(transparent)]
    Unavailable(DekError),
    #[error("{0}")]
    Refused(String),
    /// A reader whose rule says ERROR on failure.
    #[error("personal data cannot be decrypted ({0}) and the rule refuses the record")]
    Sealed(&'static str),
}

impl EncryptionError {
    pub fn is_transient(&self) -> bool {
        matches!(self, EncryptionError::Unavailable(_))
    }
}

impl From<DekError> for EncryptionError {
    fn from(e: DekError) -> Self {
        match e {
            DekError::Unavailable(_) => EncryptionError::Unavailable(e),
            other => EncryptionError::Refused(other.to_string()),
        }
    }
}

/// What the codec does with personal-data fields.
#[derive(Clone)]
pub struct Protection {
    settings: ProtectionSettings,
    deks: DekClient,
}

impl Protection {
    pub fn new(registry: RegistryClient, settings: ProtectionSettings) -> Protection {
        Protection {
            settings,
            deks: DekClient::new(registry),
        }
    }

    pub fn settings(&self) -> &ProtectionSettings {
        &self.settings
    }

    /// The rule Lintas registers for a schema whose personal data is under `kek`.
    pub fn rule_for(&self, kek: &str) -> EncryptRule {
        EncryptRule {
            name: "lintas-encrypt-pii".to_string(),
            tags: vec![PII_TAG.to_string()],
            kek: kek.to_string(),
            kms_type: Some(self.settings.kms_type.clone()),
            kms_key_id: Some(kek.to_string()),
            algorithm: DekAlgorithm::Aes256Gcm,
            expiry_days: self.settings.dek_rotation_days,
            writes: true,
            reads: true,
            on_read_failure: OnReadFailure::KeepCiphertext,
        }
    }

    /// A new DEK version for `subject` under `kek` now (an operator's rotation); this
    /// service must hold the KEK.
    pub async fn rotate(&self, kek: &str, subject: &str) -> Result<i32, EncryptionError> {
        let kms = self
            .settings
            .keyring
            .get(kek)
            .ok_or_else(|| EncryptionError::NoKey(kek.to_string()))?;
        let found = self.deks.kek(kek, None).await?;
        Ok(self
            .deks
            .rotate(&found, kms.as_ref(), subject, DekAlgorithm::Aes256Gcm)
            .await?)
    }

    /// Every DEK version in the registry, oldest first within each subject.
    pub async fn inventory(&self) -> Result<Vec<DekVersion>, EncryptionError> {
        let mut all = self.deks.inventory().await?;
        all.sort_by(|a, b| (&a.kek, &a.subject, a.version).cmp(&(&b.kek, &b.subject, b.version)));
        Ok(all)
    }

    /// The DEK versions whose newest data is older than `retention` at `now_ms`: every version
    /// but the newest of its subject whose successor was created before `now - retention`.
    /// Destroying them crypto-shreds what they encrypted and nothing newer.
    pub fn expired(all: &[DekVersion], retention_ms: i64, now_ms: i64) -> Vec<DekVersion> {
        all.windows(2)
            .filter(|pair| {
                let (old, next) = (&pair[0], &pair[1]);
                (&old.kek, &old.subject, old.algorithm)
                    == (&next.kek, &next.subject, next.algorithm)
                    && next.created_ms < now_ms - retention_ms
            })
            .map(|pair| pair[0].clone())
            .collect()
    }

    /// Destroys one DEK version for good.
    pub async fn destroy(&self, dek: &DekVersion) -> Result<(), EncryptionError> {
        Ok(self.deks.destroy(dek).await?)
    }

    /// Encrypts the fields of `value` that `rule` covers, for `subject`.
    pub(crate) async fn seal(
        &self,
        schema: &Schema,
        names: &Names,
        metadata_tags: &[(String, Vec<String>)],
        rule: &EncryptRule,
        subject: &str,
        value: &mut Value,
    ) -> Result<(), EncryptionError> {
        if !rule.writes {
            return Ok(());
        }
        let tagging = Tagging {
            rule_tags: &rule.tags,
            metadata_tags,
        };
        let leaves = tagged_leaves(schema, names, value, &tagging);
        if leaves.is_empty() {
            return Ok(());
        }
        let kms = self
            .settings
            .keyring
            .get(&rule.kek)
            .ok_or_else(|| EncryptionError::NoKey(rule.kek.clone()))?;
        if rule.algorithm == DekAlgorithm::Aes256Siv {
            return Err(EncryptionError::Refused(
                "AES256_SIV (deterministic) is not supported by this build".into(),
            ));
        }
        let defaults = KekDefaults {
            kms_type: rule.kms_type.as_deref().unwrap_or(kms.kms_type()),
            kms_key_id: rule.kms_key_id.as_deref().unwrap_or(&rule.kek),
        };
        let kek = self.deks.kek(&rule.kek, Some(defaults)).await?;
        if kek.kms_type != kms.kms_type() {
            return Err(EncryptionError::Refused(format!(
                "KEK {} is a {} key but this service holds it through {}",
                kek.name,
                kek.kms_type,
                kms.kms_type()
            )));
        }
        let dek = self
            .deks
            .for_write(
                &kek,
                kms.as_ref(),
                subject,
                rule.algorithm,
                rule.expiry_days,
            )
            .await?;
        for leaf in leaves {
            let plaintext: &[u8] = match leaf {
                Value::String(s) => s.as_bytes(),
                Value::Bytes(b) => b,
                _ => unreachable!("only strings and bytes are collected"),
            };
            let mut sealed = Vec::with_capacity(plaintext.len() + 33);
            if rule.expiry_days > 0 {
                sealed.push(0);
                sealed.extend_from_slice(&dek.version.to_be_bytes());
            }
            sealed.extend_from_slice(&dek.cipher.seal(plaintext));
            *leaf = match leaf {
                Value::String(_) => Value::String(BASE64.encode(&sealed)),
                _ => Value::Bytes(sealed),
            };
        }
        Ok(())
    }

    /// Decrypts the fields of `value` that `rule` covers, when this process holds the KEK.
    /// Either every covered field opens or none is changed; `Ok(Some(reason))` says why they
    /// stayed sealed.
    pub(crate) async fn open(
        &self,
        schema: &Schema,
        names: &Names,
        metadata_tags: &[(String, Vec<String>)],
        rule: &EncryptRule,
        subject: &str,
        value: &mut Value,
    ) -> Result<Option<Sealed>, EncryptionError> {
        if !rule.reads {
            return Ok(None);
        }
        let tagging = Tagging {
            rule_tags: &rule.tags,
            metadata_tags,
        };
        let leaves = tagged_leaves(schema, names, value, &tagging);
        if leaves.is_empty() {
            return Ok(None);
        }
        let sealed = match self.open_leaves(rule, subject, leaves).await? {
            None => return Ok(None),
            Some(reason) => reason,
        };
        crate::internal_events::PersonalDataSealed {
            kek: &rule.kek,
            subject,
            reason: sealed,
        }
        .emit();
        match rule.on_read_failure {
            OnReadFailure::KeepCiphertext => Ok(Some(sealed)),
            OnReadFailure::Refuse => Err(EncryptionError::Sealed(sealed.as_str())),
        }
    }

    async fn open_leaves(
        &self,
        rule: &EncryptRule,
        subject: &str,
        leaves: Vec<&mut Value>,
    ) -> Result<Option<Sealed>, EncryptionError> {
        let Some(kms) = self.settings.keyring.get(&rule.kek) else {
            return Ok(Some(Sealed::NoKey));
        };
        if rule.algorithm == DekAlgorithm::Aes256Siv {
            return Ok(Some(Sealed::Unreadable));
        }
        let kek = match self.deks.kek(&rule.kek, None).await {
            Ok(kek) => kek,
            Err(DekError::NotFound(_)) => return Ok(Some(Sealed::KeyDestroyed)),
            Err(DekError::Unavailable(m)) => {
                return Err(EncryptionError::Unavailable(DekError::Unavailable(m)))
            }
            Err(_) => return Ok(Some(Sealed::Unreadable)),
        };
        let mut opened = Vec::with_capacity(leaves.len());
        for leaf in &leaves {
            let raw = match &**leaf {
                Value::String(s) => match BASE64.decode(s.trim()) {
                    Ok(raw) => raw,
                    Err(_) => return Ok(Some(Sealed::Unreadable)),
                },
                Value::Bytes(b) => b.clone(),
                _ => unreachable!("only strings and bytes are collected"),
            };
            let (version, ciphertext) = if rule.expiry_days > 0 {
                if raw.len() < 5 {
                    return Ok(Some(Sealed::Unreadable));
                }
                let version = i32::from_be_bytes([raw[1], raw[2], raw[3], raw[4]]);
                (version, &raw[5..])
            } else {
                (1, &raw[..])
            };
            let dek = match self
                .deks
                .for_read(&kek, kms.as_ref(), subject, rule.algorithm, version)
                .await
            {
                Ok(dek) => dek,
                Err(DekError::NotFound(_)) => return Ok(Some(Sealed::KeyDestroyed)),
                Err(DekError::WrongKek(_)) => return Ok(Some(Sealed::WrongKey)),
                Err(DekError::Unavailable(m)) => {
                    return Err(EncryptionError::Unavailable(DekError::Unavailable(m)))
                }
                Err(DekError::Unsupported(_)) => return Ok(Some(Sealed::Unreadable)),
            };
            match dek.cipher.open(ciphertext) {
                Some(plaintext) => opened.push(plaintext),
                None => return Ok(Some(Sealed::Unreadable)),
            }
        }
        let mut values = Vec::with_capacity(opened.len());
        for (leaf, plaintext) in leaves.iter().zip(opened) {
            values.push(match &**leaf {
                Value::String(_) => match String::from_utf8(plaintext) {
                    Ok(text) => Value::String(text),
                    Err(_) => return Ok(Some(Sealed::Unreadable)),
                },
                _ => Value::Bytes(plaintext),
            });
        }
        for (leaf, value) in leaves.into_iter().zip(values) {
            *leaf = value;
        }
        Ok(None)
    }
}
