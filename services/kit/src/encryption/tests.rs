use super::*;
use aes_gcm::aead::KeyInit;

fn version(subject: &str, version: i32, created_ms: i64) -> DekVersion {
    DekVersion {
        kek: "lintas-imigrasi".into(),
        subject: subject.into(),
        algorithm: DekAlgorithm::Aes256Gcm,
        version,
        created_ms,
    }
}

/// A version is shredded once the data it encrypted is older than the retention: its
/// successor's creation ends it. The newest version of a subject is never shredded.
#[test]
fn only_versions_whose_newest_data_is_past_retention_expire() {
    const DAY: i64 = 86_400_000;
    let now = 1000 * DAY;
    let all = vec![
        version("a", 1, 100 * DAY),
        version("a", 2, 500 * DAY),
        version("a", 3, 950 * DAY),
        version("b", 1, 10 * DAY),
    ];
    let expired = Protection::expired(&all, 400 * DAY, now);
    assert_eq!(expired, vec![version("a", 1, 100 * DAY)]);
    let expired = Protection::expired(&all, 0, now);
    assert_eq!(expired.len(), 2, "{expired:?}");
    assert!(expired.iter().all(|d| d.subject == "a" && d.version < 3));
}

/// A field encrypted by Confluent's Python client (confluent-kafka 2.16, local-kms secret
/// `mysecret`, AES256_GCM, no rotation) opens with the DEK it wrapped.
#[tokio::test]
async fn opens_a_field_confluents_client_encrypted() {
    use base64::Engine;
    let wrapped = BASE64
        .decode(
            "1WxMyeL9HtW3XBnm8Ji35aIzLgmHImPdoz4Ibxb34ZsmOI4tWiKYR1WVDYnAQDcvSBDfXQDHYATYDGfTWOo=",
        )
        .unwrap();
    let proto = LocalKms::new("mysecret")
        .unwrap("mykey", &wrapped)
        .await
        .unwrap();
    let key = &proto[2..];
    let cipher = aes_gcm::Aes256Gcm::new_from_slice(key).unwrap();
    let field = BASE64
        .decode("lOgJDgotUg5wwje0XWFzFOpO8s8jupSVcLWjfReWyL3bC4xUgk4p")
        .unwrap();
    let plaintext = kms::gcm_open(&cipher, &field).unwrap();
    assert_eq!(plaintext, b"123-45-6789");
    let again = kms::gcm_seal(&cipher, b"123-45-6789");
    assert_ne!(again, field, "a fresh nonce every time");
    assert_eq!(kms::gcm_open(&cipher, &again).unwrap(), b"123-45-6789");
}
