//! Client of a Confluent-compatible schema registry (ours, or Confluent's), with caches so
//! that the hot path never makes an HTTP call per record: ids by subject and schema, and
//! parsed writer schemas by id. Misses are fetched once; failures are not cached.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use apache_avro::Schema;
use serde::Deserialize;

/// A writer schema as the registry returned it, parsed once.
#[derive(Debug)]
pub struct WriterSchema {
    pub id: u32,
    pub schema: Schema,
    /// Full name of the top-level record, which names the Rust type to decode into.
    pub full_name: String,
    /// Parsing Canonical Form, to skip schema resolution when it equals the reader's.
    pub canonical: String,
    /// Field-encryption rules registered with the schema (its `ruleSet`).
    pub encrypt_rules: Vec<crate::encryption::EncryptRule>,
    /// `metadata.tags`: field-path patterns to tags.
    pub metadata_tags: Vec<(String, Vec<String>)>,
    /// Named types, to follow references while walking a value.
    pub(crate) names: crate::encryption::Names,
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The registry could not be reached or failed: retry, never treat a record as bad for it.
    #[error("schema registry unavailable: {0}")]
    Unavailable(String),
    /// The registry answered that the schema id does not exist.
    #[error("schema id {0} is unknown to the registry")]
    UnknownId(u32),
    /// The registry refused a registration (incompatible, invalid): a contract defect.
    #[error("schema registry refused {subject}: HTTP {status}: {body}")]
    Refused {
        subject: String,
        status: u16,
        body: String,
    },
    #[error("schema id {id} does not hold a usable Avro record schema: {reason}")]
    BadSchema { id: u32, reason: String },
}

impl RegistryError {
    pub fn is_transient(&self) -> bool {
        matches!(self, RegistryError::Unavailable(_))
    }
}

#[derive(Clone)]
pub struct RegistryClient {
    base: String,
    http: reqwest::Client,
    by_id: Arc<RwLock<HashMap<u32, Arc<WriterSchema>>>>,
    ids: Arc<RwLock<HashMap<(String, String), u32>>>,
}

const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";

