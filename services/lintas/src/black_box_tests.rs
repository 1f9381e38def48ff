//! The black-box tests in the repository's top-level `tests/` folder run only if this crate's
//! manifest declares each of them as a `[[test]]` target: Cargo discovers tests in a
//! package's own `tests/` folder, not in one shared by the workspace. A file added there
//! without its entry compiles nowhere and runs nowhere, and nothing says so; this check does,
//! naming the file and the lines to add.
//!
//! A file that another test includes as a module (`mod harness;`) is a helper, not a test,
//! and so is everything in a subfolder (`tests/harness/mod.rs`).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// Where the manifest's `[[test]]` paths point to, as written there.
const PREFIX: &str = "../../tests/";

/// The `path` of every `[[test]]` target of a manifest.
fn declared_paths(manifest: &str) -> BTreeSet<String> {
    let mut paths = BTreeSet::new();
    let mut in_test = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_test = line == "[[test]]";
        } else if let Some(value) = line.strip_prefix("path").map(str::trim_start) {
            if let (true, Some(value)) = (in_test, value.strip_prefix('=')) {
                paths.insert(value.trim().trim_matches('"').to_string());
            }
        }
    }
    paths
}

/// The entries to add for every test file (name without `.rs`, its text) that the manifest
/// does not declare, one message per file.
fn missing_entries(manifest: &str, files: &BTreeMap<String, String>) -> Vec<String> {
    let declared = declared_paths(manifest);
    let is_helper = |name: &str| {
        let declaration = format!("mod {name};");
        files.values().any(|text| {
            text.lines().any(|l| {
                let l = l.trim();
                l == declaration || l.strip_prefix("pub ") == Some(declaration.as_str())
            })
        })
    };
    files
        .keys()
        .filter(|name| !declared.contains(&format!("{PREFIX}{name}.rs")) && !is_helper(name))
        .map(|name| {
            format!(
                "tests/{name}.rs is not declared in services/lintas/Cargo.toml, so it never runs; \
                 add:\n\n[[test]]\nname = \"{name}\"\npath = \"{PREFIX}{name}.rs\"\n"
            )
        })
        .collect()
}

#[test]
fn every_black_box_test_is_declared_in_the_manifest() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = fs::read_to_string(crate_dir.join("Cargo.toml")).expect("the manifest");
    let tests_dir = crate_dir.join("../../tests");
    let mut files = BTreeMap::new();
    for entry in fs::read_dir(&tests_dir).expect("the tests folder") {
        let path = entry.expect("a directory entry").path();
        if path.is_file() && path.extension().is_some_and(|e| e == "rs") {
            let name = path.file_stem().expect("a file name").to_string_lossy();
            let text = fs::read_to_string(&path).expect("a test file");
            files.insert(name.into_owned(), text);
        }
    }
    assert!(files.len() > 1, "no tests found in {}", tests_dir.display());
    let missing = missing_entries(&manifest, &files);
    assert!(missing.is_empty(), "\n{}", missing.join("\n"));
}

/// The check itself: it reports an undeclared test, with its entry, and nothing else.
#[test]
fn an_undeclared_test_is_reported_and_a_helper_is_not() {
    let manifest = "[package]\nname = \"lintas\"\npath = \"../../tests/zz.rs\"\n\n\
                    [[test]]\nname = \"a\"\npath = \"../../tests/a.rs\"\n\n\
                    [dependencies]\nx = { path = \"../../tests/b.rs\" }\n";
    let files: BTreeMap<String, String> = [
        ("a", "mod common;\n#[test]\nfn t() {}\n"),
        ("common", "pub fn helper() {}\n"),
        ("zz", "#[test]\nfn t() {}\n"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(
        missing_entries(manifest, &files),
        [
            "tests/zz.rs is not declared in services/lintas/Cargo.toml, so it never runs; add:\n\n\
          [[test]]\nname = \"zz\"\npath = \"../../tests/zz.rs\"\n"
        ]
    );
}
