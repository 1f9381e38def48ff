//! Key-encryption keys (KEKs) live in a KMS; Lintas only ever asks it to wrap or unwrap a
//! data-encryption key (DEK). One trait, so a production KMS plugs in beside `local-kms`.

use std::future::Future;
use std::pin::Pin;

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes128Gcm, Nonce};
use hkdf::Hkdf;
use sha2::Sha256;

pub type KmsFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<u8>, KmsError>> + Send + 'a>>;

#[derive(Debug, thiserror::Error)]
pub enum KmsError {
    /// The KMS could not be reached or failed: retry.
    #[error("KMS unavailable: {0}")]
    Unavailable(String),
    /// The KMS refused, or the wrapped key does not open with this KEK (another KEK, or
    /// tampered): retrying changes nothing.
    #[error("the key-encryption key does not open this data key")]
    Refused,
}

/// A KMS that holds one key-encryption key. Confluent's clients name KMS types in the rule
/// parameter `encrypt.kms.type` (`local-kms`, `aws-kms`, `gcp-kms`, `azure-kms`, `hcvault`);
/// an implementation for one of them wraps and unwraps DEK bytes with the KEK `key_id`
/// (`encrypt.kms.key.id`) exactly as that client's driver does, so that either side reads
/// the other's keys.
pub trait Kms: Send + Sync {
    fn kms_type(&self) -> &'static str;
    fn wrap<'a>(&'a self, key_id: &'a str, plaintext: &'a [u8]) -> KmsFuture<'a>;
    fn unwrap<'a>(&'a self, key_id: &'a str, wrapped: &'a [u8]) -> KmsFuture<'a>;
}

/// Confluent's `local-kms`: the KEK is derived from a secret the holder keeps
/// (HKDF-SHA256, zero salt, no info, 16 bytes) and wraps with AES-128-GCM (12-byte random
/// nonce, ciphertext, 16-byte tag, no associated data). The key id plays no part. For the
/// embedded run, tests and deployments without a KMS; the secret is as sensitive as the data.
pub struct LocalKms {
    cipher: Aes128Gcm,
}

impl LocalKms {
    pub const KMS_TYPE: &'static str = "local-kms";

    pub fn new(secret: &str) -> LocalKms {
        let mut key = [0u8; 16];
        Hkdf::<Sha256>::new(None, secret.as_bytes())
            .expand(&[], &mut key)
            .expect("16 bytes is a valid HKDF-SHA256 length");
        LocalKms {
            cipher: Aes128Gcm::new(&key.into()),
        }
    }
}

impl Kms for LocalKms {
    fn kms_type(&self) -> &'static str {
        Self::KMS_TYPE
    }

    fn wrap<'a>(&'a self, _key_id: &'a str, plaintext: &'a [u8]) -> KmsFuture<'a> {
        Box::pin(async move { Ok(gcm_seal(&self.cipher, plaintext)) })
    }

    fn unwrap<'a>(&'a self, _key_id: &'a str, wrapped: &'a [u8]) -> KmsFuture<'a> {
        Box::pin(async move { gcm_open(&self.cipher, wrapped).ok_or(KmsError::Refused) })
    }
}

/// AES-GCM as Tink lays it out: nonce (12) ‖ ciphertext ‖ tag (16), no associated data.
pub(crate) fn gcm_seal<C: Aead + AeadCore>(cipher: &C, plaintext: &[u8]) -> Vec<u8> {
    let nonce = C::generate_nonce(&mut OsRng);
    let sealed = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: plaintext,
                aad: b"",
            },
        )
        .expect("AES-GCM encrypts any message of this size");
    let mut out = Vec::with_capacity(nonce.len() + sealed.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    out
}

pub(crate) fn gcm_open<C: Aead>(cipher: &C, sealed: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < 12 + 16 {
        return None;
    }
    let (nonce, rest) = sealed.split_at(12);
    cipher
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: rest,
                aad: b"",
            },
        )
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The KEK Confluent's Python client derives from `mysecret` opens a DEK it wrapped
    /// (vector captured from confluent-kafka 2.16's local-kms driver).
    #[tokio::test]
    async fn opens_a_dek_wrapped_by_confluents_local_kms() {
        use base64::Engine;
        let wrapped = base64::engine::general_purpose::STANDARD
            .decode("1WxMyeL9HtW3XBnm8Ji35aIzLgmHImPdoz4Ibxb34ZsmOI4tWiKYR1WVDYnAQDcvSBDfXQDHYATYDGfTWOo=")
            .unwrap();
        let dek = LocalKms::new("mysecret")
            .unwrap("any", &wrapped)
            .await
            .unwrap();
        assert_eq!(
            &dek[..2],
            &[0x1a, 0x20],
            "a Tink AesGcmKey holding 32 bytes"
        );
        assert!(matches!(
            LocalKms::new("another secret")
                .unwrap("any", &wrapped)
                .await,
            Err(KmsError::Refused)
        ));
        let kms = LocalKms::new("mysecret");
        let again = kms.wrap("k", &dek).await.unwrap();
        assert_eq!(kms.unwrap("k", &again).await.unwrap(), dek);
    }
}
