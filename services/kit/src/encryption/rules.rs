//! The data-contract rule that says which fields are encrypted and under which KEK, in the
//! shape Confluent's registry and clients use (`ruleSet.domainRules`, type `ENCRYPT`).

use std::collections::BTreeMap;

use serde_json::{json, Value};

pub const KEK_NAME: &str = "encrypt.kek.name";
pub const KMS_TYPE: &str = "encrypt.kms.type";
pub const KMS_KEY_ID: &str = "encrypt.kms.key.id";
pub const DEK_ALGORITHM: &str = "encrypt.dek.algorithm";
pub const DEK_EXPIRY_DAYS: &str = "encrypt.dek.expiry.days";

/// The tag Lintas puts on personal-data fields (`"confluent:tags": ["PII"]`).
pub const PII_TAG: &str = "PII";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DekAlgorithm {
    Aes128Gcm,
    Aes256Gcm,
    /// Deterministic; read as sealed by this build (no AES-SIV here).
    Aes256Siv,
}

impl DekAlgorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            DekAlgorithm::Aes128Gcm => "AES128_GCM",
            DekAlgorithm::Aes256Gcm => "AES256_GCM",
            DekAlgorithm::Aes256Siv => "AES256_SIV",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "AES128_GCM" => Some(DekAlgorithm::Aes128Gcm),
            "AES256_GCM" => Some(DekAlgorithm::Aes256Gcm),
            "AES256_SIV" => Some(DekAlgorithm::Aes256Siv),
            _ => None,
        }
    }

    pub(crate) fn key_len(self) -> usize {
        match self {
            DekAlgorithm::Aes128Gcm => 16,
            DekAlgorithm::Aes256Gcm => 32,
            DekAlgorithm::Aes256Siv => 64,
        }
    }
}

/// What a reader does when it cannot decrypt (Confluent's `onFailure`, read side).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnReadFailure {
    /// Leave the fields as ciphertext (`NONE`): the rest of the record applies.
    KeepCiphertext,
    /// Refuse the record (`ERROR`).
    Refuse,
}

/// One field-encryption rule of a registered schema.
#[derive(Debug, Clone, PartialEq)]
pub struct EncryptRule {
    pub name: String,
    /// Fields carrying one of these tags are encrypted; empty means every field.
    pub tags: Vec<String>,
    pub kek: String,
    pub kms_type: Option<String>,
    pub kms_key_id: Option<String>,
    pub algorithm: DekAlgorithm,
    /// DEK rotation period; above 0 the ciphertext carries its DEK version.
    pub expiry_days: u32,
    pub writes: bool,
    pub reads: bool,
    pub on_read_failure: OnReadFailure,
}

impl EncryptRule {
    /// The ruleSet Lintas registers for a schema whose personal data is under `kek`.
    pub fn rule_set(&self) -> Value {
        let mut params = BTreeMap::new();
        params.insert(KEK_NAME, self.kek.clone());
        if let Some(t) = &self.kms_type {
            params.insert(KMS_TYPE, t.clone());
        }
        if let Some(k) = &self.kms_key_id {
            params.insert(KMS_KEY_ID, k.clone());
        }
        params.insert(DEK_ALGORITHM, self.algorithm.as_str().to_string());
        params.insert(DEK_EXPIRY_DAYS, self.expiry_days.to_string());
        json!({ "domainRules": [{
            "name": self.name,
            "doc": "Personal data (fields tagged PII) encrypted field by field; only holders of the KEK read it.",
            "kind": "TRANSFORM",
            "mode": "WRITEREAD",
            "type": "ENCRYPT",
            "tags": self.tags,
            "params": params,
            "onFailure": "ERROR,NONE",
            "disabled": false,
        }]})
    }
}

