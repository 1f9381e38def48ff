//! BACKWARD_TRANSITIVE compatibility with every committed version of the contract.
//!
//! The registry checks a new schema only against what was registered in that registry; this
//! test checks it against every version ever committed, so a change that would strand data
//! written by any earlier release fails here first. For each event of the catalogue, every
//! commit that touched `schemas/` (and HEAD, so uncommitted edits in the working tree are
//! checked too) is read from git, its files are made self-contained exactly as the catalogue
//! does it ([`lintas_events::self_contained`]), and the current schema must be able to read
//! data written with it.
//!
//! The check needs git and the full history: without them it fails, it never skips.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use apache_avro::{schema_compatibility::SchemaCompatibility, Schema};
use lintas_events::{catalogue, self_contained, SOURCES};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs git in the repository root; stdout on success.
fn git(args: &[&str]) -> Result<String, String> {
    let root = repo_root();
    let output = Command::new("git")
        .arg("-C")
        .arg(&root)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run `git {}`: {e}", args.join(" ")))?;
    if !output.status.success() {
        return Err(format!(
            "`git {}` in {} failed ({}): {}",
            args.join(" "),
            root.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    String::from_utf8(output.stdout)
        .map_err(|e| format!("`git {}` printed non-UTF-8: {e}", args.join(" ")))
}

/// Panics with a clear message unless the repository is a full git checkout.
fn require_full_checkout() {
    let fail = |why: String| -> ! {
        panic!(
            "the schema compatibility check needs git and the repository's full history, and \
             cannot run: {why}. It does not skip: run it in a git clone of the repository \
             with full history (CI: fetch-depth 0, or `git fetch --unshallow`)."
        )
    };
    if let Err(e) = git(&["--version"]) {
        fail(format!("git is not available ({e})"));
    }
    match git(&["rev-parse", "--is-inside-work-tree"]) {
        Ok(out) if out.trim() == "true" => {}
        Ok(out) => fail(format!(
            "{} is not inside a git work tree (git says {})",
            repo_root().display(),
            out.trim()
        )),
        Err(e) => fail(format!(
            "{} is not a git checkout ({e})",
            repo_root().display()
        )),
    }
    match git(&["rev-parse", "--is-shallow-repository"]) {
        Ok(out) if out.trim() == "false" => {}
        Ok(_) => fail("the clone is shallow, so earlier versions are missing".into()),
        Err(e) => fail(e),
    }
}

/// A committed state of `schemas/`.
struct Revision {
    commit: String,
    is_head: bool,
    label: String,
    /// `.avsc` file name → blob id.
    files: BTreeMap<String, String>,
}

fn revisions() -> Vec<Revision> {
    let head = git(&["rev-parse", "HEAD"]).unwrap_or_else(|e| panic!("no HEAD commit: {e}"));
    let mut commits = vec![head.trim().to_owned()];
    let log = git(&["log", "--format=%H", "--", "schemas/"]).unwrap_or_else(|e| panic!("{e}"));
    for commit in log.lines().map(str::trim).filter(|c| !c.is_empty()) {
        if !commits.iter().any(|c| c == commit) {
            commits.push(commit.to_owned());
        }
    }
    commits
        .into_iter()
        .enumerate()
        .map(|(i, commit)| {
            let line =
                git(&["log", "-1", "--format=%h %s", &commit]).unwrap_or_else(|e| panic!("{e}"));
            let mut line = line.trim().to_owned();
            if line.chars().count() > 72 {
                line = line.chars().take(71).collect::<String>() + "…";
            }
            let label = if i == 0 {
                format!("HEAD, commit {line}")
            } else {
                format!("commit {line}")
            };
            let tree =
                git(&["ls-tree", &commit, "--", "schemas/"]).unwrap_or_else(|e| panic!("{e}"));
            let files = tree
                .lines()
                .filter_map(|line| {
                    // "<mode> blob <id>\tschemas/<file>"
                    let (meta, path) = line.split_once('\t')?;
                    let mut meta = meta.split_whitespace();
                    let (_, kind, id) = (meta.next()?, meta.next()?, meta.next()?);
                    let file = path.strip_prefix("schemas/")?;
                    (kind == "blob" && file.ends_with(".avsc") && !file.contains('/'))
                        .then(|| (file.to_owned(), id.to_owned()))
                })
                .collect();
            Revision {
                commit,
                is_head: i == 0,
                label,
                files,
            }
        })
        .collect()
}

/// The file of `schemas/` that defines `full_name`, as embedded in this build.
fn file_of(full_name: &str) -> String {
    SOURCES
        .iter()
        .find(|(_, text)| {
            let json: serde_json::Value = serde_json::from_str(text).unwrap();
            let name = json["name"].as_str().unwrap_or_default();
            let namespace = json["namespace"].as_str().unwrap_or_default();
            name == full_name || format!("{namespace}.{name}") == full_name
        })
        .map(|(file, _)| file.to_string())
        .unwrap_or_else(|| panic!("no file of schemas/ defines {full_name}"))
}

/// The error and its causes, one after the other.
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[test]
fn current_schemas_read_every_committed_version() {
    require_full_checkout();
    let revisions = revisions();
    assert!(
        revisions.iter().any(|r| !r.files.is_empty()),
        "no committed version of schemas/ found under {}: is this the Lintas repository?",
        repo_root().display()
    );

    let mut blobs: HashMap<String, String> = HashMap::new();
    let mut failures = Vec::new();
    let mut summary = Vec::new();
    for event in catalogue().events() {
        let event_file = file_of(event.full_name);
        // Each distinct earlier version is checked once, named by the oldest revision that
        // has it (where it was introduced), and flagged when HEAD still has it.
        let mut versions: Vec<(String, &Revision, bool)> = Vec::new();
        for revision in revisions.iter().rev() {
            if !revision.files.contains_key(&event_file) {
                continue; // the event did not exist yet
            }
            let texts: Vec<(String, String)> = revision
                .files
                .iter()
                .map(|(file, id)| {
                    let text = blobs
                        .entry(id.clone())
                        .or_insert_with(|| {
                            git(&["cat-file", "blob", id]).unwrap_or_else(|e| panic!("{e}"))
                        })
                        .clone();
                    (file.clone(), text)
                })
                .collect();
            let pairs: Vec<(&str, &str)> = texts
                .iter()
                .map(|(f, t)| (f.as_str(), t.as_str()))
                .collect();
            match self_contained(&pairs, event.full_name) {
                Ok(json) => match versions.iter_mut().find(|(known, _, _)| *known == json) {
                    Some((_, _, at_head)) => *at_head |= revision.is_head,
                    None => versions.push((json, revision, revision.is_head)),
                },
                Err(e) => failures.push(format!(
                    "{}: schemas/{event_file} at {} ({}) cannot be made self-contained: {e}",
                    event.full_name, revision.label, revision.commit
                )),
            }
        }
        let checked = versions.len();
        for (json, revision, at_head) in versions {
            let at = format!(
                "as committed in {} ({}){}",
                revision.label,
                revision.commit,
                if at_head && !revision.is_head {
                    ", still the version at HEAD"
                } else {
                    ""
                }
            );
            let writer = match Schema::parse_str(&json) {
                Ok(schema) => schema,
                Err(e) => {
                    failures.push(format!(
                        "{}: schemas/{event_file} {at} does not parse: {e}",
                        event.full_name
                    ));
                    continue;
                }
            };
            if let Err(e) = SchemaCompatibility::can_read(&writer, &event.schema) {
                failures.push(format!(
                    "{}: the working-tree schema cannot read data written with \
                     schemas/{event_file} (and the shared types it references) {at}: {}",
                    event.full_name,
                    chain(&e)
                ));
            }
        }
        summary.push(format!("{}: {checked} earlier version(s)", event.full_name));
    }
    println!("{}", summary.join("\n"));
    assert!(
        failures.is_empty(),
        "schemas are not BACKWARD_TRANSITIVE compatible with their committed history \
         ({} incompatibilities). Add fields only with a default, never remove or rename a \
         field without one, add enum symbols only to enums with a default; a breaking change \
         is a new topic version (.v2).\n{}",
        failures.len(),
        failures.join("\n")
    );
}
