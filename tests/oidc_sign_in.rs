//! Agency sign-in with OIDC, end to end: the intakes and every agency's API run with a local
//! identity provider (a JWKS of a P-256 key made by the test, served on 127.0.0.1). Officers'
//! JWTs get in; a wrong issuer, audience, an expired token, `alg: none`, an unknown key and
//! key confusion are refused with 401; a checkpoint office records checks only at its own
//! checkpoint and a village office reports only for its own village (403, the field named,
//! nothing published). The access matrix of the alert desks and views holds with JWTs as with
//! static tokens, and each village claim reads only its village: one test each.

mod harness;

use std::time::Duration;

use axum::routing::get;
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use harness::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::EncodePrivateKey;
use reqwest::Method;
use serde_json::{json, Value};

const ISSUER: &str = "https://sso.example.go.id/realms/lintas";
const AUDIENCE: &str = "lintas-api";

/// The identity provider's signing key, made for this run, and its JWKS URL.
struct Idp {
    key: EncodingKey,
    public: Vec<u8>,
    jwks_url: String,
}

async fn start_idp() -> Idp {
    let secret = p256::SecretKey::random(&mut rand::rngs::OsRng);
    let point = secret.public_key().to_encoded_point(false);
    let jwks = json!({"keys": [{
        "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": "idp-1",
        "x": URL_SAFE_NO_PAD.encode(point.x().unwrap()),
        "y": URL_SAFE_NO_PAD.encode(point.y().unwrap()),
    }]});
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let jwks_url = format!("http://{}/certs", listener.local_addr().unwrap());
    let app = Router::new().route("/certs", get(move || async move { Json(jwks) }));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Idp {
        key: EncodingKey::from_ec_der(secret.to_pkcs8_der().unwrap().as_bytes()),
        public: point.as_bytes().to_vec(),
        jwks_url,
    }
}

impl Idp {
    /// The service flags of sign-in with this provider.
    fn flags(&self) -> Vec<String> {
        [
            "--oidc-issuer",
            ISSUER,
            "--oidc-audience",
            AUDIENCE,
            "--oidc-jwks-url",
            &self.jwks_url,
        ]
        .map(String::from)
        .to_vec()
    }

    /// An officer's token: `agency`, `office` and the extra claims, valid for ten minutes.
    fn token(&self, agency: &str, office: &str, extra: Value) -> String {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let mut claims = json!({
            "iss": ISSUER, "aud": AUDIENCE, "sub": format!("{office}-officer"),
            "iat": now, "nbf": now, "exp": now + 600,
            "lintas_agency": agency, "lintas_office": office,
        });
        for (k, v) in extra.as_object().unwrap() {
            claims[k] = v.clone();
        }
        self.sign(&claims, "idp-1")
    }

    fn sign(&self, claims: &Value, kid: &str) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(kid.into());
        jsonwebtoken::encode(&header, claims, &self.key).unwrap()
    }
}

