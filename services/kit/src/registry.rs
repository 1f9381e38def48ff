//! Client of a Confluent-compatible schema registry (ours, or Confluent's), with caches so
//! that the hot path never makes an HTTP call per record: ids by subject and schema, and
//! parsed writer schemas by id. Misses are fetched once; failures are not cached.
//!
//! Every request carries the service's registry credential (HTTP Basic, as Confluent's
//! `basic.auth.user.info`). A reader needs only the `read` role: it looks schema ids up and
//! registers nothing; publishers register their schemas at start with the `write` role.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use apache_avro::Schema;
use serde::Deserialize;

use crate::secret::Secret;

/// The service's registry credential, `user:password` as Confluent's clients take it
/// (`basic.auth.user.info`): from the environment or, better, a file (a mounted Secret).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct RegistryAuth {
    /// Registry credential `user:password` (the `read` role for subscribers and tools, `write`
    /// for publishers). Prefer --registry-user-info-file: a flag shows in the process list.
    #[arg(
        long = "registry-user-info",
        env = "LINTAS_REGISTRY_USER_INFO",
        hide_env_values = true
    )]
    pub user_info: Option<Secret>,
    /// File holding the registry credential `user:password` (a trailing newline is ignored).
    #[arg(
        long = "registry-user-info-file",
        env = "LINTAS_REGISTRY_USER_INFO_FILE",
        conflicts_with = "user_info"
    )]
    pub user_info_file: Option<PathBuf>,
}

impl RegistryAuth {
    /// The credential given by flag, environment or file, if any.
    pub fn user_info(&self) -> anyhow::Result<Option<Secret>> {
        let info = match (&self.user_info, &self.user_info_file) {
            (Some(info), _) => info.clone(),
            (None, Some(file)) => {
                let text = std::fs::read_to_string(file).map_err(|e| {
                    anyhow::anyhow!("LINTAS_REGISTRY_USER_INFO_FILE {}: {e}", file.display())
                })?;
                Secret::new(text.trim_end_matches(['\r', '\n']))
            }
            (None, None) => return Ok(None),
        };
        if !info.expose().contains(':') || info.expose().starts_with(':') {
            anyhow::bail!("the registry credential must be user:password (basic.auth.user.info)");
        }
        Ok(Some(info))
    }
}

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
    /// HTTP Basic user and password.
    credential: Option<Arc<(String, Secret)>>,
    by_id: Arc<RwLock<HashMap<u32, Arc<WriterSchema>>>>,
    ids: Arc<RwLock<HashMap<(String, String), u32>>>,
}

