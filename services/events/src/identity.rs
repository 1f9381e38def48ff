use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Derives the pseudonymous `subject_key` from a NIK: lowercase hex HMAC-SHA256 under the
/// deployment's shared key. The key comes from configuration (LINTAS_SUBJECT_KEY_SECRET);
/// without it no agency could link its records to another's, and with a guessable key the
/// 16-digit NIK space could be enumerated, hence the minimum length.
#[derive(Clone)]
pub struct SubjectKeyer {
    mac: Hmac<Sha256>,
}

#[derive(Debug, thiserror::Error)]
pub enum SubjectKeyError {
    #[error("the subject key secret must be at least {min} bytes (got {got}); set LINTAS_SUBJECT_KEY_SECRET")]
    SecretTooShort { min: usize, got: usize },
}

impl SubjectKeyer {
    pub const MIN_SECRET_LEN: usize = 32;

    pub fn new(secret: &[u8]) -> Result<Self, SubjectKeyError> {
        if secret.len() < Self::MIN_SECRET_LEN {
            return Err(SubjectKeyError::SecretTooShort {
                min: Self::MIN_SECRET_LEN,
                got: secret.len(),
            });
        }
        let mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts keys of any length");
        Ok(SubjectKeyer { mac })
    }

    pub fn subject_key(&self, nik: &str) -> String {
        let mut mac = self.mac.clone();
        mac.update(nik.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

impl std::fmt::Debug for SubjectKeyer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SubjectKeyer { <secret> }")
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
    }

    #[test]
    fn short_secret_refused() {
        assert!(SubjectKeyer::new(b"short").is_err());
    }
}
