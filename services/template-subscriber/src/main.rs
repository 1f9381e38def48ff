//! Runs the subscriber on the feed. Flags or environment: --brokers (LINTAS_BROKERS),
//! --schema-registry-url (LINTAS_SCHEMA_REGISTRY_URL), --database-url (LINTAS_DATABASE_URL,
//! postgres://… or sqlite://…), --listen (LINTAS_LISTEN: /livez, /readyz, /metrics); see --help.

use lintas_kit::service::{run_subscriber, Subscriber, SubscriberConfig};
use lintas_template_subscriber::{migrations, TemplateHandler, GROUP, TOPICS};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = SubscriberConfig::from_args();
    let subscriber = Subscriber {
        group: GROUP,
        topics: TOPICS,
        migrations: migrations(),
        handler: TemplateHandler,
    };
    run_subscriber(&config, subscriber).await
}
