use clap::{Args, ValueEnum};
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

/// Our subscribers run exactly as an integrator's would: through the kit's service runner.
pub async fn run(args: SubscriberArgs) -> anyhow::Result<()> {
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
            run_subscriber_with_api(&args.config, subscriber, |views| lintas_desa::router(views))
                .await
        }
    }
}
