//! Schema references, as Confluent's clients send them: a schema uses a named type (record,
//! enum, fixed) defined by another subject's version, named in `references` as
//! `{"name": <type's full name>, "subject": …, "version": …}`.
//!
//! Compatibility checks and validation need one self-contained schema, so the referenced
//! definitions are inlined where the type is first used, as Avro's own parser would have met
//! them in one document. Referenced versions are immutable and can only refer to versions
//! registered before them, so references cannot form a cycle; the depth is bounded anyway.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sqlx::AnyConnection;

use crate::error::RegistryError;
use crate::store;

/// How deep references may nest (A uses B uses C …).
const MAX_DEPTH: usize = 16;

const PRIMITIVES: [&str; 8] = [
    "null", "boolean", "int", "long", "float", "double", "bytes", "string",
];

/// One entry of a schema's `references`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Reference {
    pub name: String,
    pub subject: String,
    pub version: i64,
}

/// The references' part of a schema's identity: `None` without references, so that ids of
/// schemas without them are unchanged.
pub(crate) fn canonical(references: &[Reference]) -> Option<String> {
    (!references.is_empty()).then(|| serde_json::to_string(references).expect("references"))
}

/// Checks the entries a client sent: every field present, versions concrete, no type named
/// twice.
pub(crate) fn parse(raw: Option<Vec<Value>>) -> Result<Vec<Reference>, RegistryError> {
    let invalid = |why: String| RegistryError::InvalidSchema(format!(": references: {why}"));
    let mut seen = HashSet::new();
    let mut references = Vec::new();
    for entry in raw.unwrap_or_default() {
        let reference: Reference =
            serde_json::from_value(entry.clone()).map_err(|e| invalid(format!("{entry}: {e}")))?;
        if reference.name.is_empty() || reference.subject.is_empty() {
            return Err(invalid(format!(
                "{entry}: name and subject must not be empty"
            )));
        }
        if !(1..=i64::from(i32::MAX)).contains(&reference.version) {
            return Err(invalid(format!(
                "{entry}: version must be a registered version number"
            )));
        }
        if !seen.insert(reference.name.clone()) {
            return Err(invalid(format!("{} is named twice", reference.name)));
        }
        references.push(reference);
    }
    Ok(references)
}

/// The self-contained definitions of the types `references` name, each with its own
/// references inlined. A reference to a version that does not exist, or was deleted, is an
/// invalid schema (42201), as in Confluent.
pub(crate) async fn definitions(
    conn: &mut AnyConnection,
    references: &[Reference],
) -> Result<Vec<Value>, RegistryError> {
    definitions_at(conn, references, 0).await
}

type Boxed<'a, T> = Pin<Box<dyn Future<Output = Result<T, RegistryError>> + Send + 'a>>;

fn definitions_at<'a>(
    conn: &'a mut AnyConnection,
    references: &'a [Reference],
    depth: usize,
) -> Boxed<'a, Vec<Value>> {
    Box::pin(async move {
        if !references.is_empty() && depth >= MAX_DEPTH {
            return Err(RegistryError::InvalidSchema(format!(
                ": references nest deeper than {MAX_DEPTH} levels"
            )));
        }
        let mut out = Vec::with_capacity(references.len());
        for reference in references {
            let (text, nested) =
                store::live_version_text(conn, &reference.subject, reference.version)
                    .await?
                    .ok_or_else(|| {
                        RegistryError::InvalidSchema(format!(
                            ": reference {} names version {} of subject '{}', which does not exist",
                            reference.name, reference.version, reference.subject
                        ))
                    })?;
            let json: Value = serde_json::from_str(&text)
                .map_err(|e| RegistryError::Corrupt(format!("stored schema text: {e}")))?;
            let inner = definitions_at(conn, &nested, depth + 1).await?;
            out.push(inline(&json, &inner)?);
        }
        Ok(out)
    })
}

/// `schema` with the named types of `definitions` written out where each is first used.
pub(crate) fn inline(schema: &Value, definitions: &[Value]) -> Result<Value, RegistryError> {
    let mut available = HashMap::new();
    for definition in definitions {
        let (full, standalone) = standalone(definition)?;
        available.insert(full, standalone);
    }
    let mut out = schema.clone();
    if !available.is_empty() {
        Inliner {
            available,
            defined: HashSet::new(),
        }
        .walk(&mut out, None);
    }
    Ok(out)
}

/// A referenced definition made independent of where it is inlined: its name becomes its
/// full name, so an enclosing namespace cannot change it.
fn standalone(definition: &Value) -> Result<(String, Value), RegistryError> {
    let Value::Object(map) = definition else {
        return Err(RegistryError::InvalidSchema(format!(
            ": a referenced schema must be a named type (record, enum or fixed), not {definition}"
        )));
    };
    let full = full_name(map, None).ok_or_else(|| {
        RegistryError::InvalidSchema(": a referenced schema has no name".to_owned())
    })?;
    let mut map = map.clone();
    map.insert("name".into(), Value::String(full.clone()));
    // An empty namespace is the null namespace (Avro specification).
    map.insert(
        "namespace".into(),
        Value::String(namespace_of(&full).unwrap_or_default().to_owned()),
    );
    Ok((full, Value::Object(map)))
}