/// The intakes with OIDC: a checkpoint officer's token records a check at its checkpoint;
/// bad tokens are 401; another checkpoint (JWT or static token) and another village are 403
/// with the field named, and nothing is published.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intakes_accept_officers_tokens_within_their_credential() {
    let idp = start_idp().await;
    let broker = Broker::start(1).await;
    let database = fresh_database().await;
    let registry = start_registry(&database, &broker.dir).await;
    let flags = idp.flags();
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let intake = start_intake_with(
        &broker.brokers,
        &registry.url,
        &database,
        &broker.dir,
        free_port(),
        &flags,
    )
    .await;
    let client = Client::new();
    let checks = format!("{}/v1/checkpoints/departure-checks", intake.url);
    let cgk = idp.token(
        "imigrasi",
        "TPI-CGK",
        json!({"preferred_username": "tpi-9"}),
    );

    let (status, body) = client
        .call(
            Method::POST,
            &checks,
            Some(&cgk),
            Some(minor_refused("TPI-CGK")),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(records_in(&broker.brokers, "lintas.departures.v1"), 1);
    // Another officer than the one signed in: refused, the field named.
    let mut as_another = minor_refused("TPI-CGK");
    as_another["officer_id"] = json!("tpi-10");
    let (status, body) = client
        .call(Method::POST, &checks, Some(&cgk), Some(as_another))
        .await;
    assert_eq!(
        (status, &body["fields"][0]["field"]),
        (403, &json!("officer_id")),
        "{body}"
    );

    // Bad tokens: 401, whatever they claim.
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "nbf": now, "exp": now + 600,
                        "lintas_agency": "imigrasi", "lintas_office": "TPI-CGK"});
    let with = |change: Value| {
        let mut c = claims.clone();
        for (k, v) in change.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    };
    let alg_none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT", "kid": "idp-1"}).to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut hs = Header::new(Algorithm::HS256);
    hs.kid = Some("idp-1".into());
    let confusion =
        jsonwebtoken::encode(&hs, &claims, &EncodingKey::from_secret(&idp.public)).unwrap();
    for (what, token) in [
        (
            "wrong issuer",
            idp.sign(&with(json!({"iss": "https://sso.example.com"})), "idp-1"),
        ),
        (
            "wrong audience",
            idp.sign(&with(json!({"aud": "another-app"})), "idp-1"),
        ),
        (
            "expired",
            idp.sign(&with(json!({"exp": now - 300})), "idp-1"),
        ),
        ("alg none", alg_none),
        ("unknown key", idp.sign(&claims, "idp-2")),
        ("key confusion", confusion),
    ] {
        let (status, body) = client
            .call(
                Method::POST,
                &checks,
                Some(&token),
                Some(minor_refused("TPI-CGK")),
            )
            .await;
        assert_eq!(status, 401, "{what}: {body}");
        assert!(body["error"].is_string(), "{what}: {body}");
    }

    // Beyond the credential: another checkpoint, by JWT and by static token; another village.
    let desa = idp.token(
        "desa",
        "DESA-KESUGIHAN",
        json!({"lintas_village": "33.01.02.2001", "preferred_username": "desa-1"}),
    );
    let applicants = format!("{}/v1/applicants", intake.url);
    for (url, token, body, field) in [
        (
            &checks,
            cgk.as_str(),
            minor_refused("TPI-SUB"),
            "checkpoint_code",
        ),
        (
            &checks,
            CHECKPOINT_TOKEN,
            minor_refused("TPI-SUB"),
            "checkpoint_code",
        ),
        (
            &checks,
            IMIGRASI_TOKEN,
            minor_refused("TPI-CGK"),
            "checkpoint_code",
        ),
        (
            &applicants,
            desa.as_str(),
            village_report("33.01.07.2001"),
            "village_code",
        ),
        (
            &applicants,
            DESA_KESUGIHAN_TOKEN,
            village_report("33.01.07.2001"),
            "village_code",
        ),
    ] {
        let (status, answer) = client
            .call(Method::POST, url, Some(token), Some(body))
            .await;
        assert_eq!(status, 403, "{answer}");
        assert_eq!(answer["fields"][0]["field"], field, "{answer}");
    }
    let (status, body) = client
        .call(
            Method::POST,
            &applicants,
            Some(&desa),
            Some(village_report("33.01.02.2001")),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        records_in(&broker.brokers, "lintas.departures.v1"),
        1,
        "nothing published for the refused checks"
    );
}

/// A broker, a database and a registry, and the subscribers of `agencies` (in that order)
/// with OIDC sign-in, each live.
struct Apis {
    /// Held for the processes' lifetime.
    _broker: Broker,
    _database: String,
    _registry: Registry,
    services: Vec<Service>,
}

async fn apis_with_oidc(idp: &Idp, agencies: &[&str]) -> Apis {
    let broker = Broker::start(1).await;
    let database = fresh_database().await;
    let registry = start_registry(&database, &broker.dir).await;
    let flags = idp.flags();
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let services: Vec<Service> = agencies
        .iter()
        .map(|agency| {
            spawn_subscriber(
                agency,
                &broker.brokers,
                &registry.url,
                &database,
                &broker.dir,
                &flags,
            )
        })
        .collect();
    for service in &services {
        wait_http_ok(&format!("{}/livez", service.url), Duration::from_secs(90)).await;
    }
    Apis {
        _broker: broker,
        _database: database,
        _registry: registry,
        services,
    }
}

