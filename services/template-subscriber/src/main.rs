//! Runs the subscriber on the feed, with its query route. Flags or environment: --brokers
//! (LINTAS_BROKERS), --schema-registry-url (LINTAS_SCHEMA_REGISTRY_URL),
//! --registry-user-info-file (LINTAS_REGISTRY_USER_INFO_FILE, or LINTAS_REGISTRY_USER_INFO:
//! the read credential), --database-url (LINTAS_DATABASE_URL, postgres://… or sqlite://file.db),
//! --listen (LINTAS_LISTEN: the route, /livez, /readyz, /metrics), --tokens (LINTAS_TOKENS:
//! who may call the route); see --help.

use lintas_kit::service::{run_subscriber_with_api, Subscriber, SubscriberConfig};
use lintas_template_subscriber::{migrations, router, TemplateHandler, GROUP, TOPICS};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = SubscriberConfig::from_args();
    let subscriber = Subscriber {
        group: GROUP,
        topics: TOPICS,
        migrations: migrations(),
        handler: TemplateHandler,
    };
    run_subscriber_with_api(&config, subscriber, router).await
}
