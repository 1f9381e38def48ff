//! `lintas new subscriber NAME`: a new subscriber crate from the template in
//! `services/template-subscriber`, which the workspace compiles and tests, so what this writes
//! is known to build.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

#[derive(Args, Debug)]
pub struct NewArgs {
    #[command(subcommand)]
    pub what: NewWhat,
}

#[derive(Subcommand, Debug)]
pub enum NewWhat {
    /// A subscriber crate: handler, migration, in-memory test, main, README.
    Subscriber {
        /// Name: lowercase letters, digits and _, starting with a letter (also the consumer
        /// group and the database schema).
        name: String,
        /// Folder to create the crate in (it gets a sub-folder NAME).
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// Path to the Lintas kit crate (services/kit of a Lintas checkout).
        #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../kit"))]
        kit_path: PathBuf,
    },
}

const TEMPLATE: &[(&str, &str)] = &[
    (
        "src/lib.rs",
        include_str!("../../../template-subscriber/src/lib.rs"),
    ),
    (
        "src/main.rs",
        include_str!("../../../template-subscriber/src/main.rs"),
    ),
    (
        "tests/handler.rs",
        include_str!("../../../template-subscriber/tests/handler.rs"),
    ),
    (
        "README.md",
        include_str!("../../../template-subscriber/README.md"),
    ),
    (
        "migrations/postgres/20261127000000_init.sql",
        include_str!("../../../template-subscriber/migrations/postgres/20261127000000_init.sql"),
    ),
    (
        "migrations/sqlite/20261127000000_init.sql",
        include_str!("../../../template-subscriber/migrations/sqlite/20261127000000_init.sql"),
    ),
];

pub async fn run(args: NewArgs) -> anyhow::Result<()> {
    let NewWhat::Subscriber {
        name,
        dir,
        kit_path,
    } = args.what;
    let root = scaffold(&name, &dir, &kit_path)?;
    println!("created {}", root.display());
    println!("next: cd {} && cargo test", root.display());
    Ok(())
}

/// Writes the crate and returns its folder.
pub fn scaffold(name: &str, dir: &Path, kit_path: &Path) -> anyhow::Result<PathBuf> {
    let valid = name.len() <= 40
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    anyhow::ensure!(
        valid,
        "`{name}`: use lowercase letters, digits and _, starting with a letter (at most 40)"
    );
    let kit = std::fs::canonicalize(kit_path).map_err(|e| {
        anyhow::anyhow!(
            "kit not found at {}: {e}; pass --kit-path",
            kit_path.display()
        )
    })?;
    let root = dir.join(name);
    anyhow::ensure!(!root.exists(), "{} exists already", root.display());
    let camel: String = name
        .split('_')
        .filter(|p| !p.is_empty())
        .map(|p| p[..1].to_uppercase() + &p[1..])
        .collect();
    let rename = |text: &str| {
        text.replace("lintas_template_subscriber", name)
            .replace("template_subscriber", name)
            .replace("TemplateHandler", &format!("{camel}Handler"))
    };
    for (path, text) in TEMPLATE {
        let target = root.join(path);
        std::fs::create_dir_all(target.parent().expect("template files are in folders"))?;
        std::fs::write(&target, rename(text))?;
    }
    std::fs::write(root.join("Cargo.toml"), manifest(name, &kit))?;
    std::fs::write(
        root.join(".gitignore"),
        "/target\n*.db\n*.db-shm\n*.db-wal\n",
    )?;
    Ok(root)
}

/// A standalone manifest: its own workspace, the kit by path, the kit's versions of sqlx and
/// tokio, and Lintas's build profile (so a shared build cache is reused).
fn manifest(name: &str, kit: &Path) -> String {
    format!(
        r#"[package]
name = "{package}"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
anyhow = "1"
lintas-kit = {{ path = "{kit}" }}
sqlx = {{ version = "0.8", default-features = false, features = ["runtime-tokio", "any", "postgres", "sqlite", "migrate", "macros"] }}
tokio = {{ version = "1", features = ["rt-multi-thread", "macros", "signal", "sync", "time", "net", "process"] }}

# A crate of its own, not a member of the Lintas workspace.
[workspace]

[profile.dev]
debug = "line-tables-only"

[profile.dev.package."*"]
debug = false
opt-level = 1
"#,
        package = name.replace('_', "-"),
        kit = kit.display(),
    )
}
