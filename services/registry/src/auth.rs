//! HTTP Basic authentication as Confluent's clients send it
//! (`basic.auth.credentials.source=USER_INFO`, `basic.auth.user.info=user:password`), with
//! three roles: `read` (look up and fetch schemas, keys and configuration), `write` (register
//! new versions, create KEKs and DEKs) and `admin` (everything else: deletes, configuration
//! and undeletes). Each role includes the ones before it. Every route is classified here; a
//! route or method this table does not name needs `admin`.
//!
//! Passwords are stored as argon2id PHC strings. Argon2 is slow on purpose, so a successful
//! verification is remembered (bounded) under the SHA-256 of the `Authorization` header.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, LazyLock, RwLock};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header::AUTHORIZATION, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use crate::error::RegistryError;
use crate::internal_events::{RequestForbidden, RequestUnauthenticated};

/// What a user may do; each role includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Read,
    Write,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Read => "read",
            Role::Write => "write",
            Role::Admin => "admin",
        }
    }

    pub fn parse(raw: &str) -> Option<Role> {
        match raw {
            "read" => Some(Role::Read),
            "write" => Some(Role::Write),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The argon2id PHC string of `password`, with a random salt and the crate's default
/// parameters (the OWASP recommendation: 19 MiB, 2 passes).
pub fn hash_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut salt);
    let salt = SaltString::encode_b64(&salt).expect("16 bytes is a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashes any password with its default parameters")
        .to_string()
}

struct User {
    role: Role,
    phc: String,
}

/// The registry's users: name, role and argon2id hash.
#[derive(Default)]
pub struct Users(HashMap<String, User>);

impl fmt::Debug for Users {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Names and roles only: hashes stay out of logs.
        f.debug_map()
            .entries(self.0.iter().map(|(name, u)| (name, u.role)))
            .finish()
    }
}

impl Users {
    /// Entries `user:role:hash`, one per line (or separated by whitespace); blank lines and
    /// lines starting with `#` are skipped. The hash is an argon2id PHC string
    /// (`lintas registry hash-password`).
    pub fn parse(text: &str) -> Result<Users, String> {
        let mut users = HashMap::new();
        for (n, entry) in text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .flat_map(str::split_whitespace)
            .enumerate()
        {
            let mut parts = entry.splitn(3, ':');
            let (Some(name), Some(role), Some(phc)) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(format!("entry {} is not user:role:hash", n + 1));
            };
            if name.is_empty() {
                return Err(format!("entry {} has an empty user name", n + 1));
            }
            let role = Role::parse(role).ok_or_else(|| {
                format!("user {name}: role `{role}` is not one of read, write, admin")
            })?;
            let parsed = PasswordHash::new(phc)
                .map_err(|e| format!("user {name}: the hash is not a PHC string: {e}"))?;
            if parsed.algorithm.as_str() != "argon2id" {
                return Err(format!(
                    "user {name}: the hash must be argon2id (`lintas registry hash-password`)"
                ));
            }
            let user = User {
                role,
                phc: phc.to_string(),
            };
            if users.insert(name.to_string(), user).is_some() {
                return Err(format!("user {name} is listed twice"));
            }
        }
        Ok(Users(users))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

/// Successful verifications remembered; cleared when full (it only saves work).
const CACHE_ENTRIES: usize = 1024;
/// Concurrent argon2 verifications (19 MiB each): a flood of wrong passwords queues here
/// instead of exhausting memory.
const VERIFYING: usize = 4;

/// SHA-256 of an `Authorization` header -> the user and role it proved.
type Verified = HashMap<[u8; 32], (String, Role)>;

/// The users and the verification cache; cheap to clone.
#[derive(Clone)]
pub(crate) struct Auth {
    users: Arc<Users>,
    verified: Arc<RwLock<Verified>>,
    verifying: Arc<Semaphore>,
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth").field("users", &self.users).finish()
    }
}

/// Verified against when the user is unknown, so that an unknown name costs what a wrong
/// password costs.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| hash_password("lintas-no-such-user"));

