//! Callers and their credentials. An agency officer signs in at the agencies' identity provider
//! and presents its OIDC token (a JWT validated by [`crate::oidc`]); the embedded run and the
//! tests use static tokens from configuration (`LINTAS_TOKENS`, never the repository), which may
//! be given as their SHA-256 hashes. The agency, office, officer, village and checkpoint of
//! everything a caller publishes or reads are taken from its credential, never from a request
//! body.
//!
//! Each service accepts only the credentials of the agencies it serves ([`Tokens::only`]): it
//! holds the other agencies' static tokens as hashes alone, and answers a valid credential of
//! another agency (static or OIDC) 403, like any credential that may not use a resource (a
//! missing role, another village or checkpoint). A credential that is not valid anywhere (unknown
//! token, bad signature, expired…) is 401.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use lintas_events::Agency;
use sha2::{Digest, Sha256};

use crate::oidc::Oidc;

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub agency: Agency,
    pub office: String,
    /// What the token may do beyond its agency's default reads, for example
    /// [`crate::personal::PERSONAL_DATA_ROLE`].
    pub roles: Vec<String>,
    /// The village a village office's token is scoped to (claim `village=CODE`, its
    /// Kemendagri code: names are shared by many villages).
    pub village: Option<crate::events::VillageCode>,
    /// The checkpoint (TPI) a checkpoint office records departure checks at (claim
    /// `checkpoint=CODE`, or `lintas_checkpoint`); see [`Caller::checkpoint`].
    pub checkpoint: Option<String>,
    /// The officer signed in: the OIDC token's `preferred_username` (else `sub`), or a static
    /// token's `officer=ID` claim. Personal-data reads are recorded under it.
    pub officer: Option<String>,
}

impl Caller {
    /// The refusal of an `officer_id` that is not the officer this credential names (`None`
    /// when it is, or when the credential names none): a signed-in officer acts as itself.
    pub fn other_officer(&self, claimed: &str) -> Option<Response> {
        let signed_in = self.officer.as_deref()?;
        (signed_in != claimed.trim()).then(|| {
            (
                StatusCode::FORBIDDEN,
                Json(serde_json::json!({
                    "error": "the officer is the one signed in",
                    "fields": [{ "field": "officer_id", "message": "differs from the officer of this credential; leave it out" }],
                })),
            )
                .into_response()
        })
    }

    pub fn new(agency: Agency, office: impl Into<String>) -> Caller {
        Caller {
            agency,
            office: office.into(),
            roles: Vec::new(),
            village: None,
            checkpoint: None,
            officer: None,
        }
    }

    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    /// The checkpoint this caller records departure checks at: its explicit claim, else its
    /// office code when that is a checkpoint code of `known` (an immigration checkpoint
    /// office is named after its TPI, `TPI-CGK`). `None`: not a checkpoint office.
    pub fn checkpoint<'a>(&'a self, known: &[String]) -> Option<&'a str> {
        if self.agency != Agency::Imigrasi {
            return None;
        }
        self.checkpoint.as_deref().or_else(|| {
            known
                .iter()
                .any(|k| k.eq_ignore_ascii_case(&self.office))
                .then_some(self.office.as_str())
        })
    }
}

type Keep = Arc<dyn Fn(&Caller) -> bool + Send + Sync>;

/// The credentials a service accepts, shared by its routes: static tokens and, when
/// configured, OIDC tokens.
///
/// Static tokens parse from `token=agency:OFFICE,...`, with claims after a second colon,
/// joined by `+`: roles (`token=imigrasi:KANIM-CILACAP:personal_data`), a village office's
/// village by its Kemendagri code (`token=desa:DESA-KESUGIHAN:village=33.01.02.2001`), a checkpoint
/// (`checkpoint=TPI-CGK`) and the officer (`officer=im-7`). An unknown claim is refused,
/// never ignored. A token may be given as `sha256:<64 hex digits>=agency:OFFICE...`, the
/// SHA-256 of the token, so that the configuration does not hold the token itself.
#[derive(Clone, Default)]
pub struct Tokens {
    /// Keyed by the SHA-256 of the token. Tokens are random and at least 16 characters
    /// (ours 24 or more alphanumerics, over 140 bits), so a plain SHA-256 is enough: there is
    /// nothing to guess that a slow password hash would protect.
    by_hash: Arc<HashMap<[u8; 32], Caller>>,
    /// Tokens of callers this service does not serve ([`Tokens::only`]): hashes only, so
    /// that they are refused with 403 rather than as unknown.
    foreign: Arc<HashSet<[u8; 32]>>,
    oidc: Option<Oidc>,
    keep: Option<Keep>,
    /// What this service serves, said in the 403 to another's credential ("imigrasi
    /// tokens").
    serves: Option<Arc<str>>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Tokens({} static callers, oidc: {})",
            self.by_hash.len(),
            self.oidc.is_some()
        )
    }
}

