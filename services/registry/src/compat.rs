//! Compatibility levels and the Avro reader/writer checks behind them.

use apache_avro::schema_compatibility::SchemaCompatibility;
use apache_avro::Schema;

use crate::error::RegistryError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    None,
    Backward,
    BackwardTransitive,
    Forward,
    ForwardTransitive,
    Full,
    FullTransitive,
}

impl Level {
    /// Confluent's out-of-the-box global level.
    pub const DEFAULT: Level = Level::Backward;

    const ALL: [Level; 7] = [
        Level::None,
        Level::Backward,
        Level::BackwardTransitive,
        Level::Forward,
        Level::ForwardTransitive,
        Level::Full,
        Level::FullTransitive,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::None => "NONE",
            Level::Backward => "BACKWARD",
            Level::BackwardTransitive => "BACKWARD_TRANSITIVE",
            Level::Forward => "FORWARD",
            Level::ForwardTransitive => "FORWARD_TRANSITIVE",
            Level::Full => "FULL",
            Level::FullTransitive => "FULL_TRANSITIVE",
        }
    }

    /// Case-insensitive like Confluent, which upper-cases the level before lookup.
    pub fn parse(s: &str) -> Result<Level, RegistryError> {
        Level::ALL
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| RegistryError::InvalidCompatibilityLevel(s.to_owned()))
    }

    pub fn is_transitive(self) -> bool {
        matches!(
            self,
            Level::BackwardTransitive | Level::ForwardTransitive | Level::FullTransitive
        )
    }

    fn backward(self) -> bool {
        matches!(
            self,
            Level::Backward | Level::BackwardTransitive | Level::Full | Level::FullTransitive
        )
    }

    fn forward(self) -> bool {
        matches!(
            self,
            Level::Forward | Level::ForwardTransitive | Level::Full | Level::FullTransitive
        )
    }
}

/// Checks `new` against each `(version, schema)` in `existing` (the caller
/// picks latest-only or all live versions) and returns one message per failed
/// direction; empty means compatible.
pub(crate) fn check(level: Level, new: &Schema, existing: &[(i64, Schema)]) -> Vec<String> {
    let mut problems = Vec::new();
    for (version, old) in existing {
        // BACKWARD: consumers upgraded to `new` must still read what `old` wrote.
        if level.backward() {
            if let Err(e) = SchemaCompatibility::can_read(old, new) {
                let what =
                    format!("the new schema cannot read data written with version {version}");
                problems.push(describe(level, *version, &what, &e));
            }
        }
        // FORWARD: consumers still on `old` must read what producers on `new` write.
        if level.forward() {
            if let Err(e) = SchemaCompatibility::can_read(new, old) {
                let what =
                    format!("version {version} cannot read data written with the new schema");
                problems.push(describe(level, *version, &what, &e));
            }
        }
    }
    problems
}

fn describe(level: Level, version: i64, what: &str, err: &impl std::fmt::Debug) -> String {
    // Debug, not Display: apache-avro's Debug appends the nested cause (which field broke).
    format!(
        "{{compatibility: '{}', oldSchemaVersion: {version}, description: '{what}: {err:?}'}}",
        level.as_str()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_parsing_is_case_insensitive_and_strict() {
        assert_eq!(
            Level::parse("full_transitive").unwrap(),
            Level::FullTransitive
        );
        assert!(Level::parse("SIDEWAYS").is_err());
    }
}
