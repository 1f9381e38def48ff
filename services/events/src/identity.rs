//! The pseudonymous subject key, and how its secret is rotated without splitting anyone's
//! history.
//!
//! ```text
//! v1 key = HMAC-SHA256(root secret, NIK)                      lowercase hex
//! vN key = HMAC-SHA256(rotation secret N, v(N-1) key as hex)  N = 2, 3, …
//! ```
//!
//! Only the intakes hold the root secret (they see NIKs). A rotation adds secret N: the
//! intakes then publish vN keys (`envelope.subject_key_id = "vN"`), and every reader that
//! holds the rotation secrets (never the root) carries a key of an older version forward with
//! [`SubjectKeyRotations::carry_forward`], so events published before and after the rotation
//! land on the same person. A leaked root secret lets an attacker compute v1 keys from
//! guessed NIKs; after a rotation the keys on new events are unlinkable to them without the
//! new secret.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The version of keys made with the root secret alone.
pub const FIRST_VERSION: &str = "v1";

/// Derives the pseudonymous `subject_key` from a NIK under the deployment's secrets
/// (LINTAS_SUBJECT_KEY_SECRET, plus LINTAS_SUBJECT_KEY_ROTATIONS once rotated). Without the
/// root secret no agency could link its records to another's, and with a guessable one the
/// 16-digit NIK space could be enumerated, hence the minimum length.
#[derive(Clone)]
pub struct SubjectKeyer {
    root: Hmac<Sha256>,
    rotations: SubjectKeyRotations,
}

#[derive(Debug, thiserror::Error)]
pub enum SubjectKeyError {
    #[error("the subject key secret must be at least {min} bytes (got {got}); set LINTAS_SUBJECT_KEY_SECRET")]
    SecretTooShort { min: usize, got: usize },
    #[error("subject key rotation `{0}`: expected vN:SECRET with N = 2, 3, … in order and a secret of at least 32 bytes")]
    BadRotation(String),
    #[error("subject key version `{0}` is not one this reader knows; configure LINTAS_SUBJECT_KEY_ROTATIONS")]
    UnknownVersion(String),
}

impl SubjectKeyer {
    pub const MIN_SECRET_LEN: usize = 32;

    /// A keyer with the root secret only: it makes v1 keys.
    pub fn new(secret: &[u8]) -> Result<Self, SubjectKeyError> {
        Self::with_rotations(secret, SubjectKeyRotations::default())
    }

    /// A keyer that makes keys of the newest version of `rotations`.
    pub fn with_rotations(
        secret: &[u8],
        rotations: SubjectKeyRotations,
    ) -> Result<Self, SubjectKeyError> {
        if secret.len() < Self::MIN_SECRET_LEN {
            return Err(SubjectKeyError::SecretTooShort {
                min: Self::MIN_SECRET_LEN,
                got: secret.len(),
            });
        }
        let root = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts keys of any length");
        Ok(SubjectKeyer { root, rotations })
    }

    /// The key of `nik` in the current version.
    pub fn subject_key(&self, nik: &str) -> String {
        let v1 = mac_hex(&self.root, nik.as_bytes());
        self.rotations
            .carry_forward(None, &v1)
            .expect("v1 is always known")
    }

    /// What `envelope.subject_key_id` says about keys from this keyer: `None` for v1.
    pub fn key_id(&self) -> Option<String> {
        self.rotations.key_id()
    }

    pub fn rotations(&self) -> &SubjectKeyRotations {
        &self.rotations
    }
}

/// The rotation secrets, in order (v2, v3, …): what a reader needs to carry keys forward.
#[derive(Clone, Default)]
pub struct SubjectKeyRotations {
    steps: Vec<Hmac<Sha256>>,
}

impl SubjectKeyRotations {
    /// `v2:SECRET,v3:SECRET` (empty: no rotation yet).
    pub fn parse(spec: &str) -> Result<Self, SubjectKeyError> {
        let mut steps = Vec::new();
        for (i, entry) in spec
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .enumerate()
        {
            let bad = || SubjectKeyError::BadRotation(format!("entry {}", i + 1));
            let (version, secret) = entry.split_once(':').ok_or_else(bad)?;
            if version != format!("v{}", i + 2) || secret.len() < SubjectKeyer::MIN_SECRET_LEN {
                return Err(bad());
            }
            steps.push(
                Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key"),
            );
        }
        Ok(SubjectKeyRotations { steps })
    }

