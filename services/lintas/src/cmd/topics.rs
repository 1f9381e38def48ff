use clap::{Args, Subcommand};

#[derive(Args, Debug)]
pub struct TopicsArgs {
    #[command(subcommand)]
    pub action: TopicsAction,
}

#[derive(Subcommand, Debug)]
pub enum TopicsAction {
    /// Create the event topics and our subscribers' dead-letter and redrive topics (existing
    /// ones are left alone).
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
        /// The principal creating the topics (compose's `lintas-topics`: Create on them).
        #[command(flatten)]
        kafka_auth: lintas_kit::kafka_auth::KafkaAuth,
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
            kafka_auth,
        } => {
            // The dead-letter and redrive topics too: where principals have ACLs, a
            // subscriber may not create its own (LINTAS_CREATE_DEAD_LETTER_TOPIC=false).
            let mut names = lintas_kit::topics::event_topics(&topic_prefix);
            for group in super::ops::SUBSCRIBER_GROUPS {
                names.push(lintas_kit::topics::dead_letter_topic(&topic_prefix, group));
                names.push(lintas_kit::topics::redrive_topic(&topic_prefix, group));
            }
            kafka_auth.log(&brokers);
            lintas_kit::topics::ensure_topics(
                &brokers,
                &names,
                partitions,
                replication,
                &lintas_kit::kafka_auth::client_properties(
                    &kafka_auth,
                    crate::settings::kafka_properties(&kafka_properties)?,
                )?,
            )
            .await?;
            for n in names {
                println!("{n}");
            }
            Ok(())
        }
    }
}
