//! Agency sign-in with OpenID Connect: bearer JWTs issued by the agencies' identity provider,
//! validated against its JWKS.
//!
//! What a token must be to be accepted (anything else is 401 `invalid_token`):
//! - signed with an asymmetric algorithm of the configured allow-list (`RS256` and `ES256` by
//!   default; `PS256`…, `ES384` and `EdDSA` when configured). The algorithm is taken from the
//!   configuration, never from the token: `alg: none`, every `HS*` (and so an HS256 token
//!   keyed with the public key, the classic key confusion) are refused;
//! - by the key its header's `kid` names in the JWKS, a key of the same family whose own `alg`
//!   (when the JWKS states one) is the token's; symmetric (`oct`) keys of a JWKS are ignored;
//! - with `iss` equal to the configured issuer, `aud` holding the configured audience, `exp` in
//!   the future and `nbf` (when present) in the past, both with [`OidcArgs::leeway_seconds`] of
//!   clock skew (30 s by default);
//! - with the Lintas claims of [`LintasClaims`]: the agency, the office, known roles only,
//!   the village of a village office, the checkpoint of a checkpoint office.
//!
//! Keys are fetched from the JWKS URL, cached, refreshed every
//! [`OidcArgs::jwks_refresh_seconds`] in the background and at once when a token names a key
//! not in the cache (at most once every [`UNKNOWN_KID_REFETCH`]), so that a key rotation at the
//! identity provider needs no restart. A failed fetch keeps the cached keys; it is logged and
//! counted (`lintas_oidc_jwks_fetch_failures_total`), and `lintas_oidc_jwks_keys` is 0 until keys
//! were loaded once. Tokens and keys are never logged.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, RwLock};
use std::time::{Duration, Instant};

use clap::Args;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use lintas_events::Agency;
use prometheus::{IntCounter, IntGauge};
use serde::Deserialize;

use crate::auth::{Caller, KNOWN_ROLES};
use crate::metrics::catalogue;

/// Tokens naming a key the cache does not hold refetch the JWKS at most this often (a flood of
/// made-up `kid`s costs the identity provider one request per interval).
pub const UNKNOWN_KID_REFETCH: Duration = Duration::from_secs(30);

/// Longest officer identity accepted (the `officer_id` of events).
const MAX_OFFICER: usize = 64;

pub(crate) static JWKS_FETCH_FAILURES: LazyLock<IntCounter> = LazyLock::new(|| {
    catalogue::int_counter(
        "lintas_oidc_jwks_fetch_failures_total",
        "Fetches of the identity provider's JWKS that failed (the cached keys stay in use).",
    )
});

pub(crate) static JWKS_KEYS: LazyLock<IntGauge> = LazyLock::new(|| {
    catalogue::int_gauge(
        "lintas_oidc_jwks_keys",
        "Signing keys of the identity provider held; 0 means no OIDC token can be accepted.",
    )
});

/// OIDC sign-in settings. Without an issuer, only the static tokens of `LINTAS_TOKENS` are
/// accepted.
#[derive(Args, Clone, Debug, Default)]
pub struct OidcArgs {
    /// Issuer (`iss`) of the agencies' identity provider; enables OIDC sign-in.
    #[arg(long, env = "LINTAS_OIDC_ISSUER")]
    pub oidc_issuer: Option<String>,
    /// Audience (`aud`) a token must name: Lintas's client id at the identity provider.
    #[arg(long, env = "LINTAS_OIDC_AUDIENCE")]
    pub oidc_audience: Option<String>,
    /// The identity provider's JWKS (its `jwks_uri`).
    #[arg(long, env = "LINTAS_OIDC_JWKS_URL")]
    pub oidc_jwks_url: Option<String>,
    /// Signature algorithms accepted, asymmetric only.
    #[arg(
        long,
        env = "LINTAS_OIDC_ALGORITHMS",
        value_delimiter = ',',
        default_value = "RS256,ES256"
    )]
    pub oidc_algorithms: Vec<String>,
    /// Clock skew tolerated on `exp` and `nbf`, in seconds.
    #[arg(
        long = "oidc-leeway-seconds",
        env = "LINTAS_OIDC_LEEWAY_SECONDS",
        default_value_t = 30
    )]
    pub leeway_seconds: u64,
    /// How often the JWKS is fetched again, in seconds.
    #[arg(
        long = "oidc-jwks-refresh-seconds",
        env = "LINTAS_OIDC_JWKS_REFRESH_SECONDS",
        default_value_t = 300
    )]
    pub jwks_refresh_seconds: u64,
}

