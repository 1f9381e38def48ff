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
    /// A subscriber crate: handler, migrations, query route, tests, main, README, Cargo.lock.
    Subscriber {
        /// Name: lowercase letters, digits and _, starting with a letter (also the consumer
        /// group and the database schema).
        name: String,
        /// Folder to create the crate in (it gets a sub-folder NAME).
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// The Lintas kit by path: services/kit of a Lintas checkout, written into the crate's
        /// Cargo.toml relative to the crate (keep the two folders side by side when you move
        /// them). Default: the checkout this command runs in, or the one it was built from.
        #[arg(long, conflicts_with = "kit_git")]
        kit_path: Option<PathBuf>,
        /// The Lintas kit from git instead (`--kit-git https://…/lintas.git --kit-tag v0.1.0`):
        /// the form for a crate kept in a repository of its own.
        #[arg(long, requires = "kit_tag")]
        kit_git: Option<String>,
        /// The tag (or branch) of --kit-git.
        #[arg(long, requires = "kit_git")]
        kit_tag: Option<String>,
    },
}

/// Where the scaffolded crate takes the kit from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KitSource {
    /// A checkout's services/kit, written relative to the crate.
    Path(PathBuf),
    /// A git repository at a tag.
    Git { url: String, tag: String },
}

/// The lockfile Lintas is built and tested with: the scaffolded crate starts from the same
/// versions (cargo drops the entries it does not need at the first build), so it builds
/// offline from a cache that built Lintas, and never resolves newer crates on its own.
const LOCKFILE: &str = include_str!("../../../../Cargo.lock");

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
        kit_git,
        kit_tag,
    } = args.what;
    let kit = match (kit_git, kit_tag) {
        (Some(url), Some(tag)) => KitSource::Git { url, tag },
        _ => KitSource::Path(match kit_path {
            Some(path) => path,
            None => default_kit_path()?,
        }),
    };
    let root = scaffold(&name, &dir, &kit)?;
    println!("created {}", root.display());
    println!("next: cd {} && cargo test", root.display());
    Ok(())
}

/// The kit of the Lintas checkout the command runs in, else of the one it was built from.
fn default_kit_path() -> anyhow::Result<PathBuf> {
    let here = std::env::current_dir()?;
    let in_checkout = here
        .ancestors()
        .map(|dir| dir.join("services/kit"))
        .find(|kit| is_kit(kit));
    let built_from = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../kit"));
    in_checkout
        .or_else(|| is_kit(&built_from).then_some(built_from))
        .ok_or_else(|| {
            anyhow::anyhow!(
                "no Lintas kit found: run this inside a Lintas checkout, or pass --kit-path \
                 <checkout>/services/kit, or --kit-git URL --kit-tag TAG"
            )
        })
}

fn is_kit(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("Cargo.toml"))
        .is_ok_and(|manifest| manifest.contains("name = \"lintas-kit\""))
}

/// Writes the crate and returns its folder.
pub fn scaffold(name: &str, dir: &Path, kit: &KitSource) -> anyhow::Result<PathBuf> {
    let valid = name.len() <= 40
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    anyhow::ensure!(
        valid,
        "`{name}`: use lowercase letters, digits and _, starting with a letter (at most 40)"
    );
    let root = dir.join(name);
    anyhow::ensure!(!root.exists(), "{} exists already", root.display());
    let kit_dependency = match kit {
        KitSource::Path(path) => {
            anyhow::ensure!(
                is_kit(path),
                "no Lintas kit at {}: pass --kit-path <checkout>/services/kit",
                path.display()
            );
            std::fs::create_dir_all(dir)?;
            let from = std::fs::canonicalize(dir)?.join(name);
            let to = std::fs::canonicalize(path)?;
            format!("path = \"{}\"", relative_path(&from, &to).display())
        }
        KitSource::Git { url, tag } => format!("git = \"{url}\", tag = \"{tag}\""),
    };
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
    std::fs::write(root.join("Cargo.toml"), manifest(name, &kit_dependency))?;
    std::fs::write(root.join("Cargo.lock"), LOCKFILE)?;
    std::fs::write(
        root.join(".gitignore"),
        "/target\n*.db\n*.db-shm\n*.db-wal\n",
    )?;
    Ok(root)
}

/// `to` as seen from the folder `from` (both absolute): `../../lintas/services/kit`.
fn relative_path(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<_> = from.components().collect();
    let to: Vec<_> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut path = PathBuf::new();
    for _ in common..from.len() {
        path.push("..");
    }
    for part in &to[common..] {
        path.push(part);
    }
    path
}

/// A standalone manifest: its own workspace, the kit (by relative path or git tag), the kit's
/// versions of sqlx and tokio, and Lintas's build profile (so a shared build cache is reused).
fn manifest(name: &str, kit_dependency: &str) -> String {
    format!(
        r#"[package]
name = "{package}"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
anyhow = "1"
# The Lintas kit: a path into a Lintas checkout (relative to this crate), or from git at a tag
# (`lintas-kit = {{ git = "https://…/lintas.git", tag = "v0.1.0" }}`). Cargo.lock came with the
# crate and holds the versions Lintas is tested with: `cargo test --offline` builds from a
# cargo cache that built Lintas.
lintas-kit = {{ {kit_dependency} }}
serde_json = "1"
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
    )
}
