//! Parsing of schema request bodies and the identity used to deduplicate schemas.

use apache_avro::Schema;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::RegistryError;

/// A validated Avro schema as submitted by a client.
#[derive(Debug, Clone)]
pub(crate) struct ParsedSchema {
    /// The text as the client sent it; stored verbatim for the first registrant.
    pub text: String,
    pub avro: Schema,
    /// Identity of the schema, see [`fingerprint`].
    pub fingerprint: String,
}

#[derive(Deserialize)]
struct SchemaRequest {
    schema: Option<String>,
    #[serde(rename = "schemaType")]
    schema_type: Option<String>,
    references: Option<Vec<Value>>,
}

/// Parses a register/lookup/compatibility body. The body is read as raw bytes
/// by the handlers so that clients sending an unexpected content type still work.
pub(crate) fn parse_request(body: &[u8]) -> Result<ParsedSchema, RegistryError> {
    let req: SchemaRequest = serde_json::from_slice(body)
        .map_err(|e| RegistryError::InvalidSchema(format!(": malformed request body: {e}")))?;
    if let Some(kind) = req.schema_type.as_deref() {
        if !kind.eq_ignore_ascii_case("AVRO") {
            return Err(RegistryError::InvalidSchema(format!(
                ": schemaType {kind} is not supported, only AVRO"
            )));
        }
    }
    if req.references.is_some_and(|r| !r.is_empty()) {
        return Err(RegistryError::InvalidSchema(
            ": schema references are not supported".to_owned(),
        ));
    }
    let text = req
        .schema
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| RegistryError::InvalidSchema(": empty schema".to_owned()))?;
    parse_schema(text)
}

pub(crate) fn parse_schema(text: String) -> Result<ParsedSchema, RegistryError> {
    let json: Value = serde_json::from_str(&text)
        .map_err(|e| RegistryError::InvalidSchema(format!("{text}: not valid JSON: {e}")))?;
    let avro =
        Schema::parse(&json).map_err(|e| RegistryError::InvalidSchema(format!("{text}: {e}")))?;
    let fingerprint = fingerprint(&json);
    Ok(ParsedSchema {
        text,
        avro,
        fingerprint,
    })
}

/// SHA-256 of the schema JSON with sorted keys and no whitespace.
///
/// Deliberately not the Avro Parsing Canonical Form: PCF strips `default`,
/// `doc` and `aliases`, so two schemas differing only in a default would share
/// an id and the second registrant's default would be silently dropped — yet
/// defaults decide FORWARD/BACKWARD compatibility of later versions.
fn fingerprint(json: &Value) -> String {
    let mut canonical = String::new();
    write_sorted(json, &mut canonical);
    hex::encode(Sha256::digest(canonical.as_bytes()))
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
}