impl OidcArgs {
    /// The verifier, or `None` when no issuer is configured.
    pub fn verifier(&self) -> Result<Option<Oidc>, String> {
        let Some(issuer) = self.oidc_issuer.clone().filter(|i| !i.trim().is_empty()) else {
            return Ok(None);
        };
        let audience = self
            .oidc_audience
            .clone()
            .filter(|a| !a.trim().is_empty())
            .ok_or("LINTAS_OIDC_AUDIENCE is required with LINTAS_OIDC_ISSUER")?;
        let jwks_url = self
            .oidc_jwks_url
            .clone()
            .filter(|u| !u.trim().is_empty())
            .ok_or("LINTAS_OIDC_JWKS_URL is required with LINTAS_OIDC_ISSUER")?;
        let mut algorithms = Vec::new();
        for name in self
            .oidc_algorithms
            .iter()
            .map(|a| a.trim())
            .filter(|a| !a.is_empty())
        {
            let alg: Algorithm = name
                .parse()
                .map_err(|_| format!("LINTAS_OIDC_ALGORITHMS: unknown algorithm `{name}`"))?;
            if matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) {
                return Err(format!(
                    "LINTAS_OIDC_ALGORITHMS: {name} is symmetric; only the identity provider's public keys may be trusted"
                ));
            }
            algorithms.push(alg);
        }
        if algorithms.is_empty() {
            return Err("LINTAS_OIDC_ALGORITHMS is empty".into());
        }
        Ok(Some(Oidc::new(OidcSettings {
            issuer,
            audience,
            jwks_url,
            algorithms,
            leeway: Duration::from_secs(self.leeway_seconds),
            refresh: Duration::from_secs(self.jwks_refresh_seconds.max(1)),
            unknown_kid_refetch: UNKNOWN_KID_REFETCH,
        })))
    }
}

/// A verifier's settings (see [`OidcArgs`]).
#[derive(Debug, Clone)]
pub struct OidcSettings {
    pub issuer: String,
    pub audience: String,
    pub jwks_url: String,
    pub algorithms: Vec<Algorithm>,
    pub leeway: Duration,
    /// How often the keys are fetched again.
    pub refresh: Duration,
    /// At most one fetch per this interval for tokens naming an unknown key.
    pub unknown_kid_refetch: Duration,
}

/// The claims Lintas reads from an identity provider's token (configured as claim mappers at
/// the identity provider). `sub` and the standard claims are checked by [`Oidc::verify`].
#[derive(Debug, Deserialize)]
pub struct LintasClaims {
    pub sub: String,
    /// Preferred as the officer's identity when present; else `sub`.
    #[serde(default)]
    pub preferred_username: Option<String>,
    /// `imigrasi`, `disnaker`, `polri`, `kejaksaan`, `desa` or `other` (operations).
    pub lintas_agency: String,
    /// The office code, for example `KANIM-CILACAP`, `TPI-CGK`, `DESA-KESUGIHAN`.
    pub lintas_office: String,
    /// Roles of [`KNOWN_ROLES`]; a token with any other is refused.
    #[serde(default)]
    pub lintas_roles: Vec<String>,
    /// The village a village office acts for, by its Kemendagri code (`33.01.02.2003`); a
    /// token naming a village otherwise is refused.
    #[serde(default)]
    pub lintas_village: Option<String>,
    /// The checkpoint a checkpoint office records departure checks at.
    #[serde(default)]
    pub lintas_checkpoint: Option<String>,
}

/// A JWKS key Lintas may verify with.
struct Key {
    /// The key's own `alg`, when the JWKS states one.
    alg: Option<Algorithm>,
    /// For EC keys, the algorithm its curve goes with.
    curve_alg: Option<Algorithm>,
    key: DecodingKey,
}

#[derive(Default)]
struct Keys {
    by_kid: HashMap<String, Arc<Key>>,
    /// When the last fetch ended, whether or not it succeeded.
    attempted: Option<Instant>,
}

struct Inner {
    settings: OidcSettings,
    client: reqwest::Client,
    keys: RwLock<Keys>,
    /// One fetch at a time.
    fetching: tokio::sync::Mutex<()>,
    /// When a token naming an unknown key last caused a fetch.
    unknown_kid_fetch: std::sync::Mutex<Option<Instant>>,
    background: AtomicBool,
}

/// The OIDC token verifier with its JWKS cache; cheap to clone.
#[derive(Clone)]
pub struct Oidc {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Oidc({})", self.inner.settings.issuer)
    }
}

/// Why a token was refused: for logs at debug level and the 401's reason, never the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    Malformed,
    Algorithm,
    UnknownKey,
    Signature,
    Expired,
    NotYetValid,
    Issuer,
    Audience,
    Claims,
}

