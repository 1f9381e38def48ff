//! Finds the values of tagged fields in an Avro value, walking it with its schema the way
//! Confluent's clients do: a field's tags reach the strings and bytes inside it through
//! unions, arrays and maps, but not the fields of a nested record (those carry their own).

use std::collections::HashMap;

use apache_avro::schema::{Name, RecordField, Schema};
use apache_avro::types::Value;

use super::rules::wildcard_match;

/// Named types of a schema, to follow references.
pub(crate) type Names = HashMap<Name, Schema>;

/// Every named type defined in `schema`.
pub(crate) fn named_types(schema: &Schema) -> Names {
    fn collect(schema: &Schema, out: &mut Names) {
        match schema {
            Schema::Record(r) => {
                out.entry(r.name.clone()).or_insert_with(|| schema.clone());
                for field in &r.fields {
                    collect(&field.schema, out);
                }
            }
            Schema::Enum(e) => {
                out.entry(e.name.clone()).or_insert_with(|| schema.clone());
            }
            Schema::Fixed(f) => {
                out.entry(f.name.clone()).or_insert_with(|| schema.clone());
            }
            Schema::Union(u) => u.variants().iter().for_each(|s| collect(s, out)),
            Schema::Array(a) => collect(&a.items, out),
            Schema::Map(m) => collect(&m.types, out),
            _ => {}
        }
    }
    let mut out = Names::new();
    collect(schema, &mut out);
    out
}

/// Which fields a rule applies to.
pub(crate) struct Tagging<'a> {
    pub rule_tags: &'a [String],
    pub metadata_tags: &'a [(String, Vec<String>)],
}

impl Tagging<'_> {
    fn applies(&self, full_name: &str, field: &RecordField) -> bool {
        if self.rule_tags.is_empty() {
            return true;
        }
        let wanted = |tag: &str| self.rule_tags.iter().any(|t| t == tag);
        let inline = field
            .custom_attributes
            .get("confluent:tags")
            .and_then(|t| t.as_array())
            .is_some_and(|tags| tags.iter().filter_map(|t| t.as_str()).any(wanted));
        inline
            || self.metadata_tags.iter().any(|(pattern, tags)| {
                wildcard_match(full_name, pattern) && tags.iter().any(|t| wanted(t))
            })
    }
}

/// The string and bytes values of the tagged fields of `value`, in document order.
pub(crate) fn tagged_leaves<'v>(
    schema: &Schema,
    names: &Names,
    value: &'v mut Value,
    tagging: &Tagging<'_>,
) -> Vec<&'v mut Value> {
    let mut out = Vec::new();
    visit(schema, names, value, tagging, false, &mut out);
    out
}

fn visit<'v>(
    schema: &Schema,
    names: &Names,
    value: &'v mut Value,
    tagging: &Tagging<'_>,
    tagged: bool,
    out: &mut Vec<&'v mut Value>,
) {
    let schema = match schema {
        Schema::Ref { name } => match names.get(name) {
            Some(s) => s,
            None => return,
        },
        s => s,
    };
    match schema {
        Schema::Record(record) => {
            let Value::Record(fields) = value else { return };
            let record_name = record.name.fullname(None);
            for (name, field_value) in fields.iter_mut() {
                let Some(field) = record.lookup.get(name.as_str()).map(|&i| &record.fields[i])
                else {
                    continue;
                };
                let applies = tagging.applies(&format!("{record_name}.{name}"), field);
                visit(&field.schema, names, field_value, tagging, applies, out);
            }
        }
        Schema::Union(union) => {
            if let Value::Union(index, inner) = value {
                if let Some(branch) = union.variants().get(*index as usize) {
                    visit(branch, names, inner, tagging, tagged, out);
                }
            }
        }
        Schema::Array(array) => {
            if let Value::Array(items) = value {
                for item in items.iter_mut() {
                    visit(&array.items, names, item, tagging, tagged, out);
                }
            }
        }
        Schema::Map(map) => {
            if let Value::Map(values) = value {
                for item in values.values_mut() {
                    visit(&map.types, names, item, tagging, tagged, out);
                }
            }
        }
        Schema::String | Schema::Bytes
            if tagged && matches!(value, Value::String(_) | Value::Bytes(_)) =>
        {
            out.push(value)
        }
        _ => {}
    }
}
