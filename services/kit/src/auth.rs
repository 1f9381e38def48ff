//! Callers and their bearer tokens. Each agency office gets its own token from configuration
//! (`LINTAS_TOKENS`, never the repository); the agency and office of everything a caller
//! publishes or reads are taken from the token, never from a request body.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use lintas_events::Agency;

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub agency: Agency,
    pub office: String,
    /// What the token may do beyond its agency's default reads, for example
    /// [`crate::personal::PERSONAL_DATA_ROLE`].
    pub roles: Vec<String>,
    /// The village a village office's token is scoped to (claim `village=NAME`).
    pub village: Option<String>,
}

impl Caller {
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }
}

/// Token table, shared by a service's routes. Parse from `token=agency:OFFICE,...`, with
/// claims after a second colon, joined by `+`: roles (`token=imigrasi:KANIM-CILACAP:personal_data`)
/// and a village office's village (`token=desa:DESA-KESUGIHAN:village=Kesugihan`). An unknown
/// claim is refused, never ignored.
#[derive(Clone, Default)]
pub struct Tokens {
    by_token: Arc<HashMap<String, Caller>>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tokens({} callers)", self.by_token.len())
    }
}

impl Tokens {
    pub fn parse(spec: &str) -> Result<Tokens, String> {
        let mut by_token = HashMap::new();
        for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (token, who) = entry.split_once('=').ok_or_else(|| {
                "token entry without `=`: expected token=agency:OFFICE".to_string()
            })?;
            let (agency, rest) = who
                .split_once(':')
                .ok_or_else(|| format!("caller `{who}` without `:`: expected agency:OFFICE"))?;
            let (office, claims) = rest.split_once(':').unwrap_or((rest, ""));
            let mut roles = Vec::new();
            let mut village = None;
            for claim in claims.split('+').map(str::trim).filter(|c| !c.is_empty()) {
                match claim.split_once('=') {
                    Some(("village", name)) if !name.trim().is_empty() => {
                        village = Some(name.trim().to_string())
                    }
                    Some((other, _)) => {
                        return Err(format!("unknown claim `{other}`; expected village=NAME"))
                    }
                    None if KNOWN_ROLES.contains(&claim) => roles.push(claim.to_string()),
                    None => {
                        return Err(format!(
                            "unknown role `{claim}`; expected one of: {}",
                            KNOWN_ROLES.join(", ")
                        ))
                    }
                }
            }
            if token.len() < 16 {
                return Err("every token must be at least 16 characters".into());
            }
            let agency: Agency = agency.parse()?;
            by_token.insert(
                token.to_string(),
                Caller {
                    agency,
                    office: office.to_string(),
                    roles,
                    village,
                },
            );
        }
        Ok(Tokens {
            by_token: Arc::new(by_token),
        })
    }

    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, Caller)>) -> Tokens {
        Tokens {
            by_token: Arc::new(pairs.into_iter().collect()),
        }
    }

    pub fn caller(&self, token: &str) -> Option<&Caller> {
        self.by_token.get(token)
    }
}

/// Roles a token may carry.
pub const KNOWN_ROLES: &[&str] = &[
    crate::personal::PERSONAL_DATA_ROLE,
    ALL_VILLAGES_ROLE,
    OPERATOR_ROLE,
];

/// The operators' dashboard and its API (`lintas ops`, `/ops`): a token of an operations
/// office (`token=other:OPS-CILACAP:operator`). Agency tokens without it are refused there.
pub const OPERATOR_ROLE: &str = "operator";

/// A village-government token that reads every village of the regency (the regency's village
/// office, DPMD); other village tokens read only the village of their `village=` claim.
pub const ALL_VILLAGES_ROLE: &str = "all_villages";

/// Refusal with a JSON reason.
#[derive(Debug)]
pub struct AuthError(StatusCode, &'static str);

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let mut response = (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response();
        if self.0 == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert("www-authenticate", "Bearer".parse().expect("static header"));
        }
        response
    }
}

impl AuthError {
    pub fn forbidden() -> Self {
        AuthError(
            StatusCode::FORBIDDEN,
            "this token may not use this resource",
        )
    }
}

/// Extracts the caller from `Authorization: Bearer <token>`; the router's state must give
/// access to the [`Tokens`] through `AsRef<Tokens>`.
impl<S> FromRequestParts<S> for Caller
where
    S: AsRef<Tokens> + Send + Sync,
{
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(AuthError(StatusCode::UNAUTHORIZED, "missing bearer token"))?;
        let token = header.strip_prefix("Bearer ").ok_or(AuthError(
            StatusCode::UNAUTHORIZED,
            "authorization must be a bearer token",
        ))?;
        state
            .as_ref()
            .caller(token.trim())
            .cloned()
            .ok_or(AuthError(StatusCode::UNAUTHORIZED, "unknown token"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_token_table() {
        let t = Tokens::parse(
            "aaaaaaaaaaaaaaaa=disnaker:DISNAKER-CLP, bbbbbbbbbbbbbbbb=imigrasi:KANIM-CLP",
        )
        .unwrap();
        assert_eq!(
            t.caller("bbbbbbbbbbbbbbbb").unwrap().agency,
            Agency::Imigrasi
        );
        assert!(t.caller("nope").is_none());
        assert!(Tokens::parse("short=disnaker:X").is_err());
        assert!(Tokens::parse("aaaaaaaaaaaaaaaa=nobody:X").is_err());
        let roles = Tokens::parse("cccccccccccccccc=imigrasi:KANIM-CLP:personal_data").unwrap();
        let caller = roles.caller("cccccccccccccccc").unwrap();
        assert_eq!(caller.office, "KANIM-CLP");
        assert!(caller.has_role("personal_data"));
        assert!(!t
            .caller("bbbbbbbbbbbbbbbb")
            .unwrap()
            .has_role("personal_data"));
        assert!(Tokens::parse("cccccccccccccccc=imigrasi:KANIM-CLP:superuser").is_err());
        let village = Tokens::parse("dddddddddddddddd=desa:DESA-X:village=Karang Kandri").unwrap();
        assert_eq!(
            village
                .caller("dddddddddddddddd")
                .unwrap()
                .village
                .as_deref(),
            Some("Karang Kandri")
        );
        assert!(Tokens::parse("dddddddddddddddd=desa:DESA-X:regency=Cilacap").is_err());
        assert!(Tokens::parse("dddddddddddddddd=desa:DESA-X:village=").is_err());
    }
}
