//! Confluent data contracts: the `metadata` and `ruleSet` registered beside a schema
//! (field-level encryption rules live in `ruleSet.domainRules`).
//!
//! Both are parsed into typed values and written back out in one canonical form
//! (sorted maps and sets, defaults filled in, empty parts left out, unknown keys dropped,
//! as Confluent's own entities do), so that equal contracts compare and hash equal.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::error::RegistryError;

/// `null` reads as the type's default, as Jackson does for Confluent's entities.
pub(crate) fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Metadata {
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    tags: BTreeMap<String, BTreeSet<String>>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    properties: BTreeMap<String, String>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeSet::is_empty"
    )]
    sensitive: BTreeSet<String>,
}

impl Metadata {
    fn is_empty(&self) -> bool {
        self.tags.is_empty() && self.properties.is_empty() && self.sensitive.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    #[serde(default, deserialize_with = "null_default")]
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    doc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mode: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    rule_type: Option<String>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeSet::is_empty"
    )]
    tags: BTreeSet<String>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    params: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expr: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    on_success: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    on_failure: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    disabled: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RuleSet {
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    migration_rules: Vec<Rule>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    domain_rules: Vec<Rule>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    encoding_rules: Vec<Rule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    enable_at: Option<String>,
}

impl RuleSet {
    fn is_empty(&self) -> bool {
        self.migration_rules.is_empty()
            && self.domain_rules.is_empty()
            && self.encoding_rules.is_empty()
            && self.enable_at.is_none()
    }
}

const KINDS: [&str; 2] = ["TRANSFORM", "CONDITION"];
const MIGRATION_MODES: [&str; 3] = ["UPGRADE", "DOWNGRADE", "UPDOWN"];
const DATA_MODES: [&str; 3] = ["WRITE", "READ", "WRITEREAD"];

/// Checks one rule and fills Confluent's defaults (kind TRANSFORM, mode WRITEREAD).
fn check_rule(rule: &mut Rule, phase: &str, modes: &[&str]) -> Result<(), String> {
    if rule.name.trim().is_empty() {
        return Err(format!("Found {phase} rule with a missing or empty name"));
    }
    let name = &rule.name;
    let kind = rule.kind.get_or_insert_with(|| "TRANSFORM".to_owned());
    if !KINDS.contains(&kind.as_str()) {
        return Err(format!(
            "Rule '{name}' has invalid kind '{kind}'; expected TRANSFORM or CONDITION"
        ));
    }
    let mode = rule.mode.get_or_insert_with(|| "WRITEREAD".to_owned());
    let known = MIGRATION_MODES.iter().chain(DATA_MODES.iter());
    if !known.clone().any(|m| m == mode) {
        return Err(format!(
            "Rule '{name}' has invalid mode '{mode}'; expected one of UPGRADE, DOWNGRADE, \
             UPDOWN, READ, WRITE, WRITEREAD"
        ));
    }
    if !modes.contains(&mode.as_str()) {
        return Err(format!(
            "Rule '{name}': {phase} rules can only be {}",
            modes.join(", ")
        ));
    }
    if rule
        .rule_type
        .as_deref()
        .is_none_or(|t| t.trim().is_empty())
    {
        return Err(format!("Rule '{name}' is missing its type"));
    }
    Ok(())
}

fn check_rule_set(rules: &mut RuleSet) -> Result<(), String> {
    let mut names = HashSet::new();
    let phases: [(&str, &mut Vec<Rule>, &[&str]); 3] = [
        ("Migration", &mut rules.migration_rules, &MIGRATION_MODES),
        ("Domain", &mut rules.domain_rules, &DATA_MODES),
        ("Encoding", &mut rules.encoding_rules, &DATA_MODES),
    ];
    for (phase, list, modes) in phases {
        for rule in list.iter_mut() {
            check_rule(rule, phase, modes)?;
            if !names.insert(rule.name.clone()) {
                return Err(format!("Found rule with duplicate name '{}'", rule.name));
            }
        }
    }
    Ok(())
}

