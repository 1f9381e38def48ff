//! Settings shared by several subcommands: flags with environment-variable fallbacks.

use std::path::Path;

use lintas_kit::auth::Tokens;
use lintas_kit::events::{SubjectKeyRotations, SubjectKeyer};
use lintas_kit::oidc::OidcArgs;

/// Where the feed is: brokers, registry, topic prefix, librdkafka properties.
pub use lintas_kit::service::{kafka_properties, KafkaConfig as KafkaArgs};

/// Caller tokens: `token=agency:OFFICE,...` (at least 16 characters per token, or
/// `sha256:<hex>=…`).
pub fn tokens(spec: &str) -> anyhow::Result<Tokens> {
    Tokens::parse(spec).map_err(|e| anyhow::anyhow!("LINTAS_TOKENS: {e}"))
}

/// The static tokens of `spec` and, when an issuer is configured, OIDC sign-in; the
/// identity provider's keys are loaded once here (a failure is logged, and retried on the
/// first token).
pub async fn credentials(spec: &str, oidc: &OidcArgs) -> anyhow::Result<Tokens> {
    let oidc = oidc.verifier().map_err(|e| anyhow::anyhow!(e))?;
    if oidc.is_none() && spec.trim().is_empty() {
        anyhow::bail!("no credential would be accepted: set LINTAS_TOKENS or LINTAS_OIDC_ISSUER");
    }
    if let Some(oidc) = &oidc {
        oidc.load().await;
    }
    Ok(tokens(spec)?.with_oidc(oidc))
}

/// The subject keyer of the intakes: the root secret and the rotations made since.
pub fn keyer(secret: &str, rotations: SubjectKeyRotations) -> anyhow::Result<SubjectKeyer> {
    Ok(SubjectKeyer::with_rotations(secret.as_bytes(), rotations)?)
}

/// The embedded run's subject-key secret: kept in the data directory (never the
/// repository) so that subject keys stay stable across restarts.
pub fn local_secret(data_dir: &Path) -> anyhow::Result<String> {
    local_secret_file(data_dir, "subject-key.secret")
}

/// A secret generated once and kept in the data directory, readable by its owner only.
pub fn local_secret_file(data_dir: &Path, name: &str) -> anyhow::Result<String> {
    let path = data_dir.join(name);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        return Ok(existing.trim().to_string());
    }
    let secret = random_token(48);
    std::fs::write(&path, &secret)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(secret)
}

pub fn random_token(len: usize) -> String {
    use rand::distributions::{Alphanumeric, DistString};
    Alphanumeric.sample_string(&mut rand::thread_rng(), len)
}

pub async fn listen(addr: &str) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))
}
