//! How a service authenticates to Kafka: its own principal, as Strimzi issues them (a SCRAM
//! user's `password`, or a TLS user's `user.crt` and `user.key`), over TLS with the cluster's
//! CA. Every Kafka client of a service (producer, consumer, admin, the monitor's) gets the
//! same librdkafka properties from here. The password is read from a file, so that it is in
//! neither the process list nor the environment, and never printed.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use crate::secret::Secret;

/// librdkafka's `security.protocol`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum SecurityProtocol {
    /// No TLS, no authentication: the embedded broker and tests only.
    #[default]
    Plaintext,
    /// TLS; with a certificate and key, mutual TLS (a Strimzi `tls` user).
    Ssl,
    /// SASL without TLS: the password crosses the network in the clear with PLAIN.
    SaslPlaintext,
    /// SASL over TLS (a Strimzi `scram-sha-512` user on a TLS listener).
    SaslSsl,
}

impl SecurityProtocol {
    fn name(self) -> &'static str {
        match self {
            SecurityProtocol::Plaintext => "plaintext",
            SecurityProtocol::Ssl => "ssl",
            SecurityProtocol::SaslPlaintext => "sasl_plaintext",
            SecurityProtocol::SaslSsl => "sasl_ssl",
        }
    }

    fn sasl(self) -> bool {
        matches!(
            self,
            SecurityProtocol::SaslPlaintext | SecurityProtocol::SaslSsl
        )
    }

    fn tls(self) -> bool {
        matches!(self, SecurityProtocol::Ssl | SecurityProtocol::SaslSsl)
    }
}

/// librdkafka's `sasl.mechanism` (the ones a Kafka principal of ours can use).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum SaslMechanism {
    #[default]
    #[value(name = "SCRAM-SHA-512")]
    ScramSha512,
    #[value(name = "SCRAM-SHA-256")]
    ScramSha256,
    #[value(name = "PLAIN")]
    Plain,
}

impl SaslMechanism {
    fn name(self) -> &'static str {
        match self {
            SaslMechanism::ScramSha512 => "SCRAM-SHA-512",
            SaslMechanism::ScramSha256 => "SCRAM-SHA-256",
            SaslMechanism::Plain => "PLAIN",
        }
    }
}

/// The service's Kafka principal and how it proves it.
#[derive(Args, Clone, Debug, Default)]
pub struct KafkaAuth {
    /// plaintext, ssl (mutual TLS with --kafka-certificate-file), sasl_plaintext or sasl_ssl.
    #[arg(
        long = "kafka-security-protocol",
        env = "LINTAS_KAFKA_SECURITY_PROTOCOL",
        value_enum,
        default_value = "plaintext"
    )]
    pub security_protocol: SecurityProtocol,
    /// SASL mechanism: SCRAM-SHA-512 (Strimzi's scram-sha-512 users), SCRAM-SHA-256, PLAIN.
    #[arg(
        long = "kafka-sasl-mechanism",
        env = "LINTAS_KAFKA_SASL_MECHANISM",
        value_enum,
        default_value = "SCRAM-SHA-512"
    )]
    pub sasl_mechanism: SaslMechanism,
    /// SASL user name: the service's own principal (its KafkaUser's name).
    #[arg(long = "kafka-username", env = "LINTAS_KAFKA_USERNAME")]
    pub username: Option<String>,
    /// File holding the SASL password (a Strimzi user Secret's `password` key, mounted).
    #[arg(long = "kafka-password-file", env = "LINTAS_KAFKA_PASSWORD_FILE")]
    pub password_file: Option<PathBuf>,
    /// PEM file of the CA that signed the brokers' certificates (Strimzi's cluster CA
    /// `ca.crt`); the system's roots when absent.
    #[arg(long = "kafka-ca-file", env = "LINTAS_KAFKA_CA_FILE")]
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate for mutual TLS (a Strimzi tls user's `user.crt`).
    #[arg(long = "kafka-certificate-file", env = "LINTAS_KAFKA_CERTIFICATE_FILE")]
    pub certificate_file: Option<PathBuf>,
    /// PEM private key of that certificate (`user.key`), unencrypted, readable by the service
    /// only.
    #[arg(long = "kafka-key-file", env = "LINTAS_KAFKA_KEY_FILE")]
    pub key_file: Option<PathBuf>,
}