impl std::fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryClient")
            .field("base", &self.base)
            .field("user", &self.credential.as_ref().map(|c| c.0.as_str()))
            .field("password", &self.credential.as_ref().map(|c| &c.1))
            .finish_non_exhaustive()
    }
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
            credential: None,
            by_id: Default::default(),
            ids: Default::default(),
        }
    }

    /// This client sending `user_info` (`user:password`) with every request.
    pub fn with_user_info(mut self, user_info: Option<&Secret>) -> Self {
        self.credential = user_info.map(|info| {
            let (user, password) = info.expose().split_once(':').unwrap_or((info.expose(), ""));
            Arc::new((user.to_string(), Secret::new(password)))
        });
        self
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// A request to the registry (or its DEK Registry) with the headers Confluent's API wants.
    /// Carries the credential, if the client has one.
    pub(crate) fn request(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        let request = self
            .http
            .request(method, url)
            .header("accept", CONTENT_TYPE)
            .header("content-type", CONTENT_TYPE);
        match &self.credential {
            Some(c) => request.basic_auth(&c.0, Some(c.1.expose())),
            None => request,
        }
    }

    /// The id of `schema_json` (with `rule_set`) under `subject`: from the cache, else looked
    /// up (the `read` role suffices), else registered (which needs `write`: for a reader whose
    /// schema no publisher registered yet this is [`RegistryError::Unavailable`], to retry).
    pub async fn id_for(
        &self,
        subject: &str,
        schema_json: &str,
        rule_set: Option<&serde_json::Value>,
    ) -> Result<u32, RegistryError> {
        let cache_key = Self::cache_key(subject, schema_json, rule_set);
        if let Some(id) = self.ids.read().expect("lock").get(&cache_key) {
            return Ok(*id);
        }
        match self.lookup(subject, schema_json, rule_set).await? {
            Some(id) => {
                self.ids.write().expect("lock").insert(cache_key, id);
                Ok(id)
            }
            None => match self.register_with_rules(subject, schema_json, rule_set).await {
                // A reader's credential may not register: it waits for a publisher (or the
                // deploy step) to register the contract, as for an outage.
                Err(RegistryError::Refused { status, .. }) if matches!(status, 401 | 403) => {
                    Err(RegistryError::Unavailable(format!(
                        "schema {subject} is not registered and this service's registry credential may not register it (HTTP {status}): waiting for a publisher with the write role to register the contract"
                    )))
                }
                other => other,
            },
        }
    }

    fn cache_key(
        subject: &str,
        schema_json: &str,
        rule_set: Option<&serde_json::Value>,
    ) -> (String, String) {
        let rules_text = rule_set.map(|r| r.to_string()).unwrap_or_default();
        (subject.to_string(), format!("{schema_json}\n{rules_text}"))
    }

    fn schema_body(schema_json: &str, rule_set: Option<&serde_json::Value>) -> serde_json::Value {
        match rule_set {
            Some(rules) => {
                serde_json::json!({ "schema": schema_json, "schemaType": "AVRO", "ruleSet": rules })
            }
            None => serde_json::json!({ "schema": schema_json, "schemaType": "AVRO" }),
        }
    }

    /// Confluent's lookup (`POST /subjects/{subject}`): the id under which `schema_json` is
    /// registered, `None` when it is not.
    pub async fn lookup(
        &self,
        subject: &str,
        schema_json: &str,
        rule_set: Option<&serde_json::Value>,
    ) -> Result<Option<u32>, RegistryError> {
        let url = format!("{}/subjects/{}", self.base, encode_path(subject));
        let response = self.post_schema(&url, schema_json, rule_set).await?;
        if response.status().as_u16() == 404 {
            let body = response.text().await.unwrap_or_default();
            let code = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v.get("error_code").and_then(serde_json::Value::as_i64));
            // Subject not found, schema not found: not registered yet. Any other 404 is not
            // the registry answering.
            return match code {
                Some(40401 | 40403) => Ok(None),
                _ => Err(RegistryError::Unavailable(format!(
                    "HTTP 404 looking up {subject} that is not the registry's answer: {}",
                    body.chars().take(120).collect::<String>()
                ))),
            };
        }
        Self::schema_id(subject, response).await.map(Some)
    }

    /// POSTs a schema (with its rules) to `url`: a lookup or a registration.
    async fn post_schema(
        &self,
        url: &str,
        schema_json: &str,
        rule_set: Option<&serde_json::Value>,
    ) -> Result<reqwest::Response, RegistryError> {
        self.request(reqwest::Method::POST, url)
            .json(&Self::schema_body(schema_json, rule_set))
            .send()
            .await
            .map_err(|e| RegistryError::Unavailable(e.to_string()))
    }

    /// The `{"id": …}` of a lookup's or a registration's answer; a 5xx is an outage, any
    /// other refusal the registry's word on `subject`.
    async fn schema_id(subject: &str, response: reqwest::Response) -> Result<u32, RegistryError> {
        #[derive(Deserialize)]
        struct Id {
            id: u32,
        }
        let status = response.status();
        if status.is_server_error() {
            return Err(RegistryError::Unavailable(format!("HTTP {status}")));
        }
        if !status.is_success() {
            return Err(RegistryError::Refused {
                subject: subject.into(),
                status: status.as_u16(),
                body: response.text().await.unwrap_or_default(),
            });
        }
        let answer: Id = response
            .json()
            .await
            .map_err(|e| RegistryError::Unavailable(e.to_string()))?;
        Ok(answer.id)
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
        let cache_key = Self::cache_key(subject, schema_json, rule_set);
        if let Some(id) = self.ids.read().expect("lock").get(&cache_key) {
            return Ok(*id);
        }
        let url = format!("{}/subjects/{}/versions", self.base, encode_path(subject));
        let response = self.post_schema(&url, schema_json, rule_set).await?;
        let id = Self::schema_id(subject, response).await?;
        self.ids.write().expect("lock").insert(cache_key, id);
        Ok(id)
    }

    /// Whether the registry answers as a Confluent schema registry (`GET /subjects` returns a
    /// JSON array): what a service checks before it says it is ready.
    pub async fn check(&self) -> Result<(), RegistryError> {
        let response = self
            .request(reqwest::Method::GET, &format!("{}/subjects", self.base))
            .send()
            .await
            .map_err(|e| RegistryError::Unavailable(e.to_string()))?;
        let status = response.status();
        if matches!(status.as_u16(), 401 | 403) {
            return Err(RegistryError::Unavailable(format!(
                "{} refused this service's credential (HTTP {status}): set LINTAS_REGISTRY_USER_INFO_FILE to a user with the read role",
                self.base
            )));
        }
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
            .request(
                reqwest::Method::GET,
                &format!("{}/schemas/ids/{id}", self.base),
            )
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The credential comes from a file (its trailing newline dropped) or the environment,
    /// must be user:password, and never shows in `{:?}`.
    #[test]
    fn credential_from_a_file_never_printed() {
        let dir = std::env::temp_dir().join(format!("registry-auth-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("user-info");
        std::fs::write(&file, "lintas-read:s3cret-pa:ss\n").unwrap();
        let auth = RegistryAuth {
            user_info: None,
            user_info_file: Some(file),
        };
        let info = auth.user_info().unwrap().unwrap();
        assert_eq!(info.expose(), "lintas-read:s3cret-pa:ss");
        let client = RegistryClient::new("http://registry:8081").with_user_info(Some(&info));
        let printed = format!("{client:?} {auth:?}");
        assert!(printed.contains("lintas-read"), "{printed}");
        assert!(!printed.contains("s3cret"), "{printed}");
        for wrong in ["no-colon", ":password-only"] {
            let auth = RegistryAuth {
                user_info: Some(Secret::new(wrong)),
                user_info_file: None,
            };
            assert!(auth.user_info().is_err(), "{wrong}");
        }
        std::fs::remove_dir_all(&dir).ok();
    }
}
