//! Credentials of the test system: the agencies' bearer tokens, the registry's users, the
//! subject-key and KEK secrets, and the registry clients and codecs built on them.

use std::process::Stdio;

use lintas_kit::codec::Codec;
use lintas_kit::registry::RegistryClient;

use super::processes::lintas;

pub const SECRET: &str = "test-secret-test-secret-test-secret-0123";
pub const DISNAKER_TOKEN: &str = "disnaker-token-000000000001";
pub const IMIGRASI_TOKEN: &str = "imigrasi-token-000000000001";
pub const POLRI_TOKEN: &str = "polri-token-00000000000001";
pub const KEJAKSAAN_TOKEN: &str = "kejaksaan-token-0000000001";
pub const CHECKPOINT_TOKEN: &str = "imigrasi-tpi-cgk-token-0001";
/// The other checkpoints the simulation records checks at: a checkpoint office records
/// checks only at its own checkpoint.
pub const CHECKPOINT_YIA_TOKEN: &str = "imigrasi-tpi-yia-token-0001";
pub const CHECKPOINT_SUB_TOKEN: &str = "imigrasi-tpi-sub-token-0001";
pub const CHECKPOINT_CLP_TOKEN: &str = "imigrasi-tpi-clp-token-0001";
pub const DESA_KESUGIHAN_TOKEN: &str = "desa-kesugihan-token-00001";
/// A village token named like Kesugihan's office but without a `village=` claim.
pub const DESA_UNSCOPED_TOKEN: &str = "desa-unscoped-token-000001";
/// An immigration office token that may read personal data (names, NIK), of officer `im-7`.
pub const IMIGRASI_PERSONAL_TOKEN: &str = "imigrasi-personal-token-001";
/// A police token that may read personal data (recruiters' phone numbers), of officer `pol-9`.
pub const POLRI_PERSONAL_TOKEN: &str = "polri-personal-token-000001";

/// local-kms secrets of the contract's KEKs in the tests.
pub const KEK_IMIGRASI_SECRET: &str = "test-kek-imigrasi-0123456789abcdefghijkl";
pub const KEK_POLRI_SECRET: &str = "test-kek-polri-0123456789abcdefghijklmnop";

/// `LINTAS_KEK_SECRETS` of a service entitled to `keks`.
pub fn kek_secrets(keks: &[&str]) -> String {
    keks.iter()
        .map(|kek| match *kek {
            lintas_kit::events::keks::IMMIGRATION => format!("{kek}={KEK_IMIGRASI_SECRET}"),
            lintas_kit::events::keks::POLICE => format!("{kek}={KEK_POLRI_SECRET}"),
            other => panic!("no test secret for KEK {other}"),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The test registry's users (`lintas registry --users-file`): one per role. Every `lintas`
/// command the harness starts gets the read credential (`LINTAS_REGISTRY_USER_INFO`), the
/// intakes the write one: subscribers and tools need no more than read.
pub const REGISTRY_READ: &str = "lintas-reader:reader-password-0001";
pub const REGISTRY_WRITE: &str = "lintas-writer:writer-password-0001";
pub const REGISTRY_ADMIN: &str = "lintas-admin:admin-password-000001";

/// The users file of the test registry, hashed as an operator would: the password on the
/// standard input of `lintas registry hash-password`, which prints its argon2id PHC string.
pub fn registry_users() -> String {
    use std::io::Write;
    [
        (REGISTRY_READ, "read"),
        (REGISTRY_WRITE, "write"),
        (REGISTRY_ADMIN, "admin"),
    ]
    .iter()
    .map(|(info, role)| {
        let (user, password) = info.split_once(':').unwrap();
        let mut child = lintas(&["registry", "hash-password"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        write!(child.stdin.take().unwrap(), "{password}").unwrap();
        let out = child.wait_with_output().unwrap();
        let hash = String::from_utf8(out.stdout).unwrap();
        assert!(
            out.status.success() && hash.starts_with("$argon2id$"),
            "hash-password: {hash}"
        );
        format!("{user}:{role}:{}\n", hash.trim())
    })
    .collect()
}

/// A registry client sending `user_info` (`user:password`).
pub fn registry_client(registry: &str, user_info: &str) -> RegistryClient {
    RegistryClient::new(registry).with_user_info(Some(&lintas_kit::secret::Secret::new(user_info)))
}

/// A codec holding `keks`, as a service entitled to them decodes and encodes (with the
/// registry's write credential, as a publisher).
pub fn codec(registry: &str, keks: &[&str]) -> Codec {
    Codec::new(registry_client(registry, REGISTRY_WRITE), "").with_protection(
        lintas_kit::encryption::ProtectionSettings {
            keyring: lintas_kit::encryption::Keyring::parse_local(&kek_secrets(keks)).unwrap(),
            ..Default::default()
        },
    )
}

/// The KEKs each of our subscribers is entitled to.
pub fn keks_of(agency: &str) -> &'static [&'static str] {
    match agency {
        "imigrasi" => &[lintas_kit::events::keks::IMMIGRATION],
        "polri" => &[lintas_kit::events::keks::POLICE],
        _ => &[],
    }
}

pub fn tokens_spec() -> String {
    [
        format!("{DISNAKER_TOKEN}=disnaker:DISNAKER-CILACAP"),
        format!("{IMIGRASI_TOKEN}=imigrasi:KANIM-CILACAP"),
        format!("{CHECKPOINT_TOKEN}=imigrasi:TPI-CGK"),
        format!("{CHECKPOINT_YIA_TOKEN}=imigrasi:TPI-YIA"),
        format!("{CHECKPOINT_SUB_TOKEN}=imigrasi:TPI-SUB"),
        format!("{CHECKPOINT_CLP_TOKEN}=imigrasi:TPI-CLP"),
        format!("{POLRI_TOKEN}=polri:POLRESTA-CILACAP"),
        format!("{KEJAKSAAN_TOKEN}=kejaksaan:KEJARI-CILACAP"),
        format!("{DESA_KESUGIHAN_TOKEN}=desa:DESA-KESUGIHAN:village=33.01.02.2001"),
        format!("{DESA_UNSCOPED_TOKEN}=desa:DESA-KESUGIHAN"),
        format!("{IMIGRASI_PERSONAL_TOKEN}=imigrasi:KANIM-CILACAP:personal_data+officer=im-7"),
        format!("{POLRI_PERSONAL_TOKEN}=polri:POLRESTA-CILACAP:personal_data+officer=pol-9"),
    ]
    .join(",")
}
