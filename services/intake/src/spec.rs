//! Each endpoint's request is declared once, as a list of fields with their meaning. The same
//! declaration validates requests (every bad field named in one answer) and produces the
//! OpenAPI document, so the document cannot drift from what the endpoint accepts.

use std::collections::BTreeMap;

use lintas_kit::events::{Agency, AvroEnum, VillageCode};
use serde::Serialize;
use serde_json::{json, Map, Value as Json};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};

use crate::checks;

/// What a field holds.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// Free text, trimmed, no control or invisible formatting (Unicode Cf) characters.
    Text {
        max: usize,
    },
    /// National ID number: 16 digits, real province code and birth date.
    Nik,
    /// `YYYY-MM-DD`, not in the future and not before 1900.
    PastDate,
    /// `YYYY-MM-DD`, today or later.
    FutureDate,
    /// RFC 3339 time, not in the future (five minutes of clock skew allowed).
    PastTime,
    /// ISO 3166-1 alpha-2 country code.
    Country,
    /// One of an Avro enum's symbols.
    Symbol(fn() -> Vec<&'static str>),
    Uuid,
    Bool,
    /// A checkpoint code from the configured list.
    Checkpoint,
    /// `+` and 8 to 15 digits, or a local number starting with 0.
    Phone,
    /// A village's Kemendagri code, `33.01.02.2003` or the ten digits; kept dotted.
    VillageCode,
    /// Pseudonymous key: 64 lowercase hex characters (a subject key) or another id of 8 to 64
    /// letters, digits, `-` and `_`.
    Key,
    List {
        item: &'static Kind,
        max: usize,
    },
    Object(&'static [Field]),
}

#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub need: Need,
    pub doc: &'static str,
}

