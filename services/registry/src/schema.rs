//! Parsing of schema request bodies and the identity used to deduplicate schemas.

use apache_avro::Schema;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::contract::{self, Part};
use crate::error::RegistryError;
use crate::references::{self, Reference};

/// A validated Avro schema as submitted by a client, with its data contract.
#[derive(Debug, Clone)]
pub(crate) struct ParsedSchema {
    /// The text as the client sent it; stored verbatim for the first registrant.
    pub text: String,
    pub avro: Schema,
    /// `schema` with sorted keys and no whitespace, see [`fingerprint`].
    sorted: String,
    pub metadata: Part,
    pub rule_set: Part,
    /// The types it uses from other subjects' versions, in the client's order.
    pub references: Vec<Reference>,
    /// Identity of (schema, references, metadata, ruleSet), see [`identity`].
    pub fingerprint: String,
}

impl ParsedSchema {
    fn identity(&self) -> String {
        identity(
            &self.sorted,
            references::canonical(&self.references).as_deref(),
            self.metadata.stored(),
            self.rule_set.stored(),
        )
    }

    /// Confluent's inheritance rule: a part the request left out is taken from the
    /// subject's latest live version (`latest` = its stored metadata and ruleSet), so a
    /// producer auto-registering the bare schema keeps the subject's rules. `None` when
    /// nothing changes.
    pub fn inherit(&self, latest: (Option<&str>, Option<&str>)) -> Option<ParsedSchema> {
        let take = |part: &Part, from: Option<&str>| match (part, from) {
            (Part::Unset, Some(json)) => Some(Part::Given(Some(json.to_owned()))),
            _ => None,
        };
        let metadata = take(&self.metadata, latest.0);
        let rule_set = take(&self.rule_set, latest.1);
        if metadata.is_none() && rule_set.is_none() {
            return None;
        }
        let mut next = self.clone();
        next.metadata = metadata.unwrap_or(next.metadata);
        next.rule_set = rule_set.unwrap_or(next.rule_set);
        next.fingerprint = next.identity();
        Some(next)
    }
}

#[derive(Deserialize)]
struct RequestBody {
    schema: Option<String>,
    #[serde(rename = "schemaType")]
    schema_type: Option<String>,
    references: Option<Vec<Value>>,
    metadata: Option<Value>,
    #[serde(rename = "ruleSet")]
    rule_set: Option<Value>,
}

/// A register/lookup/compatibility body, read but not yet resolved: its references must be
/// looked up in the store before the schema can be parsed ([`SchemaRequest::parse`]).
pub(crate) struct SchemaRequest {
    text: String,
    pub references: Vec<Reference>,
    metadata: Part,
    rule_set: Part,
}

/// Reads a register/lookup/compatibility body. The body is read as raw bytes by the handlers
/// so that clients sending an unexpected content type still work.
pub(crate) fn read_request(body: &[u8]) -> Result<SchemaRequest, RegistryError> {
    let req: RequestBody = serde_json::from_slice(body)
        .map_err(|e| RegistryError::InvalidSchema(format!(": malformed request body: {e}")))?;
    if let Some(kind) = req.schema_type.as_deref() {
        if !kind.eq_ignore_ascii_case("AVRO") {
            return Err(RegistryError::InvalidSchema(format!(
                ": schemaType {kind} is not supported, only AVRO"
            )));
        }
    }
    let references = references::parse(req.references)?;
    let metadata = contract::parse_metadata(req.metadata)?;
    let rule_set = contract::parse_rule_set(req.rule_set)?;
    let text = req
        .schema
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| RegistryError::InvalidSchema(": empty schema".to_owned()))?;
    Ok(SchemaRequest {
        text,
        references,
        metadata,
        rule_set,
    })
}

impl SchemaRequest {
    /// Parses the schema with the self-contained definitions of its references
    /// ([`references::definitions`]).
    pub fn parse(self, definitions: &[Value]) -> Result<ParsedSchema, RegistryError> {
        let mut parsed = parse_with(self.text, definitions)?;
        parsed.references = self.references;
        parsed.metadata = self.metadata;
        parsed.rule_set = self.rule_set;
        parsed.fingerprint = parsed.identity();
        Ok(parsed)
    }
}

#[cfg(test)]
pub(crate) fn parse_request(body: &[u8]) -> Result<ParsedSchema, RegistryError> {
    read_request(body)?.parse(&[])
}

/// A bare schema, without data contract.
#[cfg(test)]
pub(crate) fn parse_schema(text: String) -> Result<ParsedSchema, RegistryError> {
    parse_with(text, &[])
}