/// librdkafka properties that hold a secret: never taken from `--kafka-property` (it would sit
/// in the process list or the environment) and never printed.
const SECRET_PROPERTIES: &[&str] = &[
    "sasl.password",
    "ssl.key.password",
    "ssl.keystore.password",
    "ssl.key.pem",
    "sasl.oauthbearer.client.secret",
];

impl KafkaAuth {
    /// The librdkafka properties of this principal. Fails, naming the setting, on a
    /// combination that would silently connect some other way than configured.
    pub fn properties(&self) -> anyhow::Result<Vec<(String, String)>> {
        let protocol = self.security_protocol;
        // Plaintext is librdkafka's default: saying nothing leaves `--kafka-property
        // security.protocol=…` (the older way) working.
        let mut out = Vec::new();
        if protocol != SecurityProtocol::Plaintext {
            out.push(("security.protocol".to_string(), protocol.name().to_string()));
        }
        if protocol.sasl() {
            let username = self.username.as_deref().unwrap_or("").trim();
            if username.is_empty() {
                anyhow::bail!(
                    "LINTAS_KAFKA_SECURITY_PROTOCOL {}: set LINTAS_KAFKA_USERNAME (--kafka-username)",
                    protocol.name()
                );
            }
            let Some(file) = &self.password_file else {
                anyhow::bail!(
                    "LINTAS_KAFKA_SECURITY_PROTOCOL {}: set LINTAS_KAFKA_PASSWORD_FILE (--kafka-password-file)",
                    protocol.name()
                );
            };
            let password = read_password(file)?;
            out.push(("sasl.mechanism".into(), self.sasl_mechanism.name().into()));
            out.push(("sasl.username".into(), username.into()));
            out.push(("sasl.password".into(), password.expose().into()));
        } else if self.username.is_some() || self.password_file.is_some() {
            anyhow::bail!(
                "LINTAS_KAFKA_USERNAME / LINTAS_KAFKA_PASSWORD_FILE need LINTAS_KAFKA_SECURITY_PROTOCOL sasl_ssl (or sasl_plaintext); it is {}",
                protocol.name()
            );
        }
        let tls_files = [&self.ca_file, &self.certificate_file, &self.key_file];
        if !protocol.tls() && tls_files.iter().any(|f| f.is_some()) {
            anyhow::bail!(
                "LINTAS_KAFKA_CA_FILE / _CERTIFICATE_FILE / _KEY_FILE need LINTAS_KAFKA_SECURITY_PROTOCOL ssl or sasl_ssl; it is {}",
                protocol.name()
            );
        }
        match (&self.certificate_file, &self.key_file) {
            (Some(cert), Some(key)) => {
                out.push(("ssl.certificate.location".into(), existing(cert)?));
                out.push(("ssl.key.location".into(), existing(key)?));
            }
            (None, None) => {}
            _ => anyhow::bail!(
                "mutual TLS needs both LINTAS_KAFKA_CERTIFICATE_FILE and LINTAS_KAFKA_KEY_FILE"
            ),
        }
        if let Some(ca) = &self.ca_file {
            out.push(("ssl.ca.location".into(), existing(ca)?));
        }
        Ok(out)
    }

    /// Logs how this service connects: principal, protocol, mechanism and file paths, never
    /// the password.
    pub fn log(&self, brokers: &str) {
        tracing::info!(
            brokers,
            security_protocol = self.security_protocol.name(),
            sasl_mechanism = self
                .security_protocol
                .sasl()
                .then(|| self.sasl_mechanism.name()),
            principal = self.username.as_deref(),
            ca_file = self.ca_file.as_ref().map(|p| p.display().to_string()),
            certificate_file = self
                .certificate_file
                .as_ref()
                .map(|p| p.display().to_string()),
            "Kafka client"
        );
    }
}

/// The client properties of a service: its principal's, then the extra `key=value` ones
/// (`--kafka-property`), which may neither hold a secret nor say again what the principal's
/// settings say.
pub fn client_properties(
    auth: &KafkaAuth,
    extra: Vec<(String, String)>,
) -> anyhow::Result<Vec<(String, String)>> {
    let mut out = auth.properties()?;
    for (key, value) in extra {
        refuse_secret_property(&key)?;
        if out.iter().any(|(k, _)| *k == key) {
            anyhow::bail!(
                "Kafka property `{key}` is already set by the LINTAS_KAFKA_* settings: remove it from LINTAS_KAFKA_PROPERTIES"
            );
        }
        out.push((key, value));
    }
    Ok(out)
}