impl Refused {
    pub fn reason(self) -> &'static str {
        match self {
            Refused::Malformed => "malformed token",
            Refused::Algorithm => "token algorithm not accepted",
            Refused::UnknownKey => "token signed with an unknown key",
            Refused::Signature => "invalid token signature",
            Refused::Expired => "token expired",
            Refused::NotYetValid => "token not yet valid",
            Refused::Issuer => "token from another issuer",
            Refused::Audience => "token for another audience",
            Refused::Claims => "token without valid Lintas claims",
        }
    }
}

/// Registers the JWKS metrics (0 until keys were loaded) before the first fetch.
pub(crate) fn init_metrics() {
    LazyLock::force(&JWKS_KEYS);
    LazyLock::force(&JWKS_FETCH_FAILURES);
}

impl Oidc {
    pub fn new(settings: OidcSettings) -> Oidc {
        init_metrics();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .expect("HTTP client");
        Oidc {
            inner: Arc::new(Inner {
                settings,
                client,
                keys: RwLock::new(Keys::default()),
                fetching: tokio::sync::Mutex::new(()),
                unknown_kid_fetch: std::sync::Mutex::new(None),
                background: AtomicBool::new(false),
            }),
        }
    }

    pub fn settings(&self) -> &OidcSettings {
        &self.inner.settings
    }

    /// Loads the keys once (a service calls it at start); a failure is logged and counted, and
    /// the first token fetches again.
    pub async fn load(&self) -> bool {
        self.refresh().await
    }

    /// Whether keys were loaded.
    pub fn has_keys(&self) -> bool {
        !self.inner.keys.read().expect("keys lock").by_kid.is_empty()
    }

    /// Fetches the JWKS, one fetch at a time (a caller that waited for another's fetch uses
    /// its result); whether the cache now holds keys. A failure keeps the cached keys.
    async fn refresh(&self) -> bool {
        let asked = Instant::now();
        let _one = self.inner.fetching.lock().await;
        let done_meanwhile = self
            .inner
            .keys
            .read()
            .expect("keys lock")
            .attempted
            .is_some_and(|at| at > asked);
        if done_meanwhile {
            return self.has_keys();
        }
        let fetched = self.fetch().await;
        let mut keys = self.inner.keys.write().expect("keys lock");
        keys.attempted = Some(Instant::now());
        match fetched {
            Ok(by_kid) => {
                crate::internal_events::JwksLoaded { keys: by_kid.len() }.emit();
                keys.by_kid = by_kid;
            }
            Err(e) => {
                crate::internal_events::JwksFetchFailed {
                    url: &self.inner.settings.jwks_url,
                    error: &e,
                }
                .emit();
            }
        }
        !keys.by_kid.is_empty()
    }

    async fn fetch(&self) -> Result<HashMap<String, Arc<Key>>, String> {
        let response = self
            .inner
            .client
            .get(&self.inner.settings.jwks_url)
            .send()
            .await
            .map_err(|e| e.without_url().to_string())?;
        if !response.status().is_success() {
            return Err(format!("JWKS answered {}", response.status()));
        }
        let set: JwkSet = response
            .json()
            .await
            .map_err(|e| format!("JWKS is not a key set: {}", e.without_url()))?;
        let mut by_kid = HashMap::new();
        for jwk in &set.keys {
            let Some(kid) = jwk.common.key_id.clone() else {
                continue;
            };
            if jwk
                .common
                .public_key_use
                .as_ref()
                .is_some_and(|u| !matches!(u, PublicKeyUse::Signature))
            {
                continue;
            }
            // A symmetric key in a JWKS is never a signing key we may trust.
            let curve_alg = match &jwk.algorithm {
                AlgorithmParameters::OctetKey(_) => continue,
                AlgorithmParameters::EllipticCurve(p) => match p.curve {
                    EllipticCurve::P256 => Some(Algorithm::ES256),
                    EllipticCurve::P384 => Some(Algorithm::ES384),
                    _ => continue,
                },
                _ => None,
            };
            let alg = match jwk.common.key_algorithm {
                None => None,
                Some(a) => match key_algorithm(a) {
                    Some(a) => Some(a),
                    None => continue,
                },
            };
            let Ok(key) = DecodingKey::from_jwk(jwk) else {
                continue;
            };
            by_kid.insert(
                kid,
                Arc::new(Key {
                    alg,
                    curve_alg,
                    key,
                }),
            );
        }
        Ok(by_kid)
    }

    fn key(&self, kid: &str) -> (Option<Arc<Key>>, bool) {
        let keys = self.inner.keys.read().expect("keys lock");
        let stale = keys
            .attempted
            .is_none_or(|at| at.elapsed() >= self.inner.settings.refresh);
        (keys.by_kid.get(kid).cloned(), stale)
    }