/// When a field must be present. Conditions are declared here rather than checked in an
/// endpoint's builder, so that validation and the document's `required` (with `if`/`then`
/// for the conditions) come from this one declaration and cannot disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Always,
    Optional,
    /// Required when the sibling field `field` holds one of `one_of`.
    When {
        field: &'static str,
        one_of: &'static [&'static str],
    },
    /// Required unless the sibling field named is given: at least one of the two.
    Unless(&'static str),
    /// Required whenever the sibling field named is given (a village's code with its name).
    With(&'static str),
}

impl Need {
    /// Whether the field must be present in `map`, the object holding it.
    fn applies(self, map: &Map<String, Json>) -> bool {
        let given = |name: &str| map.get(name).is_some_and(|v| !v.is_null());
        match self {
            Need::Always => true,
            Need::Optional => false,
            Need::When { field, one_of } => map
                .get(field)
                .and_then(Json::as_str)
                .is_some_and(|v| one_of.contains(&v.trim())),
            Need::Unless(other) => !given(other),
            Need::With(other) => given(other),
        }
    }

    /// When a conditional requirement applies, in words: `when decision is deferred or
    /// refused`; empty for the unconditional ones.
    fn condition(self) -> String {
        match self {
            Need::Always | Need::Optional => String::new(),
            Need::When { field, one_of } => format!(" when {field} is {}", one_of.join(" or ")),
            Need::Unless(other) => format!(" unless {other} is given"),
            Need::With(other) => format!(" when {other} is given"),
        }
    }
}

pub const fn required(name: &'static str, kind: Kind, doc: &'static str) -> Field {
    Field {
        name,
        kind,
        need: Need::Always,
        doc,
    }
}

pub const fn optional(name: &'static str, kind: Kind, doc: &'static str) -> Field {
    Field {
        name,
        kind,
        need: Need::Optional,
        doc,
    }
}

/// A field required only when the sibling `field` holds one of `one_of`.
pub const fn required_when(
    name: &'static str,
    kind: Kind,
    when: (&'static str, &'static [&'static str]),
    doc: &'static str,
) -> Field {
    Field {
        name,
        kind,
        need: Need::When {
            field: when.0,
            one_of: when.1,
        },
        doc,
    }
}

/// A field required whenever the sibling `other` is given.
pub const fn required_with(
    name: &'static str,
    kind: Kind,
    other: &'static str,
    doc: &'static str,
) -> Field {
    let mut field = required_unless(name, kind, other, doc);
    field.need = Need::With(other);
    field
}

/// A field required unless the sibling `other` is given.
pub const fn required_unless(
    name: &'static str,
    kind: Kind,
    other: &'static str,
    doc: &'static str,
) -> Field {
    Field {
        name,
        kind,
        need: Need::Unless(other),
        doc,
    }
}

/// One intake endpoint: where it is, who may call it, what it accepts and publishes.
#[derive(Debug)]
pub struct Endpoint {
    pub path: &'static str,
    pub summary: &'static str,
    /// Event types it publishes, for the document.
    pub publishes: &'static [&'static str],
    pub agencies: &'static [Agency],
    pub fields: &'static [Field],
    /// A request this endpoint accepts (synthetic data), for the document; a test posts it.
    /// A function, so that its times and dates are relative to today and never go stale.
    pub example: fn(&Checks<'_>) -> Json,
    /// The agency whose credential the example is posted with (it names a channel, village
    /// or checkpoint that agency's office may use).
    pub example_caller: Agency,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A validated value.
#[derive(Debug, Clone)]
pub enum Value {
    Text(String),
    Date(Date),
    Time(OffsetDateTime),
    Symbol(&'static str),
    Uuid(uuid::Uuid),
    Bool(bool),
    List(Vec<Value>),
    Object(Validated),
}

/// A request that passed validation. Accessors panic only on a programming error: asking for
/// a field the endpoint does not declare (a misspelt name would otherwise read as absent), or
/// with another kind. The intake runs every builder on its example at start-up
/// ([`crate::self_check`]), so such an error stops the service before its first request.
#[derive(Debug, Clone, Default)]
pub struct Validated {
    values: BTreeMap<&'static str, Value>,
    /// The names the endpoint declares at this level.
    declared: Vec<&'static str>,
}

impl Validated {
    fn get(&self, name: &str) -> Option<&Value> {
        assert!(
            self.declared.contains(&name),
            "`{name}` is not a field of this request; declared: {}",
            self.declared.join(", ")
        );
        self.values.get(name)
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Whether the request holds `name`, whether or not its endpoint declares it: for the
    /// checks every endpoint shares (a checkpoint or a village beyond the credential).
    pub fn holds(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    /// A symbol of a list declared in the endpoint itself (not an Avro enum).
    pub fn text_symbol(&self, name: &str) -> &'static str {
        match self.get(name) {
            Some(Value::Symbol(s)) => s,
            other => panic!("{name} is not a symbol: {other:?}"),
        }
    }

    /// A list of Avro enum symbols.
    pub fn texts_as_symbols<E: AvroEnum>(&self, name: &str) -> Vec<E> {
        match self.get(name) {
            Some(Value::List(items)) => items
                .iter()
                .map(|v| match v {
                    Value::Symbol(s) => E::from_symbol(s).expect("validated against the same enum"),
                    other => panic!("{name} holds {other:?}"),
                })
                .collect(),
            None => Vec::new(),
            other => panic!("{name} is not a list: {other:?}"),
        }
    }

    pub fn opt_text(&self, name: &str) -> Option<String> {
        match self.get(name) {
            Some(Value::Text(s)) => Some(s.clone()),
            None => None,
            other => panic!("{name} is not text: {other:?}"),
        }
    }

    pub fn text(&self, name: &str) -> String {
        self.opt_text(name)
            .unwrap_or_else(|| panic!("{name} is required"))
    }

    /// A village code checked by `Kind::VillageCode`.
    pub fn opt_village_code(&self, name: &str) -> Option<VillageCode> {
        self.opt_text(name)
            .map(|code| code.parse().expect("validated as Kind::VillageCode"))
    }

    pub fn opt_date(&self, name: &str) -> Option<Date> {
        match self.get(name) {
            Some(Value::Date(d)) => Some(*d),
            None => None,
            other => panic!("{name} is not a date: {other:?}"),
        }
    }

    pub fn date(&self, name: &str) -> Date {
        self.opt_date(name)
            .unwrap_or_else(|| panic!("{name} is required"))
    }

    pub fn opt_time(&self, name: &str) -> Option<OffsetDateTime> {
        match self.get(name) {
            Some(Value::Time(t)) => Some(*t),
            None => None,
            other => panic!("{name} is not a time: {other:?}"),
        }
    }

    pub fn opt_symbol<E: AvroEnum>(&self, name: &str) -> Option<E> {
        match self.get(name) {
            Some(Value::Symbol(s)) => {
                Some(E::from_symbol(s).expect("validated against the same enum"))
            }
            None => None,
            other => panic!("{name} is not a symbol: {other:?}"),
        }
    }

    pub fn symbol<E: AvroEnum>(&self, name: &str) -> E {
        self.opt_symbol(name)
            .unwrap_or_else(|| panic!("{name} is required"))
    }

    pub fn opt_uuid(&self, name: &str) -> Option<uuid::Uuid> {
        match self.get(name) {
            Some(Value::Uuid(u)) => Some(*u),
            None => None,
            other => panic!("{name} is not a uuid: {other:?}"),
        }
    }

    pub fn opt_bool(&self, name: &str) -> Option<bool> {
        match self.get(name) {
            Some(Value::Bool(b)) => Some(*b),
            None => None,
            other => panic!("{name} is not a bool: {other:?}"),
        }
    }

    pub fn texts(&self, name: &str) -> Vec<String> {
        match self.get(name) {
            Some(Value::List(items)) => items
                .iter()
                .map(|v| match v {
                    Value::Text(s) => s.clone(),
                    other => panic!("{name} holds {other:?}"),
                })
                .collect(),
            None => Vec::new(),
            other => panic!("{name} is not a list: {other:?}"),
        }
    }

    pub fn objects(&self, name: &str) -> Vec<Validated> {
        match self.get(name) {
            Some(Value::List(items)) => items
                .iter()
                .map(|v| match v {
                    Value::Object(o) => o.clone(),
                    other => panic!("{name} holds {other:?}"),
                })
                .collect(),
            None => Vec::new(),
            other => panic!("{name} is not a list: {other:?}"),
        }
    }

    pub fn object(&self, name: &str) -> Option<&Validated> {
        match self.get(name) {
            Some(Value::Object(o)) => Some(o),
            None => None,
            other => panic!("{name} is not an object: {other:?}"),
        }
    }
}

/// Context a field check needs beyond the value.
pub struct Checks<'a> {
    pub checkpoints: &'a [String],
    /// The deployment's time zone: "today" and "in the future" are the local day's, as on
    /// the forms (a date of today typed at 06:00 WIB is not in the future).
    pub time_zone: lintas_kit::events::calendar::TimeZone,
    /// The instant the request is checked at.
    pub now: OffsetDateTime,
}

/// Validates `body` against `fields`, naming every bad field (nested ones as `a.b`, list
/// items as `a[2]`), including fields the endpoint does not know.
pub fn validate(
    fields: &[Field],
    body: &Json,
    checks: &Checks<'_>,
) -> Result<Validated, Vec<FieldError>> {
    let mut errors = Vec::new();
    let validated = match body {
        Json::Object(map) => object(fields, map, "", checks, &mut errors),
        _ => {
            errors.push(FieldError::new("$", "body must be a JSON object"));
            Validated::default()
        }
    };
    if errors.is_empty() {
        Ok(validated)
    } else {
        Err(errors)
    }
}

fn object(
    fields: &[Field],
    map: &Map<String, Json>,
    prefix: &str,
    checks: &Checks<'_>,
    errors: &mut Vec<FieldError>,
) -> Validated {
    let mut out = BTreeMap::new();
    for field in fields {
        let path = format!("{prefix}{}", field.name);
        match map.get(field.name).filter(|v| !v.is_null()) {
            None if field.need.applies(map) => errors.push(FieldError::new(
                path,
                format!("is required{}", field.need.condition()),
            )),
            None => {}
            Some(raw) => {
                if let Some(v) = value(&field.kind, raw, &path, checks, errors) {
                    out.insert(field.name, v);
                }
            }
        }
    }
    for key in map.keys() {
        if !fields.iter().any(|f| f.name == key) {
            errors.push(FieldError::new(
                format!("{prefix}{key}"),
                "is not a field of this request",
            ));
        }
    }
    Validated {
        values: out,
        declared: fields.iter().map(|f| f.name).collect(),
    }
}

fn value(
    kind: &Kind,
    raw: &Json,
    path: &str,
    checks: &Checks<'_>,
    errors: &mut Vec<FieldError>,
) -> Option<Value> {
    let mut fail = |message: String| {
        errors.push(FieldError::new(path, message));
        None
    };
    let text = raw.as_str().map(str::trim);
    match kind {
        Kind::Bool => {
            return raw
                .as_bool()
                .map(Value::Bool)
                .or_else(|| fail("must be true or false".into()))
        }
        Kind::List { item, max } => {
            let Some(items) = raw.as_array() else {
                return fail("must be a list".into());
            };
            if items.len() > *max {
                return fail(format!("must have at most {max} items"));
            }
            let before = errors.len();
            let values: Vec<Value> = items
                .iter()
                .enumerate()
                .filter_map(|(i, v)| value(item, v, &format!("{path}[{i}]"), checks, errors))
                .collect();
            return (errors.len() == before).then_some(Value::List(values));
        }
        Kind::Object(fields) => {
            let Some(map) = raw.as_object() else {
                return fail("must be an object".into());
            };
            let before = errors.len();
            let o = object(fields, map, &format!("{path}."), checks, errors);
            return (errors.len() == before).then_some(Value::Object(o));
        }
        _ => {}
    }
    let Some(s) = text else {
        return fail("must be a string".into());
    };
    match kind {
        Kind::Text { max } => {
            if s.is_empty() {
                fail("must not be empty".into())
            } else if s.chars().count() > *max {
                fail(format!("must be at most {max} characters"))
            } else if s.chars().any(lintas_kit::http::refused_character) {
                fail(lintas_kit::http::CHARACTERS_MESSAGE.into())
            } else {
                Some(Value::Text(s.to_string()))
            }
        }
        Kind::Nik => match checks::nik(s) {
            Ok(()) => Some(Value::Text(s.to_string())),
            Err(e) => fail(e),
        },
        Kind::PastDate | Kind::FutureDate => {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            let today = checks.time_zone.local_date(checks.now);
            match Date::parse(s, format) {
                Err(_) => fail("must be a date as YYYY-MM-DD".into()),
                Ok(d) if matches!(kind, Kind::PastDate) && d > today => {
                    fail("must not be in the future".into())
                }
                Ok(d) if matches!(kind, Kind::PastDate) && d.year() < 1900 => {
                    fail("must not be before 1900".into())
                }
                Ok(d) if matches!(kind, Kind::FutureDate) && d < today => {
                    fail("must not be in the past".into())
                }
                Ok(d) => Some(Value::Date(d)),
            }
        }
        Kind::PastTime => match OffsetDateTime::parse(s, &Rfc3339) {
            Err(_) => fail("must be an RFC 3339 time such as 2026-03-01T08:15:00+07:00".into()),
            Ok(t) if t > checks.now + time::Duration::minutes(5) => {
                fail("must not be in the future".into())
            }
            // Kept to milliseconds, the contract's precision.
            Ok(t) => Some(Value::Time(
                t.replace_nanosecond(t.nanosecond() / 1_000_000 * 1_000_000)
                    .expect("valid"),
            )),
        },
        Kind::Country => {
            if checks::country(s) {
                Some(Value::Text(s.to_string()))
            } else {
                fail(format!(
                    "`{s}` is not an ISO 3166-1 alpha-2 country code (for example MY, SA, KH)"
                ))
            }
        }
        Kind::Symbol(symbols) => {
            let symbols = symbols();
            match symbols.iter().find(|sym| **sym == s) {
                Some(sym) => Some(Value::Symbol(sym)),
                None => fail(format!(
                    "unknown code `{s}`; expected one of: {}",
                    symbols.join(", ")
                )),
            }
        }
        Kind::Uuid => match uuid::Uuid::parse_str(s) {
            Ok(u) => Some(Value::Uuid(u)),
            Err(_) => fail("must be a UUID".into()),
        },
        Kind::Checkpoint => {
            if checks.checkpoints.iter().any(|c| c == s) {
                Some(Value::Text(s.to_string()))
            } else {
                fail(format!(
                    "unknown checkpoint `{s}`; configured: {}",
                    checks.checkpoints.join(", ")
                ))
            }
        }
        Kind::Phone => {
            if checks::phone(s) {
                Some(Value::Text(s.to_string()))
            } else {
                fail("must be a phone number: + and 8 to 15 digits, or a local number starting with 0".into())
            }
        }
        Kind::VillageCode => match VillageCode::parse(s) {
            Ok(code) => Some(Value::Text(code.to_string())),
            Err(e) => fail(e),
        },
        Kind::Key => {
            let ok = (8..=64).contains(&s.len())
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if ok {
                Some(Value::Text(s.to_string()))
            } else {
                fail("must be 8 to 64 letters, digits, - or _".into())
            }
        }
        Kind::Bool | Kind::List { .. } | Kind::Object(_) => unreachable!("handled above"),
    }
}

/// JSON Schema of a field kind, for the OpenAPI document.
fn schema_of(kind: &Kind, checks: &Checks<'_>) -> Json {
    match kind {
        Kind::Text { max } => json!({"type": "string", "minLength": 1, "maxLength": max}),
        Kind::Nik => {
            json!({"type": "string", "pattern": "^[0-9]{16}$", "description": "NIK: 16 digits, real province code, birth date DDMMYY in digits 7-12 (day + 40 for women)"})
        }
        Kind::PastDate => {
            json!({"type": "string", "format": "date", "description": "not in the future"})
        }
        Kind::FutureDate => {
            json!({"type": "string", "format": "date", "description": "today or later"})
        }
        Kind::PastTime => {
            json!({"type": "string", "format": "date-time", "description": "not in the future"})
        }
        Kind::Country => {
            json!({"type": "string", "enum": checks::ISO_3166_ALPHA2.split(' ').collect::<Vec<_>>()})
        }
        Kind::Symbol(symbols) => json!({"type": "string", "enum": symbols()}),
        Kind::Uuid => json!({"type": "string", "format": "uuid"}),
        Kind::Bool => json!({"type": "boolean"}),
        Kind::Checkpoint => json!({"type": "string", "enum": checks.checkpoints}),
        Kind::Phone => json!({"type": "string", "pattern": "^(\\+[0-9]{8,15}|0[0-9]{7,14})$"}),
        Kind::Key => json!({"type": "string", "pattern": "^[A-Za-z0-9_-]{8,64}$"}),
        Kind::VillageCode => {
            json!({"type": "string", "pattern": "^[0-9]{2}\\.?[0-9]{2}\\.?[0-9]{2}\\.?[12][0-9]{3}$", "description": "Kemendagri kode wilayah of the village: province, regency, sub-district, village (1xxx kelurahan, 2xxx desa), for example 33.01.02.2003"})
        }
        Kind::List { item, max } => {
            json!({"type": "array", "maxItems": max, "items": schema_of(item, checks)})
        }
        Kind::Object(fields) => object_schema(fields, checks),
    }
}

fn object_schema(fields: &[Field], checks: &Checks<'_>) -> Json {
    let mut properties = Map::new();
    // Conditional requirements, as JSON Schema `if`/`then`: what `validate` demands beyond
    // the unconditional `required`.
    let mut conditions = Vec::new();
    for f in fields {
        let mut schema = schema_of(&f.kind, checks);
        let mut description = match schema.get("description").and_then(Json::as_str) {
            Some(extra) => format!("{} ({extra})", f.doc),
            None => f.doc.to_string(),
        };
        let condition = match f.need {
            Need::Always | Need::Optional => None,
            Need::When { field, one_of } => {
                Some(json!({"properties": {field: {"enum": one_of}}, "required": [field]}))
            }
            Need::Unless(other) => Some(json!({"not": {"required": [other]}})),
            Need::With(other) => Some(json!({"required": [other]})),
        };
        if let Some(condition) = condition {
            description = format!("{description} Required{}.", f.need.condition());
            // Fields under the same condition share one `then`.
            match conditions
                .iter_mut()
                .find(|c: &&mut Json| c["if"] == condition)
            {
                Some(same) => same["then"]["required"]
                    .as_array_mut()
                    .expect("built here")
                    .push(json!(f.name)),
                None => conditions.push(json!({"if": condition, "then": {"required": [f.name]}})),
            }
        }
        schema["description"] = json!(description);
        properties.insert(f.name.to_string(), schema);
    }
    let required: Vec<&str> = fields
        .iter()
        .filter(|f| f.need == Need::Always)
        .map(|f| f.name)
        .collect();
    let mut schema = json!({"type": "object", "additionalProperties": false, "properties": properties, "required": required});
    if !conditions.is_empty() {
        schema["allOf"] = json!(conditions);
    }
    schema
}

/// The OpenAPI 3.1 document of a set of endpoints.
pub fn openapi(title: &str, endpoints: &[&Endpoint], checks: &Checks<'_>) -> Json {
    let error = json!({"$ref": "#/components/schemas/Error"});
    let mut paths = Map::new();
    for e in endpoints {
        let agencies: Vec<String> = e.agencies.iter().map(|a| a.to_string()).collect();
        paths.insert(
            e.path.to_string(),
            json!({"post": {
                "summary": e.summary,
                "description": format!("Publishes {}. Callers: tokens of {}. Answers 202 only after the broker acknowledged every event.", e.publishes.join(", "), agencies.join(", ")),
                "security": [{"bearer": []}],
                "parameters": [{"name": "Idempotency-Key", "in": "header", "required": false,
                    "description": "A retried request with the same key (per office) returns the first answer and publishes nothing new, also after a restart.",
                    "schema": {"type": "string", "minLength": 1, "maxLength": 200}}],
                "requestBody": {"required": true, "content": {"application/json": {
                    "schema": object_schema(e.fields, checks),
                    "example": (e.example)(checks),
                    "x-example-caller": e.example_caller.to_string(),
                }}},
                "responses": {
                    "202": {"description": "accepted: the broker acknowledged the events", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Accepted"}}}},
                    "400": {"description": "body is not JSON, or repeats a key (fields names each)", "content": {"application/json": {"schema": error}}},
                    "401": {"description": "missing or unknown token", "content": {"application/json": {"schema": error}}},
                    "403": {"description": "this agency may not publish here", "content": {"application/json": {"schema": error}}},
                    "408": {"description": "not completed within the request timeout (LINTAS_HTTP_REQUEST_TIMEOUT_SECS); retry with the same Idempotency-Key", "content": {"application/json": {"schema": error}}},
                    "413": {"description": "body larger than 64 KiB", "content": {"application/json": {"schema": error}}},
                    "415": {"description": "content type is not application/json", "content": {"application/json": {"schema": error}}},
                    "422": {"description": "invalid fields, each named (control or invisible formatting characters in any text included)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Invalid"}}}},
                    "503": {"description": "broker unavailable; nothing accepted, retry after Retry-After seconds", "content": {"application/json": {"schema": error}}}
                }
            }}),
        );
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": title, "version": env!("CARGO_PKG_VERSION")},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "properties": {"error": {"type": "string"}, "reason": {"type": "string"}, "fields": {"type": "array", "items": {
                    "type": "object", "properties": {"field": {"type": "string"}, "message": {"type": "string"}}, "required": ["field", "message"]}}}, "required": ["error"]},
                "Invalid": {"type": "object", "properties": {"error": {"const": "validation_failed"}, "fields": {"type": "array", "items": {
                    "type": "object", "properties": {"field": {"type": "string"}, "message": {"type": "string"}}, "required": ["field", "message"]}}}, "required": ["error", "fields"]},
                "Accepted": {"type": "object", "properties": {
                    "event_id": {"type": "string", "format": "uuid"},
                    "subject_key": {"type": ["string", "null"]},
                    "events": {"type": "array", "items": {"type": "object", "properties": {
                        "event_id": {"type": "string", "format": "uuid"}, "type": {"type": "string"}, "topic": {"type": "string"},
                        "partition": {"type": "integer"}, "offset": {"type": "integer"}}}}},
                    "required": ["event_id", "events"]}
            }
        }
    })
}