/// The ENCRYPT rules of a registry answer's `ruleSet`, parameters completed from
/// `metadata.properties` as Confluent's clients do. Rules this build cannot honour (unknown
/// algorithm, bad expiry) come back as errors, so a reader never mistakes them for clear text.
pub fn parse(
    rule_set: Option<&Value>,
    metadata: Option<&Value>,
) -> Result<Vec<EncryptRule>, String> {
    let Some(rules) = rule_set
        .and_then(|r| r.get("domainRules"))
        .and_then(Value::as_array)
    else {
        return Ok(Vec::new());
    };
    let properties = metadata.and_then(|m| m.get("properties"));
    let mut out = Vec::new();
    for rule in rules {
        let text = |key: &str| rule.get(key).and_then(Value::as_str);
        if !text("type").is_some_and(|t| t.eq_ignore_ascii_case("ENCRYPT"))
            || text("kind") != Some("TRANSFORM")
            || rule.get("disabled").and_then(Value::as_bool) == Some(true)
        {
            continue;
        }
        let name = text("name").unwrap_or("").to_string();
        let param = |key: &str| {
            rule.get("params")
                .and_then(|p| p.get(key))
                .or_else(|| properties.and_then(|p| p.get(key)))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let kek = param(KEK_NAME)
            .filter(|k| !k.is_empty())
            .ok_or_else(|| format!("rule {name}: no {KEK_NAME}"))?;
        let algorithm = match param(DEK_ALGORITHM) {
            None => DekAlgorithm::Aes256Gcm,
            Some(a) => {
                DekAlgorithm::parse(&a).ok_or_else(|| format!("rule {name}: algorithm {a}"))?
            }
        };
        let expiry_days = match param(DEK_EXPIRY_DAYS) {
            None => 0,
            Some(d) => d
                .trim()
                .parse::<u32>()
                .map_err(|_| format!("rule {name}: expiry days {d}"))?,
        };
        let mode = text("mode").unwrap_or("");
        let on_failure = text("onFailure").unwrap_or("");
        // WRITEREAD with "WRITE,READ" actions: the second is the read side.
        let read_action = match (mode, on_failure.split_once(',')) {
            ("WRITEREAD", Some((_, read))) => read.trim(),
            _ => on_failure.trim(),
        };
        out.push(EncryptRule {
            name,
            tags: rule
                .get("tags")
                .and_then(Value::as_array)
                .map(|t| {
                    t.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            kek,
            kms_type: param(KMS_TYPE),
            kms_key_id: param(KMS_KEY_ID),
            algorithm,
            expiry_days,
            writes: matches!(mode, "WRITE" | "WRITEREAD"),
            reads: matches!(mode, "READ" | "WRITEREAD"),
            on_read_failure: if read_action.eq_ignore_ascii_case("NONE") {
                OnReadFailure::KeepCiphertext
            } else {
                OnReadFailure::Refuse
            },
        });
    }
    Ok(out)
}

/// `metadata.tags`: field-path patterns (`*` within a name segment, `**` across, `?` one
/// character) to tags.
pub fn metadata_tags(metadata: Option<&Value>) -> Vec<(String, Vec<String>)> {
    metadata
        .and_then(|m| m.get("tags"))
        .and_then(Value::as_object)
        .map(|tags| {
            tags.iter()
                .map(|(path, t)| {
                    let t = t
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(Value::as_str)
                                .map(str::to_string)
                                .collect()
                        })
                        .unwrap_or_default();
                    (path.clone(), t)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Confluent's wildcard match of a field's full name against a metadata tag path.
pub fn wildcard_match(name: &str, pattern: &str) -> bool {
    fn go(n: &[u8], p: &[u8]) -> bool {
        match p {
            [] => n.is_empty(),
            [b'*', b'*', rest @ ..] => (0..=n.len()).any(|i| go(&n[i..], rest)),
            [b'*', rest @ ..] => (0..=n.len())
                .take_while(|&i| i == 0 || n[i - 1] != b'.')
                .any(|i| go(&n[i..], rest)),
            [b'?', rest @ ..] => n.first().is_some_and(|c| *c != b'.') && go(&n[1..], rest),
            [c, rest @ ..] => n.first() == Some(c) && go(&n[1..], rest),
        }
    }
    go(name.as_bytes(), pattern.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_rule_set_parses_back() {
        let rule = EncryptRule {
            name: "lintas-encrypt-pii".into(),
            tags: vec![PII_TAG.into()],
            kek: "lintas-imigrasi".into(),
            kms_type: Some("local-kms".into()),
            kms_key_id: Some("lintas-imigrasi".into()),
            algorithm: DekAlgorithm::Aes256Gcm,
            expiry_days: 30,
            writes: true,
            reads: true,
            on_read_failure: OnReadFailure::KeepCiphertext,
        };
        assert_eq!(parse(Some(&rule.rule_set()), None).unwrap(), vec![rule]);
        assert!(parse(None, None).unwrap().is_empty());
    }

    #[test]
    fn wildcards_as_confluent_reads_them() {
        assert!(wildcard_match("a.B.ssn", "a.B.ssn"));
        assert!(wildcard_match("a.B.ssn", "a.*.ssn"));
        assert!(!wildcard_match("a.B.c.ssn", "a.*.ssn"));
        assert!(wildcard_match("a.B.c.ssn", "a.**.ssn"));
        assert!(wildcard_match("a.B.ssn", "a.B.ss?"));
        assert!(!wildcard_match("a.B.ssn", "a.B"));
    }
}