/// The schema as sent, parsed self-contained: `definitions` are the referenced types,
/// inlined at their first use ([`references::inline`]).
pub(crate) fn parse_with(
    text: String,
    definitions: &[Value],
) -> Result<ParsedSchema, RegistryError> {
    let json: Value = serde_json::from_str(&text)
        .map_err(|e| RegistryError::InvalidSchema(format!("{text}: not valid JSON: {e}")))?;
    let inlined = references::inline(&json, definitions)?;
    let avro = Schema::parse(&inlined)
        .map_err(|e| RegistryError::InvalidSchema(format!("{text}: {e}")))?;
    let mut sorted = String::new();
    write_sorted(&json, &mut sorted);
    let fingerprint = fingerprint(&sorted);
    Ok(ParsedSchema {
        text,
        avro,
        sorted,
        metadata: Part::Unset,
        rule_set: Part::Unset,
        references: Vec::new(),
        fingerprint,
    })
}

/// SHA-256 of the schema JSON with sorted keys and no whitespace.
///
/// Deliberately not the Avro Parsing Canonical Form: PCF strips `default`,
/// `doc` and `aliases`, so two schemas differing only in a default would share
/// an id and the second registrant's default would be silently dropped — yet
/// defaults decide FORWARD/BACKWARD compatibility of later versions.
fn fingerprint(sorted: &str) -> String {
    hex::encode(Sha256::digest(sorted.as_bytes()))
}

/// The identity behind a schema id: (schema, references, metadata, ruleSet), as in
/// Confluent.
///
/// Without references or a contract it is the schema's [`fingerprint`], so ids registered
/// before those existed stay put. With a contract it hashes the object
/// `{"metadata":…,"ruleSet":…,"schema":…}` (canonical parts, `null` when absent); with
/// references, `{"metadata":…,"references":[…],"ruleSet":…,"schema":…}`. Neither object has
/// a `type`, so its text can never be the sorted text of an Avro schema, and the key
/// `references` keeps the two kinds apart.
fn identity(
    sorted: &str,
    references: Option<&str>,
    metadata: Option<&str>,
    rule_set: Option<&str>,
) -> String {
    if references.is_none() && metadata.is_none() && rule_set.is_none() {
        return fingerprint(sorted);
    }
    let references = references
        .map(|r| format!("\"references\":{r},"))
        .unwrap_or_default();
    let combined = format!(
        "{{\"metadata\":{},{references}\"ruleSet\":{},\"schema\":{sorted}}}",
        metadata.unwrap_or("null"),
        rule_set.unwrap_or("null"),
    );
    fingerprint(&combined)
}

// Explicit sorting because serde_json's `preserve_order` feature may be
// switched on by another crate in the build, which would keep input order.
fn write_sorted(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, val)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_sorted(val, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_sorted(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_order_and_whitespace_do_not_change_identity() {
        let a = parse_schema(
            r#"{"type":"record","name":"A","fields":[{"name":"x","type":"int"}]}"#.into(),
        )
        .unwrap();
        let b = parse_schema(
            r#"{ "fields" : [ { "type" : "int", "name" : "x" } ],
                "name" : "A", "type" : "record" }"#
                .into(),
        )
        .unwrap();
        assert_eq!(a.fingerprint, b.fingerprint);
    }

    #[test]
    fn defaults_change_identity() {
        let a = parse_schema(
            r#"{"type":"record","name":"A","fields":[{"name":"x","type":"int"}]}"#.into(),
        )
        .unwrap();
        let b = parse_schema(
            r#"{"type":"record","name":"A","fields":[{"name":"x","type":"int","default":0}]}"#
                .into(),
        )
        .unwrap();
        assert_ne!(a.fingerprint, b.fingerprint);
    }

    fn request(body: Value) -> ParsedSchema {
        parse_request(body.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn contract_is_part_of_identity_only_when_present() {
        let schema = r#"{"type":"record","name":"A","fields":[{"name":"x","type":"int"}]}"#;
        let bare = parse_schema(schema.into()).unwrap();
        let plain = request(serde_json::json!({ "schema": schema, "references": [] }));
        assert_eq!(plain.fingerprint, bare.fingerprint);
        let empty = request(serde_json::json!({ "schema": schema, "metadata": {}, "ruleSet": {} }));
        assert_eq!(empty.fingerprint, bare.fingerprint);
        let rules = serde_json::json!({ "domainRules": [{ "name": "r", "type": "ENCRYPT" }] });
        let with = request(serde_json::json!({ "schema": schema, "ruleSet": rules }));
        assert_ne!(with.fingerprint, bare.fingerprint);
        let inherited = plain
            .inherit((None, with.rule_set.stored()))
            .expect("rules inherited");
        assert_eq!(inherited.fingerprint, with.fingerprint);
        assert!(empty.inherit((None, with.rule_set.stored())).is_none());
    }
}