fn full_name(map: &Map<String, Value>, enclosing: Option<&str>) -> Option<String> {
    let name = map.get("name")?.as_str()?;
    if name.contains('.') {
        return Some(name.to_owned());
    }
    let namespace = match map.get("namespace").and_then(Value::as_str) {
        Some(ns) => Some(ns),
        None => enclosing,
    };
    Some(match namespace.filter(|ns| !ns.is_empty()) {
        Some(ns) => format!("{ns}.{name}"),
        None => name.to_owned(),
    })
}

fn namespace_of(full: &str) -> Option<&str> {
    full.rsplit_once('.').map(|(ns, _)| ns)
}

struct Inliner {
    available: HashMap<String, Value>,
    defined: HashSet<String>,
}

impl Inliner {
    /// Walks in the order Avro's parser defines names: a type used before in the document is
    /// left as a name, the first use of a referenced one receives its definition.
    fn walk(&mut self, node: &mut Value, namespace: Option<&str>) {
        match node {
            Value::String(name) if !PRIMITIVES.contains(&name.as_str()) => {
                let Some(full) = self.resolve(name, namespace) else {
                    return;
                };
                if self.defined.contains(&full) {
                    return;
                }
                if let Some(mut definition) = self.available.remove(&full) {
                    self.walk(&mut definition, None);
                    *node = definition;
                }
            }
            Value::Array(branches) => {
                for branch in branches {
                    self.walk(branch, namespace);
                }
            }
            Value::Object(map) => self.walk_object(map, namespace),
            _ => {}
        }
    }

    fn walk_object(&mut self, map: &mut Map<String, Value>, namespace: Option<&str>) {
        let kind = map.get("type").and_then(Value::as_str).map(str::to_owned);
        match kind.as_deref() {
            Some("record" | "error" | "enum" | "fixed") => {
                let Some(full) = full_name(map, namespace) else {
                    return;
                };
                self.defined.insert(full.clone());
                let inner = namespace_of(&full).map(str::to_owned);
                if let Some(Value::Array(fields)) = map.get_mut("fields") {
                    for field in fields {
                        if let Some(t) = field.get_mut("type") {
                            self.walk(t, inner.as_deref());
                        }
                    }
                }
            }
            Some("array") => {
                if let Some(items) = map.get_mut("items") {
                    self.walk(items, namespace);
                }
            }
            Some("map") => {
                if let Some(values) = map.get_mut("values") {
                    self.walk(values, namespace);
                }
            }
            _ => {
                if let Some(t) = map.get_mut("type") {
                    self.walk(t, namespace);
                }
            }
        }
    }

    /// A short name is looked up in the enclosing namespace first, then in the null one.
    fn resolve(&self, name: &str, namespace: Option<&str>) -> Option<String> {
        if name.contains('.') {
            return Some(name.to_owned());
        }
        let known =
            |full: &String| self.defined.contains(full) || self.available.contains_key(full);
        namespace
            .filter(|ns| !ns.is_empty())
            .map(|ns| format!("{ns}.{name}"))
            .filter(known)
            .or_else(|| Some(name.to_owned()).filter(known))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn address() -> Value {
        json!({"type": "record", "name": "Address", "namespace": "id.lintas",
               "fields": [{"name": "village", "type": "string"}]})
    }

    #[test]
    fn a_referenced_type_is_written_out_at_its_first_use_only() {
        let person = json!({"type": "record", "name": "Person", "namespace": "id.lintas",
            "fields": [{"name": "home", "type": "Address"},
                       {"name": "work", "type": ["null", "id.lintas.Address"]}]});
        let inlined = inline(&person, &[address()]).unwrap();
        assert_eq!(inlined["fields"][0]["type"]["name"], "id.lintas.Address");
        assert_eq!(inlined["fields"][1]["type"][1], "id.lintas.Address");
        apache_avro::Schema::parse(&inlined).expect("self-contained");
    }

    #[test]
    fn a_type_of_the_null_namespace_keeps_its_name_inside_another_namespace() {
        let code = json!({"type": "fixed", "name": "Code", "size": 2});
        let outer = json!({"type": "record", "name": "R", "namespace": "a.b",
            "fields": [{"name": "c", "type": "Code"}]});
        let inlined = inline(&outer, &[code]).unwrap();
        let parsed = apache_avro::Schema::parse(&inlined).expect("parses");
        let apache_avro::Schema::Record(record) = parsed else {
            panic!("record")
        };
        let apache_avro::Schema::Fixed(fixed) = &record.fields[0].schema else {
            panic!("fixed")
        };
        assert_eq!(fixed.name.fullname(None), "Code");
    }

    #[test]
    fn references_must_be_complete_and_distinct() {
        let ok = json!({"name": "id.lintas.Address", "subject": "address", "version": 1});
        assert_eq!(parse(Some(vec![ok.clone()])).unwrap().len(), 1);
        assert!(parse(Some(vec![ok.clone(), ok])).is_err());
        let latest = json!({"name": "A", "subject": "a", "version": -1});
        assert!(parse(Some(vec![latest])).is_err());
        assert!(parse(Some(vec![json!({"name": "A"})])).is_err());
    }
}
