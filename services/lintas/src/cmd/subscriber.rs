use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::Args;
use lintas_kit::events::AvroEnum;
use lintas_kit::service::SubscriberConfig;

use super::agencies::{Wired, AGENCIES};

#[derive(Args, Debug)]
pub struct SubscriberArgs {
    /// Which agency's subscriber.
    #[arg(value_parser = agency_parser(AGENCIES))]
    pub agency: SubscriberKind,
    #[command(flatten)]
    pub config: SubscriberConfig,
    #[command(flatten)]
    pub rules: super::rules::RuleArgs,
}

/// An agency of the list, named on the command line as its `Agency` symbol (`imigrasi`).
#[derive(Clone, Copy)]
pub struct SubscriberKind(pub Wired);

impl std::fmt::Debug for SubscriberKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.0.agency(), f)
    }
}

/// The agencies of `agencies` by name; clap lists them as the possible values.
pub fn agency_parser(agencies: &'static [Wired]) -> impl TypedValueParser<Value = SubscriberKind> {
    PossibleValuesParser::new(agencies.iter().map(|a| a.agency().symbol())).map(move |name| {
        let agency = agencies
            .iter()
            .find(|a| a.agency().symbol() == name)
            .expect("clap accepts the possible values only");
        SubscriberKind(*agency)
    })
}

/// A subscriber refuses to start with a key it is not entitled to: holding it would let a
/// compromised village or Disnaker subscriber read immigration identities.
fn refuse_foreign_keys(args: &SubscriberArgs) -> anyhow::Result<()> {
    let entitled = args.agency.0.keks();
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
    let agency = args.agency.0;
    // Each agency's query API and alert desk accept that agency's credentials only.
    args.config.serves = vec![agency.agency()];
    // Settings the agency cannot serve without are refused here, before it connects.
    agency.run_service(&args.config, &args.rules)?.await
}
