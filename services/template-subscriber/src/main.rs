//! Runs the subscriber on the feed. Flags or environment: --brokers (LINTAS_BROKERS),
//! --schema-registry-url (LINTAS_SCHEMA_REGISTRY_URL), --registry-user-info-file
//! (LINTAS_REGISTRY_USER_INFO_FILE, or LINTAS_REGISTRY_USER_INFO: the read credential), --database-url (LINTAS_DATABASE_URL,
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