/// Refuses a secret passed as `--kafka-property` / `LINTAS_KAFKA_PROPERTIES`.
pub fn refuse_secret_property(key: &str) -> anyhow::Result<()> {
    if SECRET_PROPERTIES.contains(&key) {
        anyhow::bail!(
            "Kafka property `{key}` holds a secret: give the password as a file (LINTAS_KAFKA_PASSWORD_FILE) or the key as an unencrypted PEM file (LINTAS_KAFKA_KEY_FILE), never on the command line or in LINTAS_KAFKA_PROPERTIES"
        );
    }
    Ok(())
}

/// Client properties for `Debug` output: each secret's value replaced.
pub fn redacted(properties: &[(String, String)]) -> Vec<(&str, &str)> {
    properties
        .iter()
        .map(|(k, v)| {
            let value = if SECRET_PROPERTIES.contains(&k.as_str()) {
                "<redacted>"
            } else {
                v.as_str()
            };
            (k.as_str(), value)
        })
        .collect()
}

fn read_password(file: &Path) -> anyhow::Result<Secret> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        anyhow::anyhow!(
            "LINTAS_KAFKA_PASSWORD_FILE {}: cannot read it: {e}",
            file.display()
        )
    })?;
    // A mounted Secret or a file written by `echo` may end with a newline; nothing else is
    // trimmed.
    let password = text.trim_end_matches(['\n', '\r']);
    if password.is_empty() {
        anyhow::bail!("LINTAS_KAFKA_PASSWORD_FILE {} is empty", file.display());
    }
    Ok(Secret::new(password))
}

fn existing(path: &Path) -> anyhow::Result<String> {
    if !path.is_file() {
        anyhow::bail!("Kafka TLS file {} does not exist", path.display());
    }
    Ok(path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scram(password_file: PathBuf) -> KafkaAuth {
        KafkaAuth {
            security_protocol: SecurityProtocol::SaslSsl,
            username: Some("lintas-ops".into()),
            password_file: Some(password_file),
            ..KafkaAuth::default()
        }
    }

    #[test]
    fn scram_over_tls_from_a_password_file() {
        let dir = std::env::temp_dir().join(format!("kafka-auth-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("password");
        std::fs::write(&file, "s3cret-from-file\n").unwrap();
        let properties = scram(file.clone()).properties().unwrap();
        let get = |k: &str| {
            properties
                .iter()
                .find(|(p, _)| p == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("security.protocol"), Some("sasl_ssl"));
        assert_eq!(get("sasl.mechanism"), Some("SCRAM-SHA-512"));
        assert_eq!(get("sasl.username"), Some("lintas-ops"));
        assert_eq!(get("sasl.password"), Some("s3cret-from-file"));
        let shown = format!("{:?}", redacted(&properties));
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
        let config = format!("{:?}", scram(file));
        assert!(!config.contains("s3cret"), "{config}");
    }

    #[test]
    fn refuses_what_would_connect_otherwise_than_configured() {
        let missing = scram("/nonexistent/password".into()).properties();
        assert!(missing.unwrap_err().to_string().contains("cannot read"));
        let no_file = KafkaAuth {
            password_file: None,
            ..scram("/x".into())
        };
        assert!(no_file
            .properties()
            .unwrap_err()
            .to_string()
            .contains("LINTAS_KAFKA_PASSWORD_FILE"));
        let plaintext_user = KafkaAuth {
            security_protocol: SecurityProtocol::Plaintext,
            ..scram("/x".into())
        };
        assert!(plaintext_user.properties().is_err());
        let half_mtls = KafkaAuth {
            security_protocol: SecurityProtocol::Ssl,
            certificate_file: Some("/x".into()),
            ..KafkaAuth::default()
        };
        assert!(half_mtls.properties().is_err());
        assert!(KafkaAuth::default().properties().unwrap().is_empty());
        assert!(refuse_secret_property("sasl.password").is_err());
        assert!(refuse_secret_property("linger.ms").is_ok());
    }
}