    /// Refreshes the keys in the background when they are older than the refresh interval.
    fn refresh_in_background(&self) {
        if self.inner.background.swap(true, Ordering::AcqRel) {
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            this.refresh().await;
            this.inner.background.store(false, Ordering::Release);
        });
    }

    /// Validates `token` and maps its claims to a [`Caller`].
    pub async fn verify(&self, token: &str) -> Result<Caller, Refused> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| Refused::Malformed)?;
        let settings = &self.inner.settings;
        if !settings.algorithms.contains(&header.alg) {
            return Err(Refused::Algorithm);
        }
        let kid = header.kid.as_deref().ok_or(Refused::UnknownKey)?;
        let (mut key, stale) = self.key(kid);
        if key.is_none() {
            // A key rotated in at the identity provider: fetch again, rate-limited.
            let allowed = {
                let mut last = self.inner.unknown_kid_fetch.lock().expect("lock");
                let allowed = last.is_none_or(|at| at.elapsed() >= settings.unknown_kid_refetch);
                if allowed {
                    *last = Some(Instant::now());
                }
                allowed
            };
            if allowed {
                self.refresh().await;
                key = self.key(kid).0;
            }
        } else if stale {
            self.refresh_in_background();
        }
        let key = key.ok_or(Refused::UnknownKey)?;
        if key.alg.is_some_and(|a| a != header.alg)
            || key.curve_alg.is_some_and(|a| a != header.alg)
            || !key.key.family().algorithms().contains(&header.alg)
        {
            return Err(Refused::Algorithm);
        }
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = settings.leeway.as_secs();
        let data =
            jsonwebtoken::decode::<LintasClaims>(token, &key.key, &validation).map_err(|e| {
                use jsonwebtoken::errors::ErrorKind as K;
                match e.kind() {
                    K::InvalidSignature => Refused::Signature,
                    K::ExpiredSignature => Refused::Expired,
                    K::ImmatureSignature => Refused::NotYetValid,
                    K::InvalidIssuer => Refused::Issuer,
                    K::InvalidAudience => Refused::Audience,
                    K::InvalidAlgorithm | K::MissingAlgorithm => Refused::Algorithm,
                    K::Json(_) | K::MissingRequiredClaim(_) | K::InvalidClaimFormat(_) => {
                        Refused::Claims
                    }
                    _ => Refused::Malformed,
                }
            })?;
        caller_of(data.claims)
    }
}

/// The JWKS `alg` of a key as a signature algorithm; `None` for what may not sign.
fn key_algorithm(alg: KeyAlgorithm) -> Option<Algorithm> {
    use KeyAlgorithm as K;
    Some(match alg {
        K::RS256 => Algorithm::RS256,
        K::RS384 => Algorithm::RS384,
        K::RS512 => Algorithm::RS512,
        K::PS256 => Algorithm::PS256,
        K::PS384 => Algorithm::PS384,
        K::PS512 => Algorithm::PS512,
        K::ES256 => Algorithm::ES256,
        K::ES384 => Algorithm::ES384,
        K::EdDSA => Algorithm::EdDSA,
        _ => return None,
    })
}

/// The caller a token's claims describe: refused when the agency is unknown, a role is not
/// one of [`KNOWN_ROLES`], or a text claim is empty or too long.
pub fn caller_of(claims: LintasClaims) -> Result<Caller, Refused> {
    let agency: Agency = claims.lintas_agency.parse().map_err(|_| Refused::Claims)?;
    let text = |v: Option<String>| -> Result<Option<String>, Refused> {
        match v.map(|v| v.trim().to_string()) {
            Some(v) if v.is_empty() || v.len() > 100 || v.chars().any(char::is_control) => {
                Err(Refused::Claims)
            }
            other => Ok(other),
        }
    };
    let office = text(Some(claims.lintas_office))?.ok_or(Refused::Claims)?;
    if claims
        .lintas_roles
        .iter()
        .any(|r| !KNOWN_ROLES.contains(&r.as_str()))
    {
        return Err(Refused::Claims);
    }
    let officer = text(Some(claims.preferred_username.unwrap_or(claims.sub)))?
        .filter(|o| o.len() <= MAX_OFFICER)
        .ok_or(Refused::Claims)?;
    Ok(Caller {
        agency,
        office,
        roles: claims.lintas_roles,
        village: text(claims.lintas_village)?
            .map(|code| code.parse())
            .transpose()
            .map_err(|_: String| Refused::Claims)?,
        checkpoint: text(claims.lintas_checkpoint)?,
        officer: Some(officer),
    })
}