/// What a request said about one contract part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Part {
    /// Absent or `null`: taken over from the subject's latest version on registration.
    Unset,
    /// Given; `None` when given empty (which stops inheritance), else canonical JSON.
    Given(Option<String>),
}

impl Part {
    /// The canonical JSON to store, once inheritance is settled.
    pub fn stored(&self) -> Option<&str> {
        match self {
            Part::Given(Some(json)) => Some(json),
            Part::Unset | Part::Given(None) => None,
        }
    }
}

fn canonical<T: Serialize>(value: &T) -> String {
    // Serializing our own structs of BTree collections cannot fail and is key-ordered.
    serde_json::to_string(value).expect("contract serializes")
}

pub(crate) fn parse_metadata(raw: Option<Value>) -> Result<Part, RegistryError> {
    let Some(raw) = raw.filter(|v| !v.is_null()) else {
        return Ok(Part::Unset);
    };
    let metadata: Metadata = serde_json::from_value(raw)
        .map_err(|e| RegistryError::InvalidSchema(format!(": invalid metadata: {e}")))?;
    Ok(Part::Given(
        (!metadata.is_empty()).then(|| canonical(&metadata)),
    ))
}

pub(crate) fn parse_rule_set(raw: Option<Value>) -> Result<Part, RegistryError> {
    let Some(raw) = raw.filter(|v| !v.is_null()) else {
        return Ok(Part::Unset);
    };
    let mut rules: RuleSet = serde_json::from_value(raw)
        .map_err(|e| RegistryError::InvalidRuleSet(format!("Invalid ruleSet: {e}")))?;
    check_rule_set(&mut rules).map_err(RegistryError::InvalidRuleSet)?;
    Ok(Part::Given((!rules.is_empty()).then(|| canonical(&rules))))
}

/// Stored canonical JSON back into a response value.
pub(crate) fn to_value(stored: &str) -> Result<Value, RegistryError> {
    serde_json::from_str(stored)
        .map_err(|e| RegistryError::Corrupt(format!("stored contract {stored}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rules(domain: Value) -> Result<Part, RegistryError> {
        parse_rule_set(Some(json!({ "domainRules": domain })))
    }

    #[test]
    fn canonical_form_ignores_order_and_defaults() {
        let a = rules(json!([{ "name": "r", "type": "ENCRYPT", "tags": ["B", "A"],
            "params": { "y": "1", "x": "2" } }]))
        .unwrap();
        let b = rules(
            json!([{ "params": { "x": "2", "y": "1" }, "tags": ["A", "B"],
            "disabled": false, "type": "ENCRYPT", "kind": "TRANSFORM", "mode": "WRITEREAD",
            "name": "r", "doc": null }]),
        )
        .unwrap();
        assert_eq!(a, b);
        let stored: Value = serde_json::from_str(a.stored().unwrap()).unwrap();
        assert_eq!(stored["domainRules"][0]["kind"], json!("TRANSFORM"));
    }

    #[test]
    fn empty_parts_are_given_but_not_stored() {
        let meta = parse_metadata(Some(
            json!({ "tags": {}, "properties": {}, "sensitive": [] }),
        ))
        .unwrap();
        assert_eq!(meta, Part::Given(None));
        assert_eq!(parse_metadata(Some(Value::Null)).unwrap(), Part::Unset);
        assert_eq!(parse_rule_set(None).unwrap(), Part::Unset);
    }

    #[test]
    fn invalid_rules_are_refused() {
        let ok = json!({ "name": "a", "type": "ENCRYPT" });
        for bad in [
            json!([{ "name": "", "type": "ENCRYPT" }]),
            json!([{ "name": "a", "type": "ENCRYPT", "kind": "SIDEWAYS" }]),
            json!([{ "name": "a", "type": "ENCRYPT", "mode": "ALWAYS" }]),
            json!([{ "name": "a", "type": "ENCRYPT", "mode": "UPGRADE" }]),
            json!([{ "name": "a" }]),
            json!([ok.clone(), ok.clone()]),
        ] {
            assert!(
                matches!(rules(bad.clone()), Err(RegistryError::InvalidRuleSet(_))),
                "{bad}"
            );
        }
    }
}