fn sha256(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Tokens {
    pub fn parse(spec: &str) -> Result<Tokens, String> {
        let mut by_hash = HashMap::new();
        for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (token, who) = entry.split_once('=').ok_or_else(|| {
                "token entry without `=`: expected token=agency:OFFICE".to_string()
            })?;
            let (agency, rest) = who
                .split_once(':')
                .ok_or_else(|| format!("caller `{who}` without `:`: expected agency:OFFICE"))?;
            let (office, claims) = rest.split_once(':').unwrap_or((rest, ""));
            let mut caller = Caller::new(agency.parse()?, office);
            for claim in claims.split('+').map(str::trim).filter(|c| !c.is_empty()) {
                match claim.split_once('=').map(|(k, v)| (k, v.trim())) {
                    Some((_, "")) => return Err(format!("empty claim `{claim}`")),
                    Some(("village", code)) => {
                        caller.village = Some(code.parse().map_err(|e| {
                            format!("claim village=: {e}; the village is named by its code")
                        })?)
                    }
                    Some(("checkpoint", code)) => caller.checkpoint = Some(code.to_string()),
                    Some(("officer", id)) => caller.officer = Some(id.to_string()),
                    Some((other, _)) => {
                        return Err(format!(
                            "unknown claim `{other}`; expected village=, checkpoint= or officer="
                        ))
                    }
                    None if KNOWN_ROLES.contains(&claim) => caller.roles.push(claim.to_string()),
                    None => {
                        return Err(format!(
                            "unknown role `{claim}`; expected one of: {}",
                            KNOWN_ROLES.join(", ")
                        ))
                    }
                }
            }
            let hash = match token.strip_prefix("sha256:") {
                Some(hex) => {
                    let mut hash = [0u8; 32];
                    hex::decode_to_slice(hex.trim(), &mut hash)
                        .map_err(|_| "a sha256: token must be 64 hexadecimal digits".to_string())?;
                    hash
                }
                None if token.len() < 16 => {
                    return Err("every token must be at least 16 characters".into())
                }
                None => sha256(token),
            };
            by_hash.insert(hash, caller);
        }
        Ok(Tokens {
            by_hash: Arc::new(by_hash),
            ..Tokens::default()
        })
    }

    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, Caller)>) -> Tokens {
        Tokens {
            by_hash: Arc::new(pairs.into_iter().map(|(t, c)| (sha256(&t), c)).collect()),
            ..Tokens::default()
        }
    }

    /// These tokens and OIDC tokens validated by `oidc`.
    pub fn with_oidc(mut self, oidc: Option<Oidc>) -> Tokens {
        self.oidc = oidc;
        self
    }

    pub fn oidc(&self) -> Option<&Oidc> {
        self.oidc.as_ref()
    }

    /// Only the callers `keep` accepts: the static tokens of others are kept as hashes alone,
    /// and they and OIDC tokens of others are refused with 403.
    pub fn only(&self, keep: impl Fn(&Caller) -> bool + Send + Sync + 'static) -> Tokens {
        let keep: Keep = match &self.keep {
            Some(before) => {
                let before = before.clone();
                Arc::new(move |c: &Caller| before(c) && keep(c))
            }
            None => Arc::new(keep),
        };
        let (kept, other): (HashMap<_, _>, HashMap<_, _>) = self
            .by_hash
            .iter()
            .map(|(h, c)| (*h, c.clone()))
            .partition(|(_, c)| keep(c));
        let mut foreign = (*self.foreign).clone();
        foreign.extend(other.into_keys());
        Tokens {
            by_hash: Arc::new(kept),
            foreign: Arc::new(foreign),
            oidc: self.oidc.clone(),
            keep: Some(keep),
            serves: self.serves.clone(),
        }
    }

    /// Says what this service serves in the 403 to another's credential.
    fn serving(mut self, what: String) -> Tokens {
        self.serves = Some(what.into());
        self
    }

    /// Only the credentials of `agencies`.
    pub fn for_agencies(&self, agencies: &[Agency]) -> Tokens {
        let names: Vec<String> = agencies.iter().map(|a| a.to_string()).collect();
        let agencies = agencies.to_vec();
        self.only(move |c| agencies.contains(&c.agency))
            .serving(format!("{} tokens", names.join(" or ")))
    }

    /// Only the credentials with `role`.
    pub fn for_role(&self, role: &'static str) -> Tokens {
        self.only(move |c| c.has_role(role))
            .serving(format!("tokens with role {role}"))
    }

    /// The static token's caller.
    pub fn caller(&self, token: &str) -> Option<&Caller> {
        self.by_hash.get(&sha256(token))
    }

    /// The caller a bearer credential stands for: an OIDC token (three dot-separated parts)
    /// when sign-in is configured, else a static token.
    pub async fn authenticate(&self, token: &str) -> Result<Caller, AuthError> {
        let caller = match &self.oidc {
            Some(oidc) if token.split('.').count() == 3 => {
                oidc.verify(token).await.map_err(|refused| {
                    tracing::debug!(reason = refused.reason(), "bearer token refused");
                    AuthError::invalid_token(refused.reason())
                })?
            }
            _ => {
                let hash = sha256(token);
                if self.foreign.contains(&hash) {
                    return Err(AuthError::not_served(self.serves.as_deref()));
                }
                self.by_hash
                    .get(&hash)
                    .cloned()
                    .ok_or(AuthError::invalid_token("unknown token"))?
            }
        };
        match &self.keep {
            Some(keep) if !keep(&caller) => Err(AuthError::not_served(self.serves.as_deref())),
            _ => Ok(caller),
        }
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
/// office, DPMD); other village tokens read only the village of their `village=CODE` claim.
pub const ALL_VILLAGES_ROLE: &str = "all_villages";

/// Refusal with a JSON reason: `{"error": reason}`; a 401 names the Bearer scheme, and
/// `error="invalid_token"` when a credential was presented and refused (RFC 6750).
#[derive(Debug)]
pub struct AuthError(StatusCode, Cow<'static, str>);

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let mut response = (
            self.0,
            Json(serde_json::json!({ "error": self.1.as_ref() })),
        )
            .into_response();
        if self.0 == StatusCode::UNAUTHORIZED {
            let challenge = if self.1 == MISSING {
                "Bearer"
            } else {
                "Bearer error=\"invalid_token\""
            };
            response.headers_mut().insert(
                "www-authenticate",
                challenge.parse().expect("static header"),
            );
        }
        response
    }
}