impl Auth {
    pub(crate) fn new(users: Users) -> Auth {
        Auth {
            users: Arc::new(users),
            verified: Arc::default(),
            verifying: Arc::new(Semaphore::new(VERIFYING)),
        }
    }

    /// The user and role behind an `Authorization` header value.
    async fn authenticate(&self, header: Option<&[u8]>) -> Result<(String, Role), Failure> {
        let header = header.ok_or(Failure::Missing)?;
        let key: [u8; 32] = Sha256::digest(header).into();
        if let Some(found) = self.verified.read().expect("lock").get(&key) {
            return Ok(found.clone());
        }
        let (name, password) = basic_credentials(header).ok_or(Failure::Malformed)?;
        let user = self.users.0.get(&name);
        let phc = user.map(|u| u.phc.clone());
        let _permit = self
            .verifying
            .acquire()
            .await
            .map_err(|_| Failure::BadCredentials)?;
        let matches = tokio::task::spawn_blocking(move || {
            let phc = phc.unwrap_or_else(|| DUMMY_HASH.clone());
            PasswordHash::new(&phc).is_ok_and(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
        })
        .await
        .unwrap_or(false);
        let Some(user) = user.filter(|_| matches) else {
            tracing::info!(user = %name, "registry credential refused");
            return Err(Failure::BadCredentials);
        };
        let mut verified = self.verified.write().expect("lock");
        if verified.len() >= CACHE_ENTRIES {
            verified.clear();
        }
        verified.insert(key, (name.clone(), user.role));
        Ok((name, user.role))
    }
}

/// `Basic base64(user:password)` → (user, password); the password may contain `:`.
fn basic_credentials(header: &[u8]) -> Option<(String, String)> {
    let text = std::str::from_utf8(header).ok()?;
    let (scheme, encoded) = text.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(BASE64.decode(encoded.trim()).ok()?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

#[derive(Debug, Clone, Copy)]
enum Failure {
    Missing,
    Malformed,
    BadCredentials,
}

impl Failure {
    fn reason(self) -> &'static str {
        match self {
            Failure::Missing => "missing",
            Failure::Malformed => "malformed",
            Failure::BadCredentials => "bad_credentials",
        }
    }
}

const KEKS: &str = "/dek-registry/v1/keks";

/// The role a request needs: its method and the route template it matched (relative to the
/// registry's own routes). A route or method not named here needs `admin`; a path that is no
/// route at all (`None`) any user, who gets 404 (so that a wrong base URL reads as one).
pub(crate) fn required_role(method: &Method, route: Option<&str>) -> Role {
    let Some(route) = route else {
        return Role::Read;
    };
    if method == Method::GET || method == Method::HEAD {
        // Every GET of the registry reads: schemas, versions, configuration, wrapped keys.
        return Role::Read;
    }
    if method != Method::POST {
        return Role::Admin;
    }
    match route {
        // Look up a schema's id and version; check compatibility: both leave nothing behind.
        "/subjects/{subject}" | "/compatibility/subjects/{subject}/versions/{version}" => {
            Role::Read
        }
        "/subjects/{subject}/versions" => Role::Write,
        // A publisher creates its KEK reference and its DEKs on first use and on rotation.
        r if r == KEKS => Role::Write,
        r if r.strip_prefix(KEKS).is_some_and(|rest| {
            let parts: Vec<&str> = rest.split('/').collect();
            matches!(
                parts.as_slice(),
                ["", "{name}", "deks"] | ["", "{name}", "deks", "{subject}"]
            )
        }) =>
        {
            Role::Write
        }
        _ => Role::Admin,
    }
}

/// The route template relative to the registry's router, also when it is nested (`lintas up`
/// serves it under `/registry`): the matched template includes the prefix, the request's path
/// (stripped by the nesting) does not, and each template segment matches one path segment.
fn relative_route(request: &Request) -> Option<String> {
    let matched = request.extensions().get::<MatchedPath>()?.as_str();
    let depth = request.uri().path().split('/').count() - 1;
    let segments: Vec<&str> = matched.split('/').skip(1).collect();
    Some(format!(
        "/{}",
        segments[segments.len().saturating_sub(depth)..].join("/")
    ))
}

pub(crate) async fn require(State(auth): State<Auth>, request: Request, next: Next) -> Response {
    let route = relative_route(&request);
    let needed = required_role(request.method(), route.as_deref());
    let header = request
        .headers()
        .get(AUTHORIZATION)
        .map(|v| v.as_bytes().to_vec());
    match auth.authenticate(header.as_deref()).await {
        Err(failure) => {
            RequestUnauthenticated {
                reason: failure.reason(),
                method: request.method(),
                route: route.as_deref(),
            }
            .emit();
            RegistryError::Unauthorized.into_response()
        }
        Ok((user, role)) if role < needed => {
            RequestForbidden {
                user: &user,
                role,
                needed,
                method: request.method(),
                route: route.as_deref(),
            }
            .emit();
            RegistryError::Forbidden { user, needed }.into_response()
        }
        Ok(_) => next.run(request).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The route table: reads, registrations and everything else.
    #[test]
    fn roles_per_route() {
        let role = |m: Method, r: &str| required_role(&m, Some(r));
        assert_eq!(role(Method::GET, "/subjects"), Role::Read);
        assert_eq!(role(Method::POST, "/subjects/{subject}"), Role::Read);
        assert_eq!(
            role(
                Method::POST,
                "/compatibility/subjects/{subject}/versions/{version}"
            ),
            Role::Read
        );
        assert_eq!(
            role(Method::POST, "/subjects/{subject}/versions"),
            Role::Write
        );
        assert_eq!(role(Method::POST, KEKS), Role::Write);
        assert_eq!(
            role(Method::POST, &format!("{KEKS}/{{name}}/deks/{{subject}}")),
            Role::Write
        );
        assert_eq!(
            role(Method::POST, &format!("{KEKS}/{{name}}/undelete")),
            Role::Admin
        );
        assert_eq!(role(Method::DELETE, "/subjects/{subject}"), Role::Admin);
        assert_eq!(role(Method::PUT, "/config"), Role::Admin);
        assert_eq!(role(Method::POST, "/mode"), Role::Admin);
        let odd = Method::from_bytes(b"RANDOM").unwrap();
        assert_eq!(role(odd, "/subjects"), Role::Admin);
        assert_eq!(required_role(&Method::DELETE, None), Role::Read);
    }

    /// Users files: good entries parse, a plain password or an unknown role does not.
    #[test]
    fn users_file() {
        let phc = hash_password("s3cret");
        let users =
            Users::parse(&format!("# comment\nalice:read:{phc}\n\nbob:admin:{phc}\n")).unwrap();
        assert_eq!(users.len(), 2);
        assert!(!format!("{users:?}").contains("argon2"));
        assert!(Users::parse("alice:read:s3cret").is_err());
        assert!(Users::parse(&format!("alice:owner:{phc}")).is_err());
        assert!(Users::parse(&format!("alice:read:{phc} alice:admin:{phc}")).is_err());
    }

    /// A right password passes (then from the cache), a wrong one or an unknown user does not.
    #[tokio::test]
    async fn verification() {
        let users = Users::parse(&format!("alice:write:{}", hash_password("pa:ss"))).unwrap();
        let auth = Auth::new(users);
        let header = |u: &str| format!("Basic {}", BASE64.encode(u));
        let ok = header("alice:pa:ss");
        for _ in 0..2 {
            let (user, role) = auth.authenticate(Some(ok.as_bytes())).await.unwrap();
            assert_eq!((user.as_str(), role), ("alice", Role::Write));
        }
        for wrong in ["alice:pa", "bob:pa:ss", "alice"] {
            assert!(auth
                .authenticate(Some(header(wrong).as_bytes()))
                .await
                .is_err());
        }
        assert!(auth.authenticate(Some(b"Bearer x")).await.is_err());
        assert!(auth.authenticate(None).await.is_err());
    }
}
