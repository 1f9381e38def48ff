//! Dead letters: the original key, value and headers, plus error headers named as Kafka
//! Connect names them (`__connect.errors.*`), so existing tooling can read them.

use rdkafka::message::{Header, Headers, Message, OwnedHeaders, OwnedMessage};

/// Where in the pipeline a record failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadLetterStage {
    /// Framing, schema id or Avro body: the bytes cannot be read.
    Decode,
    /// Decoded, but the handler rejected it as invalid.
    Handler,
}

impl DeadLetterStage {
    pub fn as_str(self) -> &'static str {
        match self {
            DeadLetterStage::Decode => "decode",
            DeadLetterStage::Handler => "handler",
        }
    }
}

/// Original headers followed by the error headers.
pub fn error_headers(
    original: &OwnedMessage,
    group: &str,
    stage: DeadLetterStage,
    class: &str,
    message: &str,
) -> OwnedHeaders {
    let mut headers = OwnedHeaders::new();
    if let Some(existing) = original.headers() {
        for h in existing.iter() {
            headers = headers.insert(Header {
                key: h.key,
                value: h.value,
            });
        }
    }
    let partition = original.partition().to_string();
    let offset = original.offset().to_string();
    let stage = stage.as_str();
    let entries: [(&str, &str); 7] = [
        ("__connect.errors.topic", original.topic()),
        ("__connect.errors.partition", &partition),
        ("__connect.errors.offset", &offset),
        ("__connect.errors.stage", stage),
        ("__connect.errors.class.name", class),
        ("__connect.errors.exception.message", message),
        ("__connect.errors.connector.name", group),
    ];
    for (key, value) in entries {
        headers = headers.insert(Header {
            key,
            value: Some(value),
        });
    }
    headers
}

/// The dead letter of a redriven record that failed again: the record's original headers and
/// coordinates (not the redrive topic's), the new failure, one more redrive counted, and the
/// dead letter it replaces; the request's own headers (operator, reason) are left behind.
pub fn redrive_error_headers(
    request_message: &OwnedMessage,
    request: &crate::dead_letters::Request,
    group: &str,
    stage: DeadLetterStage,
    class: &str,
    message: &str,
) -> OwnedHeaders {
    use crate::dead_letters as dl;
    let mut headers = OwnedHeaders::new();
    if let Some(existing) = request_message.headers() {
        for h in existing.iter() {
            if h.key.starts_with("__connect.errors.") || h.key.starts_with("lintas.redrive.") {
                continue;
            }
            headers = headers.insert(Header {
                key: h.key,
                value: h.value,
            });
        }
    }
    let partition = request.partition.to_string();
    let offset = request.offset.to_string();
    let count = request.count.to_string();
    let replaces = format!("{}:{}", request.dlq_partition, request.dlq_offset);
    let entries: [(&str, &str); 9] = [
        (dl::ERROR_TOPIC, &request.topic),
        (dl::ERROR_PARTITION, &partition),
        (dl::ERROR_OFFSET, &offset),
        (dl::ERROR_STAGE, stage.as_str()),
        (dl::ERROR_CLASS, class),
        (dl::ERROR_MESSAGE, message),
        ("__connect.errors.connector.name", group),
        (dl::COUNT, &count),
        (dl::REPLACES, &replaces),
    ];
    for (key, value) in entries {
        headers = headers.insert(Header {
            key,
            value: Some(value),
        });
    }
    headers
}