const MISSING: &str = "missing bearer token";

/// "an imigrasi", "a polri": the agency's name as the 403 reason says it.
fn with_article(agency: Agency) -> String {
    let name = agency.to_string();
    let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {name}")
}

impl AuthError {
    /// 403 saying what the resource needs, so the caller knows which credential to ask for:
    /// `AuthError::needs("an imigrasi token with role personal_data")` answers
    /// `{"error": "this resource needs an imigrasi token with role personal_data"}`.
    pub fn needs(what: impl std::fmt::Display) -> Self {
        AuthError(
            StatusCode::FORBIDDEN,
            Cow::Owned(format!("this resource needs {what}")),
        )
    }

    /// 403: the resource is one agency's (its views, its alerts).
    pub fn needs_agency(agency: Agency) -> Self {
        Self::needs(format_args!("{} token", with_article(agency)))
    }

    /// 403: the resource needs a role of one agency's tokens.
    pub fn needs_role(agency: Agency, role: &str) -> Self {
        Self::needs(format_args!(
            "{} token with role {role}",
            with_article(agency)
        ))
    }

    /// A valid credential of an agency (or role) this service does not serve; `serves` says
    /// which it does ("imigrasi tokens").
    pub fn not_served(serves: Option<&str>) -> Self {
        let reason = match serves {
            Some(serves) => Cow::Owned(format!(
                "this credential is not for this service: it serves {serves}"
            )),
            None => Cow::Borrowed("this credential is not for this service"),
        };
        AuthError(StatusCode::FORBIDDEN, reason)
    }

    pub fn invalid_token(reason: &'static str) -> Self {
        AuthError(StatusCode::UNAUTHORIZED, Cow::Borrowed(reason))
    }

