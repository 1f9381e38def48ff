//! Strict JSON request bodies. serde_json keeps the last of duplicate keys while other parsers
//! keep the first, so an intake and an auditor could read different values from one body:
//! a body with a duplicate key at any depth is refused. Strings with control characters or
//! invisible formatting characters (Unicode category Cf: bidirectional overrides and
//! isolates, zero-width characters, the byte-order mark…) are refused too, since they make a
//! name display differently from what it is.

use std::cell::RefCell;
use std::fmt;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::{DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// A JSON body that was refused; answers in the one error shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// 415: the content type is not `application/json`.
    ContentType(String),
    /// 400: not JSON at all (the parser's reason).
    Malformed(String),
    /// 400: keys that appear more than once in their object, by path (`a.b`, `a[2].c`).
    DuplicateKeys(Vec<String>),
    /// 422: strings holding control or invisible formatting characters, by path.
    Characters(Vec<String>),
    /// 400: JSON, but not of the shape the route takes.
    Shape(String),
    /// The body could not be read (413 too large, 400 broken stream).
    Unreadable(StatusCode, String),
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BodyError::ContentType(got) => {
                write!(f, "content type must be application/json, got `{got}`")
            }
            BodyError::Malformed(e) => write!(f, "body is not valid JSON: {e}"),
            BodyError::DuplicateKeys(paths) => {
                write!(f, "duplicate keys in the JSON body: {}", paths.join(", "))
            }
            BodyError::Characters(paths) => write!(
                f,
                "control or invisible formatting characters in: {}",
                paths.join(", ")
            ),
            BodyError::Shape(e) => write!(f, "body does not fit this request: {e}"),
            BodyError::Unreadable(_, e) => write!(f, "{e}"),
        }
    }
}

/// What the refused characters are, for the answer.
pub const CHARACTERS_MESSAGE: &str =
    "must not contain control characters or invisible formatting characters (such as bidirectional overrides or zero-width characters)";

impl IntoResponse for BodyError {
    fn into_response(self) -> Response {
        let fields = |paths: &[String], message: &str| -> Vec<Value> {
            paths
                .iter()
                .map(|p| serde_json::json!({ "field": p, "message": message }))
                .collect()
        };
        match &self {
            BodyError::ContentType(_) => {
                super::error(StatusCode::UNSUPPORTED_MEDIA_TYPE, self.to_string())
            }
            BodyError::Malformed(_) | BodyError::Shape(_) => {
                super::error(StatusCode::BAD_REQUEST, self.to_string())
            }
            BodyError::Unreadable(status, _) => super::error(*status, self.to_string()),
            BodyError::DuplicateKeys(paths) => (
                StatusCode::BAD_REQUEST,
                Json(serde_json::json!({
                    "error": "duplicate keys in the JSON body",
                    "fields": fields(paths, "appears more than once in its object"),
                })),
            )
                .into_response(),
            BodyError::Characters(paths) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(serde_json::json!({
                    "error": "validation_failed",
                    "fields": fields(paths, CHARACTERS_MESSAGE),
                })),
            )
                .into_response(),
        }
    }
}

/// Whether a string character is refused: control (Cc) or format (Cf).
pub fn refused_character(c: char) -> bool {
    c.is_control() || c.general_category() == GeneralCategory::Format
}

/// Parses `body` strictly: JSON, no duplicate key at any depth, no refused character in any
/// string.
pub fn parse(body: &[u8]) -> Result<Value, BodyError> {
    let found = RefCell::new(Found::default());
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = Walk {
        path: String::new(),
        found: &found,
    }
    .deserialize(&mut de)
    .and_then(|v| de.end().map(|()| v))
    .map_err(|e| BodyError::Malformed(e.to_string()))?;
    let found = found.into_inner();
    if !found.duplicates.is_empty() {
        return Err(BodyError::DuplicateKeys(found.duplicates));
    }
    if !found.characters.is_empty() {
        return Err(BodyError::Characters(found.characters));
    }
    Ok(value)
}

/// [`parse`] after checking the content type is `application/json`.
pub fn parse_body(headers: &HeaderMap, body: &[u8]) -> Result<Value, BodyError> {
    require_json(headers)?;
    parse(body)
}

fn require_json(headers: &HeaderMap) -> Result<(), BodyError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case("application/json") {
        Ok(())
    } else {
        Err(BodyError::ContentType(
            content_type.chars().take(100).collect(),
        ))
    }
}

/// A JSON body read with [`parse_body`] and then deserialized into `T`; use it instead of
/// `axum::Json` on every route that takes JSON.
#[derive(Debug, Clone)]
pub struct StrictJson<T>(pub T);

impl<S, T> FromRequest<S> for StrictJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = BodyError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        require_json(request.headers())?;
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|e| BodyError::Unreadable(e.status(), e.body_text()))?;
        let value = parse(&bytes)?;
        T::deserialize(value)
            .map(StrictJson)
            .map_err(|e| BodyError::Shape(e.to_string()))
    }
}

#[derive(Default)]
struct Found {
    duplicates: Vec<String>,
    characters: Vec<String>,
}

/// Builds a `serde_json::Value` like serde_json does, noting duplicate keys and refused
/// characters by path on the way.
struct Walk<'a> {
    path: String,
    found: &'a RefCell<Found>,
}

impl Walk<'_> {
    fn at(&self, child: String) -> Walk<'_> {
        Walk {
            path: child,
            found: self.found,
        }
    }

    fn shown(&self) -> String {
        if self.path.is_empty() {
            "$".into()
        } else {
            self.path.clone()
        }
    }

    fn string(&self, s: String) -> Value {
        if s.chars().any(refused_character) {
            self.found.borrow_mut().characters.push(self.shown());
        }
        Value::String(s)
    }
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(self.string(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(self.string(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) =
            seq.next_element_seed(self.at(format!("{}[{}]", self.path, items.len())))?
        {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = if self.path.is_empty() {
                key.clone()
            } else {
                format!("{}.{key}", self.path)
            };
            let value = map.next_value_seed(self.at(path.clone()))?;
            if object.contains_key(&key) {
                let mut found = self.found.borrow_mut();
                if !found.duplicates.contains(&path) {
                    found.duplicates.push(path);
                }
            } else {
                object.insert(key, value);
            }
        }
        Ok(Value::Object(object))
    }
}
