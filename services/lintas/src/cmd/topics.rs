use clap::{Args, Subcommand};

#[derive(Args, Debug)]
pub struct TopicsArgs {
    #[command(subcommand)]
    pub action: TopicsAction,
}

#[derive(Subcommand, Debug)]
pub enum TopicsAction {
    /// Create the event topics (existing ones are left alone).
    Create {
        #[arg(long, env = "LINTAS_BROKERS")]
        brokers: String,
        #[arg(long, env = "LINTAS_TOPIC_PREFIX", default_value = "")]
        topic_prefix: String,
        #[arg(long, default_value_t = lintas_kit::topics::DEFAULT_PARTITIONS)]
        partitions: i32,
        #[arg(long, default_value_t = 1)]
        replication: i32,
        /// Extra librdkafka properties `key=value` (TLS, SASL).
        #[arg(
            long = "kafka-property",
            env = "LINTAS_KAFKA_PROPERTIES",
            value_delimiter = ','
        )]
        kafka_properties: Vec<String>,
    },
}

pub async fn run(args: TopicsArgs) -> anyhow::Result<()> {
    match args.action {
        TopicsAction::Create {
            brokers,
            topic_prefix,
            partitions,
            replication,
            kafka_properties,
        } => {
            let names = lintas_kit::topics::event_topics(&topic_prefix);
            lintas_kit::topics::ensure_topics(
                &brokers,
                &names,
                partitions,
                replication,
                &crate::settings::kafka_properties(&kafka_properties)?,
            )
            .await?;
            for n in names {
                println!("{n}");
            }
            Ok(())
        }
    }
}