impl RegistryClient {
    pub fn new(base_url: &str) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(3))
            .build()
            .expect("a plain HTTP client builds");
        RegistryClient {
            base: base_url.trim_end_matches('/').to_string(),
            http,
            by_id: Default::default(),
            ids: Default::default(),
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// A request to the registry (or its DEK Registry) with the headers Confluent's API wants.
    pub(crate) fn request(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, url)
            .header("accept", CONTENT_TYPE)
            .header("content-type", CONTENT_TYPE)
    }

    /// Registers `schema_json` under `subject` (idempotent on the registry side) and returns
    /// its global id; cached per (subject, schema).
    pub async fn register(&self, subject: &str, schema_json: &str) -> Result<u32, RegistryError> {
        self.register_with_rules(subject, schema_json, None).await
    }

    /// Registers `schema_json` with its data-contract `ruleSet` (for example the encryption
    /// of personal-data fields); cached per (subject, schema, rules).
    pub async fn register_with_rules(
        &self,
        subject: &str,
        schema_json: &str,
        rule_set: Option<&serde_json::Value>,
    ) -> Result<u32, RegistryError> {
        let rules_text = rule_set.map(|r| r.to_string()).unwrap_or_default();
        let cache_key = (subject.to_string(), format!("{schema_json}\n{rules_text}"));
        if let Some(id) = self.ids.read().expect("lock").get(&cache_key) {
            return Ok(*id);
        }
        #[derive(Deserialize)]
        struct Registered {
            id: u32,
        }
        let url = format!("{}/subjects/{}/versions", self.base, encode_path(subject));
        let response = self
            .http
            .post(url)
            .header("content-type", CONTENT_TYPE)
            .json(&match rule_set {
                Some(rules) => serde_json::json!({ "schema": schema_json, "schemaType": "AVRO", "ruleSet": rules }),
                None => serde_json::json!({ "schema": schema_json, "schemaType": "AVRO" }),
            })
            .send()
            .await
            .map_err(|e| RegistryError::Unavailable(e.to_string()))?;
        let status = response.status();
        if status.is_server_error() {
            return Err(RegistryError::Unavailable(format!("HTTP {status}")));
        }
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            return Err(RegistryError::Refused {
                subject: subject.into(),
                status: status.as_u16(),
                body,
            });
        }
        let registered: Registered = response
            .json()
            .await
            .map_err(|e| RegistryError::Unavailable(e.to_string()))?;
        self.ids
            .write()
            .expect("lock")
            .insert(cache_key, registered.id);
        Ok(registered.id)
    }

    /// Whether the registry answers as a Confluent schema registry (`GET /subjects` returns a
    /// JSON array): what a service checks before it says it is ready.
    pub async fn check(&self) -> Result<(), RegistryError> {
        let response = self
            .http
            .get(format!("{}/subjects", self.base))
            .header("accept", CONTENT_TYPE)
            .send()
            .await
            .map_err(|e| RegistryError::Unavailable(e.to_string()))?;
        let status = response.status();
        let body: Option<serde_json::Value> = response.json().await.ok();
        match body {
            Some(serde_json::Value::Array(_)) if status.is_success() => Ok(()),
            _ => Err(RegistryError::Unavailable(format!(
                "{} does not answer as a Confluent schema registry (GET /subjects: HTTP {status})",
                self.base
            ))),
        }
    }

    /// The writer schema of `id`, fetched once and then served from memory.
    pub async fn schema_by_id(&self, id: u32) -> Result<Arc<WriterSchema>, RegistryError> {
        if let Some(found) = self.by_id.read().expect("lock").get(&id) {
            return Ok(found.clone());
        }
        #[derive(Deserialize)]
        struct ById {
            schema: String,
            #[serde(rename = "schemaType")]
            schema_type: Option<String>,
            #[serde(rename = "ruleSet")]
            rule_set: Option<serde_json::Value>,
            metadata: Option<serde_json::Value>,
        }
        let response = self
            .http
            .get(format!("{}/schemas/ids/{id}", self.base))
            .header("accept", CONTENT_TYPE)
            .send()
            .await
            .map_err(|e| RegistryError::Unavailable(e.to_string()))?;
        let status = response.status();
        if status.as_u16() == 404 {
            // Only the registry's own answer (error code 40403, schema not found) says the id
            // is unknown. A 404 from a wrong base URL, an ingress during a deploy or anything
            // else that is not a Confluent registry is an outage to wait out: treating it as an
            // unknown id would dead-letter the whole feed.
            let body = response.text().await.unwrap_or_default();
            let code = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v.get("error_code").and_then(serde_json::Value::as_i64));
            return Err(match code {
                Some(40403) => RegistryError::UnknownId(id),
                _ => RegistryError::Unavailable(format!(
                    "HTTP 404 for schema id {id} that is not the registry's schema-not-found answer \
                     (is {} a Confluent schema registry?): {}",
                    self.base,
                    body.chars().take(120).collect::<String>()
                )),
            });
        }
        if !status.is_success() {
            return Err(RegistryError::Unavailable(format!(
                "HTTP {status} for schema id {id}"
            )));
        }
        let found: ById = response
            .json()
            .await
            .map_err(|e| RegistryError::Unavailable(e.to_string()))?;
        if found.schema_type.as_deref().is_some_and(|t| t != "AVRO") {
            return Err(RegistryError::BadSchema {
                id,
                reason: "not an Avro schema".into(),
            });
        }
        let schema = Schema::parse_str(&found.schema).map_err(|e| RegistryError::BadSchema {
            id,
            reason: e.to_string(),
        })?;
        let full_name = match &schema {
            Schema::Record(r) => r.name.fullname(None),
            _ => {
                return Err(RegistryError::BadSchema {
                    id,
                    reason: "not a record".into(),
                })
            }
        };
        let canonical = schema.canonical_form();
        // A rule this build cannot honour must not let ciphertext pass for clear text.
        let encrypt_rules =
            crate::encryption::rules::parse(found.rule_set.as_ref(), found.metadata.as_ref())
                .map_err(|reason| RegistryError::BadSchema { id, reason })?;
        let writer = Arc::new(WriterSchema {
            id,
            names: crate::encryption::named_types(&schema),
            schema,
            full_name,
            canonical,
            encrypt_rules,
            metadata_tags: crate::encryption::rules::metadata_tags(found.metadata.as_ref()),
        });
        self.by_id.write().expect("lock").insert(id, writer.clone());
        Ok(writer)
    }
}

pub(crate) fn encode_path(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
