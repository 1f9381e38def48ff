//! `lintas keys`: the data-encryption keys of personal data in the registry's DEK Registry.
//!
//! - `list`: every DEK version, with its age;
//! - `rotate`: a new DEK version for a subject now (after a suspected leak; writers pick it up
//!   within five minutes), by a holder of the KEK;
//! - `shred`: destroys every DEK version whose newest data is older than the retention
//!   period: the personal data it encrypted on the topics can never be decrypted again, while
//!   the rest of those events stays readable (docs/data-protection.md).

use clap::{Args, Subcommand};
use lintas_kit::codec::Codec;
use lintas_kit::encryption::Protection;
use lintas_kit::registry::RegistryClient;
use lintas_kit::service::ProtectionConfig;

/// Personal data on the feed is kept this long by default (days).
pub const DEFAULT_RETENTION_DAYS: u32 = 180;

/// Arguments (clap ids) every `keys` action needs that clap cannot require (an argument
/// given before or after the action is global, and a global argument cannot be required):
/// [`run`] refuses to start without them, and `lintas describe` reports them as required.
pub const REQUIRED_AT_RUN_TIME: &[&str] = &["schema_registry_url"];

#[derive(Args, Debug)]
pub struct KeysArgs {
    /// Base URL of the schema registry (and its DEK Registry).
    #[arg(long, env = "LINTAS_SCHEMA_REGISTRY_URL", global = true)]
    pub schema_registry_url: Option<String>,
    /// Registry credential: read for `list`, write for `rotate`, admin for `shred`.
    #[command(flatten)]
    pub registry_auth: lintas_kit::registry::RegistryAuth,
    #[command(subcommand)]
    pub action: KeysAction,
}

#[derive(Subcommand, Debug)]
pub enum KeysAction {
    /// List every data-encryption key version (KEK, subject, version, age).
    List,
    /// Create a new data-encryption key version for a subject now (needs its KEK).
    Rotate {
        /// KEK of the subject's personal data (lintas-imigrasi, lintas-polri).
        #[arg(long)]
        kek: String,
        /// Registry subject, for example lintas.applicants.v1-lintas.events.ApplicantRegistered.
        #[arg(long)]
        subject: String,
        #[command(flatten)]
        protection: ProtectionConfig,
    },
    /// Destroy the key versions whose newest data is older than the retention period.
    Shred {
        /// Days personal data stays decryptable on the feed.
        #[arg(long, env = "LINTAS_PERSONAL_DATA_RETENTION_DAYS", default_value_t = DEFAULT_RETENTION_DAYS)]
        retention_days: u32,
        /// Print what would be destroyed, destroy nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

pub async fn run(args: KeysArgs) -> anyhow::Result<()> {
    let url = args.schema_registry_url.ok_or_else(|| {
        anyhow::anyhow!("--schema-registry-url (or LINTAS_SCHEMA_REGISTRY_URL) is required")
    })?;
    let user_info = args.registry_auth.user_info()?;
    let codec = |protection: &ProtectionConfig| -> anyhow::Result<Codec> {
        Ok(Codec::new(
            RegistryClient::new(&url).with_user_info(user_info.as_ref()),
            "",
        )
        .with_protection(protection.settings()?))
    };
    let now = lintas_kit::events::timefmt::millis::to_millis(&time::OffsetDateTime::now_utc());
    match args.action {
        KeysAction::List => {
            for dek in codec(&ProtectionConfig::default())?
                .protection()
                .inventory()
                .await?
            {
                let age_days = (now - dek.created_ms) / 86_400_000;
                println!(
                    "{}",
                    serde_json::json!({ "dek": dek, "age_days": age_days })
                );
            }
        }
        KeysAction::Rotate {
            kek,
            subject,
            protection,
        } => {
            let version = codec(&protection)?
                .protection()
                .rotate(&kek, &subject)
                .await?;
            println!(
                "{}",
                serde_json::json!({ "kek": kek, "subject": subject, "version": version })
            );
        }
        KeysAction::Shred {
            retention_days,
            dry_run,
        } => {
            let codec = codec(&ProtectionConfig::default())?;
            let all = codec.protection().inventory().await?;
            let retention_ms = i64::from(retention_days) * 86_400_000;
            for dek in Protection::expired(&all, retention_ms, now) {
                if !dry_run {
                    codec.protection().destroy(&dek).await?;
                }
                println!(
                    "{}",
                    serde_json::json!({ "destroyed": !dry_run, "dek": dek })
                );
                tracing::warn!(kek = %dek.kek, subject = %dek.subject, version = dek.version, dry_run, "data-encryption key destroyed: what it encrypted is erased");
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::FromArgMatches;

    /// What `lintas describe` reports as required at run time is what `run` refuses to start
    /// without, named by its variable.
    #[tokio::test]
    async fn every_action_refuses_to_run_without_what_it_requires_at_run_time() {
        let command = KeysArgs::augment_args(clap::Command::new("keys"));
        for id in REQUIRED_AT_RUN_TIME {
            let arg = command
                .get_arguments()
                .find(|a| a.get_id() == *id)
                .unwrap_or_else(|| panic!("no argument {id}"));
            let var = arg.get_env().expect("an environment variable");
            let matches = command
                .clone()
                .try_get_matches_from(["keys", "list"])
                .unwrap();
            let args = KeysArgs::from_arg_matches(&matches).unwrap();
            if args.schema_registry_url.is_some() {
                return; // set in this test's environment: nothing to refuse
            }
            let error = run(args).await.unwrap_err().to_string();
            assert!(error.contains(var.to_str().unwrap()), "{error}");
        }
    }
}