    /// The reason given to the caller.
    pub fn reason(&self) -> &str {
        &self.1
    }

    pub fn status(&self) -> StatusCode {
        self.0
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
            .ok_or(AuthError(StatusCode::UNAUTHORIZED, Cow::Borrowed(MISSING)))?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .ok_or(AuthError::invalid_token(
                "authorization must be a bearer token",
            ))?;
        state.as_ref().authenticate(token.trim()).await
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
        let village = Tokens::parse("dddddddddddddddd=desa:DESA-X:village=3301022003").unwrap();
        assert_eq!(
            village
                .caller("dddddddddddddddd")
                .unwrap()
                .village
                .as_ref()
                .map(|code| code.to_string()),
            Some("33.01.02.2003".into())
        );
        // A village is named by its code: a name (shared by many villages) is refused.
        let named = Tokens::parse("dddddddddddddddd=desa:DESA-X:village=Karang Kandri");
        assert!(named.unwrap_err().contains("village code"));
        assert!(Tokens::parse("dddddddddddddddd=desa:DESA-X:regency=Cilacap").is_err());
        assert!(Tokens::parse("dddddddddddddddd=desa:DESA-X:village=").is_err());
        let officer =
            Tokens::parse("eeeeeeeeeeeeeeee=imigrasi:TPI-SUB:checkpoint=TPI-SUB+officer=im-7")
                .unwrap();
        let caller = officer.caller("eeeeeeeeeeeeeeee").unwrap();
        assert_eq!(caller.officer.as_deref(), Some("im-7"));
        assert_eq!(caller.checkpoint.as_deref(), Some("TPI-SUB"));
    }

    /// A `sha256:` entry accepts the token whose SHA-256 it holds, and only that token.
    #[test]
    fn hashed_tokens_match_the_token_they_hash() {
        let token = "a-high-entropy-token-0123456789";
        let hash = hex::encode(Sha256::digest(token.as_bytes()));
        let t = Tokens::parse(&format!("sha256:{hash}=polri:POLRESTA-CILACAP")).unwrap();
        assert_eq!(t.caller(token).unwrap().agency, Agency::Polri);
        assert!(t.caller(&format!("sha256:{hash}")).is_none());
        assert!(t.caller("a-high-entropy-token-012345678").is_none());
        assert!(Tokens::parse("sha256:abcd=polri:X").is_err());
    }

    /// A service's table keeps only the agencies it serves: another agency's token is refused
    /// there (403), an unknown one is 401, its own still works.
    #[tokio::test]
    async fn a_service_accepts_only_the_agencies_it_serves() {
        let all = Tokens::parse(
            "aaaaaaaaaaaaaaaa=disnaker:DISNAKER-CLP, bbbbbbbbbbbbbbbb=imigrasi:KANIM-CLP",
        )
        .unwrap();
        let imigrasi = all.for_agencies(&[Agency::Imigrasi]);
        assert!(imigrasi.caller("aaaaaaaaaaaaaaaa").is_none());
        let refused = imigrasi.authenticate("aaaaaaaaaaaaaaaa").await.unwrap_err();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        let unknown = imigrasi.authenticate("cccccccccccccccc").await.unwrap_err();
        assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            imigrasi
                .authenticate("bbbbbbbbbbbbbbbb")
                .await
                .unwrap()
                .office,
            "KANIM-CLP"
        );
        let operators = all.for_role(OPERATOR_ROLE);
        assert!(operators.authenticate("bbbbbbbbbbbbbbbb").await.is_err());
    }

    /// A checkpoint office is the one its claim names, else the one its office code is.
    #[test]
    fn checkpoint_of_a_caller() {
        let known = vec!["TPI-CGK".to_string(), "TPI-SUB".to_string()];
        let office = Caller::new(Agency::Imigrasi, "TPI-CGK");
        assert_eq!(office.checkpoint(&known), Some("TPI-CGK"));
        assert_eq!(
            Caller::new(Agency::Imigrasi, "KANIM-CLP").checkpoint(&known),
            None
        );
        assert_eq!(
            Caller::new(Agency::Polri, "TPI-CGK").checkpoint(&known),
            None
        );
        let mut claimed = Caller::new(Agency::Imigrasi, "KANIM-SOETTA");
        claimed.checkpoint = Some("TPI-SUB".into());
        assert_eq!(claimed.checkpoint(&known), Some("TPI-SUB"));
    }
}