    /// The newest version: `v1` before any rotation.
    pub fn current_version(&self) -> String {
        format!("v{}", self.steps.len() + 1)
    }

    /// `envelope.subject_key_id` of keys in the current version (`None` for v1).
    pub fn key_id(&self) -> Option<String> {
        (!self.steps.is_empty()).then(|| self.current_version())
    }

    /// `key`, made in version `from` (`None`: v1), carried to the current version. A key of
    /// a version newer than this reader knows is an error: the reader needs the secret.
    pub fn carry_forward(&self, from: Option<&str>, key: &str) -> Result<String, SubjectKeyError> {
        let from = from.unwrap_or(FIRST_VERSION);
        let n: usize = from
            .strip_prefix('v')
            .and_then(|n| n.parse().ok())
            .filter(|n| *n >= 1 && *n <= self.steps.len() + 1)
            .ok_or_else(|| SubjectKeyError::UnknownVersion(from.to_string()))?;
        let mut key = key.to_string();
        for step in &self.steps[n - 1..] {
            key = mac_hex(step, key.as_bytes());
        }
        Ok(key)
    }
}

fn mac_hex(mac: &Hmac<Sha256>, data: &[u8]) -> String {
    let mut mac = mac.clone();
    mac.update(data);
    hex::encode(mac.finalize().into_bytes())
}

impl std::fmt::Debug for SubjectKeyer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SubjectKeyer {{ <secret>, version {} }}",
            self.rotations.current_version()
        )
    }
}

impl std::fmt::Debug for SubjectKeyRotations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SubjectKeyRotations {{ current {} }}",
            self.current_version()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_nik_same_key_other_secret_other_key() {
        let a = SubjectKeyer::new(&[1u8; 32]).unwrap();
        let b = SubjectKeyer::new(&[2u8; 32]).unwrap();
        let nik = "3301014501900001";
        assert_eq!(a.subject_key(nik), a.subject_key(nik));
        assert_ne!(a.subject_key(nik), b.subject_key(nik));
        assert_eq!(a.subject_key(nik).len(), 64);
        assert!(!a.subject_key(nik).contains(nik));
        assert_eq!(a.key_id(), None);
    }

    #[test]
    fn short_secret_refused() {
        assert!(SubjectKeyer::new(b"short").is_err());
    }

    /// A reader holding only the rotation secrets turns a v1 key into the v3 key the intake
    /// now publishes for the same NIK: one person, one history.
    #[test]
    fn a_rotation_carries_old_keys_forward() {
        let root = [7u8; 32];
        let nik = "3301014501900001";
        let v1 = SubjectKeyer::new(&root).unwrap().subject_key(nik);
        let spec = format!("v2:{},v3:{}", "a".repeat(32), "b".repeat(32));
        let rotations = SubjectKeyRotations::parse(&spec).unwrap();
        let keyer = SubjectKeyer::with_rotations(&root, rotations.clone()).unwrap();
        let v3 = keyer.subject_key(nik);
        assert_ne!(v1, v3);
        assert_eq!(keyer.key_id().as_deref(), Some("v3"));
        assert_eq!(rotations.carry_forward(None, &v1).unwrap(), v3);
        assert_eq!(rotations.carry_forward(Some("v3"), &v3).unwrap(), v3);
        let v2 = SubjectKeyRotations::parse(&spec[..spec.find(",v3").unwrap()])
            .unwrap()
            .carry_forward(Some("v1"), &v1)
            .unwrap();
        assert_eq!(rotations.carry_forward(Some("v2"), &v2).unwrap(), v3);
        assert!(rotations.carry_forward(Some("v4"), &v3).is_err());
        assert!(SubjectKeyRotations::parse("v3:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa").is_err());
        assert!(SubjectKeyRotations::parse("v2:short").is_err());
    }
}
