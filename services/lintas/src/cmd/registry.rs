use std::io::Read;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use lintas_kit::http::serve;
use lintas_kit::secret::Secret;
use lintas_kit::shutdown::Shutdown;
use lintas_kit::store::Store;
use lintas_kit::telemetry::Health;
use lintas_registry::{Role, Users};

use crate::settings::{listen, random_token};

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct RegistryArgs {
    #[command(subcommand)]
    pub command: Option<RegistryCommand>,
    /// Database of the registry (its own schema `registry` is used); required to serve.
    #[arg(long, env = "LINTAS_DATABASE_URL")]
    pub database_url: Option<String>,
    #[arg(long, env = "LINTAS_LISTEN", default_value = "127.0.0.1:8081")]
    pub listen: String,
    /// Timeouts, limits and TLS of the HTTP server.
    #[command(flatten)]
    pub http: lintas_kit::http::HttpSettings,
    /// File of the registry's users, one `user:role:hash` a line: role read, write or admin,
    /// hash an argon2id PHC string (`lintas registry hash-password`).
    #[arg(long, env = "LINTAS_REGISTRY_USERS_FILE", conflicts_with = "users")]
    pub users_file: Option<PathBuf>,
    /// The users file's entries themselves, separated by newlines or spaces.
    #[arg(long, env = "LINTAS_REGISTRY_USERS", hide_env_values = true)]
    pub users: Option<Secret>,
}

#[derive(Subcommand, Debug)]
pub enum RegistryCommand {
    /// Read a password from standard input and print its argon2id PHC string, for a users
    /// file entry `user:role:<hash>`.
    HashPassword,
}

pub async fn run(args: RegistryArgs) -> anyhow::Result<()> {
    if let Some(RegistryCommand::HashPassword) = args.command {
        return hash_password();
    }
    let users = users(&args)?;
    tracing::info!(?users, "registry users");
    let shutdown = Shutdown::new();
    let mut tasks = lintas_kit::tasks::Tasks::new(shutdown.clone());
    let signals = shutdown.clone();
    tasks.spawn("signals", async move {
        signals.on_signals().await;
        Ok(())
    });
    let database_url = args
        .database_url
        .as_deref()
        .ok_or_else(|| anyhow::anyhow!("--database-url (or LINTAS_DATABASE_URL) is required"))?;
    let router = registry_router(database_url, "registry", users).await?;
    let health = Health::new();
    let listener = listen(&args.listen).await?;
    tracing::info!(url = %format!("{}://{}", args.http.scheme(), listener.local_addr()?), "schema registry listening");
    let routes = super::with_ops(router, health);
    let http = args.http.clone();
    tasks.spawn("http-server", async move {
        serve(listener, routes, &http, shutdown).await
    });
    tasks.join().await
}

fn users(args: &RegistryArgs) -> anyhow::Result<Users> {
    let text = match (&args.users_file, &args.users) {
        (Some(file), _) => std::fs::read_to_string(file)
            .map_err(|e| anyhow::anyhow!("LINTAS_REGISTRY_USERS_FILE {}: {e}", file.display()))?,
        (None, Some(users)) => users.expose().to_string(),
        (None, None) => String::new(),
    };
    let users = Users::parse(&text).map_err(|e| anyhow::anyhow!("registry users: {e}"))?;
    if users.is_empty() {
        anyhow::bail!(
            "the registry has no users and would refuse every request: give LINTAS_REGISTRY_USERS_FILE \
             (lines user:role:hash, hashes from `lintas registry hash-password`)"
        );
    }
    Ok(users)
}

fn hash_password() -> anyhow::Result<()> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input)?;
    let password = input.lines().next().unwrap_or_default();
    if password.is_empty() {
        anyhow::bail!("no password on standard input");
    }
    println!("{}", lintas_registry::hash_password(password));
    Ok(())
}

/// The registry's routes on its own schema (PostgreSQL) or file (SQLite), for `users`.
pub async fn registry_router(
    database_url: &str,
    schema: &str,
    users: Users,
) -> anyhow::Result<axum::Router> {
    let store = Store::connect(database_url, schema).await?;
    let registry = lintas_registry::Registry::new(store.pool().clone())
        .await?
        .with_users(users);
    Ok(registry.router())
}

/// Credentials an embedded run generates for its own registry: `user:password` per role.
pub struct Generated {
    pub read: Secret,
    pub write: Secret,
    pub admin: Secret,
}

impl Generated {
    /// Random passwords for users `lintas-read`, `lintas-write` and `lintas-admin`, and the
    /// registry users that accept them.
    pub fn generate() -> (Generated, Users) {
        let mut entries = Vec::new();
        let mut info = |role: Role| {
            let user = format!("lintas-{role}");
            let password = random_token(32);
            entries.push(format!(
                "{user}:{role}:{}",
                lintas_registry::hash_password(&password)
            ));
            Secret::new(format!("{user}:{password}"))
        };
        let generated = Generated {
            read: info(Role::Read),
            write: info(Role::Write),
            admin: info(Role::Admin),
        };
        let users = Users::parse(&entries.join("\n")).expect("generated entries parse");
        (generated, users)
    }
}
