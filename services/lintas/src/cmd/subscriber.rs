use clap::{Args, ValueEnum};
use lintas_kit::events::Agency;
use lintas_kit::service::{run_subscriber_with_api, Subscriber, SubscriberConfig};

#[derive(Args, Debug)]
pub struct SubscriberArgs {
    /// Which agency's subscriber.
    pub agency: SubscriberKind,
    #[command(flatten)]
    pub config: SubscriberConfig,
    #[command(flatten)]
    pub rules: super::rules::RuleArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SubscriberKind {
    Imigrasi,
    Disnaker,
    Polri,
    Kejaksaan,
    Desa,
}

/// A subscriber refuses to start with a key it is not entitled to: holding it would let a
/// compromised village or Disnaker subscriber read immigration identities.
fn refuse_foreign_keys(args: &SubscriberArgs) -> anyhow::Result<()> {
    let entitled = match args.agency {
        SubscriberKind::Imigrasi => lintas_imigrasi::KEKS,
        SubscriberKind::Disnaker => lintas_disnaker::KEKS,
        SubscriberKind::Polri => lintas_polri::KEKS,
        SubscriberKind::Kejaksaan => lintas_kejaksaan::KEKS,
        SubscriberKind::Desa => lintas_desa::KEKS,
    };
    let held = args.config.kafka.protection.settings()?.keyring.names();
    let foreign: Vec<&String> = held
        .iter()
        .filter(|k| !entitled.contains(&k.as_str()))
        .collect();
    if !foreign.is_empty() {
        anyhow::bail!(
            "LINTAS_KEK_SECRETS holds {foreign:?}, which the {:?} subscriber is not entitled to (it may hold {entitled:?}); remove them",
            args.agency
        );
    }
    Ok(())
}

/// Our subscribers run exactly as an integrator's would: through the kit's service runner.
pub async fn run(mut args: SubscriberArgs) -> anyhow::Result<()> {
    refuse_foreign_keys(&args)?;
    // Each agency's query API and alert desk accept that agency's credentials only.
    args.config.serves = vec![match args.agency {
        SubscriberKind::Imigrasi => Agency::Imigrasi,
        SubscriberKind::Disnaker => Agency::Disnaker,
        SubscriberKind::Polri => Agency::Polri,
        SubscriberKind::Kejaksaan => Agency::Kejaksaan,
        SubscriberKind::Desa => Agency::Desa,
    }];
    match args.agency {
        SubscriberKind::Imigrasi => {
            let subscriber = Subscriber {
                group: lintas_imigrasi::GROUP,
                topics: lintas_imigrasi::TOPICS,
                migrations: lintas_imigrasi::migrations(),
                handler: args.rules.imigrasi(),
            };
            run_subscriber_with_api(&args.config, subscriber, |views| {
                lintas_imigrasi::router(views)
            })
            .await
        }
        SubscriberKind::Disnaker => {
            // A manpower office serves one regency; on a national feed, a missing setting
            // would give it every regency's residents and tasks.
            if args.rules.disnaker_regency.is_none() {
                anyhow::bail!(
                    "the disnaker subscriber needs the regency it serves: set LINTAS_DISNAKER_REGENCY \
                     (--disnaker-regency) to its Kemendagri code, for example 33.01 for Kabupaten Cilacap"
                );
            }
            let subscriber = Subscriber {
                group: lintas_disnaker::GROUP,
                topics: lintas_disnaker::TOPICS,
                migrations: lintas_disnaker::migrations(),
                handler: args.rules.disnaker(),
            };
            run_subscriber_with_api(&args.config, subscriber, |views| {
                lintas_disnaker::router(views)
            })
            .await
        }
        SubscriberKind::Polri => {
            let subscriber = Subscriber {
                group: lintas_polri::GROUP,
                topics: lintas_polri::TOPICS,
                migrations: lintas_polri::migrations(),
                handler: args.rules.polri(),
            };
            run_subscriber_with_api(&args.config, subscriber, |views| {
                lintas_polri::router(views)
            })
            .await
        }
        SubscriberKind::Kejaksaan => {
            let subscriber = Subscriber {
                group: lintas_kejaksaan::GROUP,
                topics: lintas_kejaksaan::TOPICS,
                migrations: lintas_kejaksaan::migrations(),
                handler: args.rules.kejaksaan(),
            };
            run_subscriber_with_api(&args.config, subscriber, lintas_kejaksaan::router).await
        }
        SubscriberKind::Desa => {
            let subscriber = Subscriber {
                group: lintas_desa::GROUP,
                topics: lintas_desa::TOPICS,
                migrations: lintas_desa::migrations(),
                handler: args.rules.desa(),
            };
            run_subscriber_with_api(&args.config, subscriber, lintas_desa::router).await
        }
    }
}