/// Symbols of an enum, as a `Kind::Symbol` function.
pub fn symbols<E: AvroEnum>() -> Vec<&'static str> {
    E::symbols()
}

/// An example time `hours` before now, in Western Indonesian Time (WIB) and whole minutes, as
/// an officer's system would send it.
pub fn example_time(hours: i64) -> String {
    let wib = time::UtcOffset::from_hms(7, 0, 0).expect("valid offset");
    let at = (OffsetDateTime::now_utc() - time::Duration::hours(hours)).to_offset(wib);
    at.replace_second(0)
        .and_then(|t| t.replace_nanosecond(0))
        .expect("valid")
        .format(&Rfc3339)
        .expect("formats")
}

/// An example date `days` from today (negative: before today).
pub fn example_date(days: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    (OffsetDateTime::now_utc().date() + time::Duration::days(days))
        .format(format)
        .expect("formats")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checks() -> Vec<String> {
        crate::DEFAULT_CHECKPOINTS
            .split(',')
            .map(String::from)
            .collect()
    }

    /// Every conditional requirement names a sibling that exists, by a value it can hold: a
    /// misspelt condition would silently never apply.
    fn check_conditions(path: &str, fields: &[Field]) {
        for f in fields {
            match f.need {
                Need::When { field, one_of } => {
                    let sibling = fields.iter().find(|s| s.name == field);
                    let Some(Field {
                        kind: Kind::Symbol(symbols),
                        ..
                    }) = sibling
                    else {
                        panic!("{path} {}: `{field}` is not a sibling with symbols", f.name);
                    };
                    for value in one_of {
                        assert!(symbols().contains(value), "{path} {}: {value}", f.name);
                    }
                }
                Need::Unless(other) | Need::With(other) => assert!(
                    fields.iter().any(|s| s.name == other),
                    "{path} {}: no sibling {other}",
                    f.name
                ),
                Need::Always | Need::Optional => {}
            }
            let inner = match &f.kind {
                Kind::Object(inner)
                | Kind::List {
                    item: Kind::Object(inner),
                    ..
                } => Some(*inner),
                _ => None,
            };
            if let Some(inner) = inner {
                check_conditions(path, inner);
            }
        }
    }

    #[test]
    fn every_example_validates_and_every_condition_names_a_sibling() {
        let checkpoints = checks();
        let checks = Checks {
            checkpoints: &checkpoints,
            time_zone: Default::default(),
            now: OffsetDateTime::now_utc(),
        };
        for intake in crate::ALL {
            for (endpoint, _) in intake.endpoints {
                let example = (endpoint.example)(&checks);
                if let Err(e) = validate(endpoint.fields, &example, &checks) {
                    panic!("{}: its example is refused: {e:?}", endpoint.path);
                }
                assert!(endpoint.agencies.contains(&endpoint.example_caller));
                check_conditions(endpoint.path, endpoint.fields);
            }
        }
    }

    #[test]
    fn a_blocked_departure_requires_its_reason_and_says_so() {
        let checkpoints = checks();
        let checks = Checks {
            checkpoints: &checkpoints,
            time_zone: Default::default(),
            now: OffsetDateTime::now_utc(),
        };
        let endpoint = &crate::endpoints::checkpoints::DEPARTURE_CHECKS;
        let mut body = (endpoint.example)(&checks);
        body.as_object_mut().unwrap().remove("reason");
        let errors = validate(endpoint.fields, &body, &checks).unwrap_err();
        assert_eq!(
            errors,
            [FieldError::new(
                "reason",
                "is required when decision is deferred or refused"
            )]
        );
        body["decision"] = json!("cleared");
        for field in ["handed_to", "return_ticket"] {
            body.as_object_mut().unwrap().remove(field);
        }
        assert!(validate(endpoint.fields, &body, &checks).is_ok());
    }
}