/// Every agency's API with OIDC: each officer's token gets into its own agency's endpoints
/// only (another agency's is 403, no token 401).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_access_matrix_holds_with_officers_tokens() {
    let idp = start_idp().await;
    let apis = apis_with_oidc(
        &idp,
        &["imigrasi", "disnaker", "polri", "kejaksaan", "desa"],
    )
    .await;
    let [imigrasi, disnaker, polri, kejaksaan, desa] = &apis.services[..] else {
        unreachable!("five services")
    };
    let client = Client::new();
    let id = uuid::Uuid::new_v4();
    // The officer of each action is the one signed in: officers' tokens name no other.
    let close = || Some(json!({"reason": "other"}));
    let endpoints: Vec<Endpoint> = vec![
        (
            "imigrasi",
            Method::GET,
            format!("{}/v1/agencies/imigrasi/subjects/unknown", imigrasi.url),
            None,
        ),
        (
            "imigrasi",
            Method::GET,
            format!("{}/v1/agencies/imigrasi/alerts", imigrasi.url),
            None,
        ),
        (
            "imigrasi",
            Method::GET,
            format!("{}/v1/agencies/imigrasi/alerts/{id}", imigrasi.url),
            None,
        ),
        (
            "imigrasi",
            Method::POST,
            format!("{}/v1/agencies/imigrasi/alerts/{id}/close", imigrasi.url),
            close(),
        ),
        (
            "imigrasi",
            Method::GET,
            format!(
                "{}/v1/agencies/imigrasi/audit/personal-data-reads",
                imigrasi.url
            ),
            None,
        ),
        (
            "disnaker",
            Method::GET,
            format!("{}/v1/agencies/disnaker/follow-up-tasks", disnaker.url),
            None,
        ),
        (
            "disnaker",
            Method::GET,
            format!("{}/v1/agencies/disnaker/alerts", disnaker.url),
            None,
        ),
        (
            "disnaker",
            Method::POST,
            format!(
                "{}/v1/agencies/disnaker/alerts/{id}/acknowledge",
                disnaker.url
            ),
            Some(json!({})),
        ),
        (
            "polri",
            Method::GET,
            format!("{}/v1/agencies/polri/alerts", polri.url),
            None,
        ),
        (
            "polri",
            Method::GET,
            format!("{}/v1/agencies/polri/recruiters/unknown", polri.url),
            None,
        ),
        (
            "polri",
            Method::POST,
            format!("{}/v1/agencies/polri/alerts/{id}/escalate", polri.url),
            Some(json!({"escalated_to": "kejaksaan", "reason": "manual"})),
        ),
        (
            "kejaksaan",
            Method::GET,
            format!("{}/v1/agencies/kejaksaan/cases", kejaksaan.url),
            None,
        ),
        (
            "kejaksaan",
            Method::GET,
            format!("{}/v1/agencies/kejaksaan/alerts", kejaksaan.url),
            None,
        ),
        (
            "kejaksaan",
            Method::POST,
            format!("{}/v1/agencies/kejaksaan/alerts/{id}/close", kejaksaan.url),
            close(),
        ),
        (
            "desa",
            Method::GET,
            format!(
                "{}/v1/agencies/desa/villages/33.01.02.2001/notices",
                desa.url
            ),
            None,
        ),
        (
            "desa",
            Method::GET,
            format!(
                "{}/v1/agencies/desa/villages/33.01.02.2001/residents",
                desa.url
            ),
            None,
        ),
        (
            "desa",
            Method::GET,
            format!(
                "{}/v1/agencies/desa/villages/33.01.02.2001/recruiters",
                desa.url
            ),
            None,
        ),
    ];
    let tokens = [
        (
            "disnaker",
            idp.token("disnaker", "DISNAKER-CILACAP", json!({})),
        ),
        (
            "imigrasi",
            idp.token("imigrasi", "KANIM-CILACAP", json!({})),
        ),
        (
            "imigrasi",
            idp.token(
                "imigrasi",
                "TPI-CGK",
                json!({"lintas_checkpoint": "TPI-CGK"}),
            ),
        ),
        ("polri", idp.token("polri", "POLRESTA-CILACAP", json!({}))),
        (
            "kejaksaan",
            idp.token("kejaksaan", "KEJARI-CILACAP", json!({})),
        ),
        (
            "desa",
            idp.token(
                "desa",
                "DESA-KESUGIHAN",
                json!({"lintas_village": "33.01.02.2001"}),
            ),
        ),
    ];
    let borrowed: Vec<(&str, &str)> = tokens
        .iter()
        .map(|(agency, token)| (*agency, token.as_str()))
        .collect();
    let checked = client.assert_only_owners(&endpoints, &borrowed).await;
    assert_eq!(checked, endpoints.len() * tokens.len());
}

/// Each village officer's claim reads its own village only (by Kemendagri code, dotted or
/// not); a token without the claim reads none; the regency's office reads every one, the
/// residents not placed in a village too; a village named instead of coded is 422.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_village_officer_reads_its_own_village() {
    let idp = start_idp().await;
    let apis = apis_with_oidc(&idp, &["desa"]).await;
    let desa = &apis.services[0];
    let client = Client::new();
    let kesugihan = idp.token(
        "desa",
        "DESA-KESUGIHAN",
        json!({"lintas_village": "33.01.02.2001"}),
    );
    // Each village claim reads its own village only; the regency's office reads every one.
    // Villages by Kemendagri code: Maos Kidul 33.01.07.2001, Kesugihan 33.01.02.2001.
    let village = |code: &str| format!("{}/v1/agencies/desa/villages/{code}/notices", desa.url);
    let maos = idp.token(
        "desa",
        "DESA-MAOS",
        json!({"lintas_village": "33.01.07.2001"}),
    );
    let unscoped = idp.token("desa", "DESA-MAOS", json!({}));
    let regency = idp.token(
        "desa",
        "DPMD-CILACAP",
        json!({"lintas_roles": ["all_villages"]}),
    );
    for (token, name, expected) in [
        (&maos, "33.01.07.2001", 200),
        (&maos, "3301072001", 200),
        (&maos, "33.01.02.2001", 403),
        (&kesugihan, "33.01.07.2001", 403),
        (&unscoped, "33.01.07.2001", 403),
        (&regency, "33.01.07.2001", 200),
        (&regency, "33.01.02.2001", 200),
        (&regency, "unplaced", 200),
        (&maos, "unplaced", 403),
        (&regency, "Maos", 422),
    ] {
        let (status, body) = client
            .call(Method::GET, &village(name), Some(token), None)
            .await;
        assert_eq!(status, expected, "{name}: {body}");
    }
}
