//! Errors rendered as Confluent error bodies, so existing Schema Registry
//! clients (serializers, CLI tools) branch on the codes they already know.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("Subject '{0}' not found.")]
    SubjectNotFound(String),
    #[error("Version {0} not found.")]
    VersionNotFound(String),
    #[error("Schema not found")]
    SchemaNotFound,
    #[error("Subject '{0}' was soft deleted. Set permanent=true to delete permanently")]
    SubjectSoftDeleted(String),
    #[error("Subject '{0}' was not deleted first before being permanently deleted")]
    SubjectNotSoftDeleted(String),
    #[error(
        "Subject '{0}' Version {1} was soft deleted. Set permanent=true to delete permanently"
    )]
    VersionSoftDeleted(String, i64),
    #[error("Subject '{0}' Version {1} was not deleted first before being permanently deleted")]
    VersionNotSoftDeleted(String, i64),
    #[error("Subject '{0}' does not have subject-level compatibility configured")]
    SubjectLevelNotConfigured(String),
    #[error("Schema being registered is incompatible with an earlier schema for subject \"{subject}\", details: [{}]", details.join(", "))]
    Incompatible {
        subject: String,
        details: Vec<String>,
    },
    #[error("One or more references exist to the schema: {0}")]
    ReferenceExists(String),
    #[error("Subject '{0}' does not have subject-level mode configured")]
    SubjectModeNotConfigured(String),
    #[error("Invalid mode {0}: this registry runs in READWRITE mode only (READONLY and IMPORT are not supported)")]
    InvalidMode(String),
    #[error("Invalid schema {0}")]
    InvalidSchema(String),
    #[error("{0}")]
    InvalidRuleSet(String),
    #[error("The specified version '{0}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\"")]
    InvalidVersion(String),
    #[error("Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive: {0}")]
    InvalidCompatibilityLevel(String),
    #[error("{0}")]
    BadRequest(String),
    // ---- DEK Registry, with the codes of Confluent's DekRegistryErrors.
    #[error("Key '{0}' not found")]
    KeyNotFound(String),
    #[error("Key '{0}' was not deleted first before being permanently deleted")]
    KeyNotSoftDeleted(String),
    #[error("Key '{0}' must be undeleted first")]
    KeySoftDeleted(String),
    #[error("Key '{0}' already exists; use a different value")]
    KeyAlreadyExists(String),
    #[error("Invalid or missing value for field '{field}' of key{detail}")]
    InvalidKey { field: &'static str, detail: String },
    #[error("Invalid value for field 'shared' of key '{0}': shared KEKs (registry-side KMS) are not supported, because this registry never holds key-encryption keys; create the KEK with shared=false and let clients wrap their DEKs with their own KMS access")]
    SharedKekUnsupported(String),
    #[error("One or more references exist to the key '{0}'")]
    KeyReferenceExists(String),
    #[error("Unauthorized: send HTTP Basic credentials (basic.auth.user.info)")]
    Unauthorized,
    #[error("User '{user}' is not allowed to do this: it needs the {needed} role")]
    Forbidden {
        user: String,
        needed: crate::auth::Role,
    },
    #[error("HTTP 404 Not Found")]
    RouteNotFound,
    #[error("HTTP 405 Method Not Allowed")]
    MethodNotAllowed,
    #[error("Error in the backend data store: {0}")]
    Database(#[from] sqlx::Error),
    #[error("Error while migrating the registry database: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("Error in the backend data store: {0}")]
    Corrupt(String),
    #[error("Unsupported database backend {0}; the registry runs on PostgreSQL or SQLite")]
    UnsupportedBackend(String),
}

impl RegistryError {
    /// The Confluent `error_code`; its first three digits are the HTTP status.
    pub fn error_code(&self) -> u32 {
        use RegistryError::*;
        match self {
            SubjectNotFound(_) => 40401,
            VersionNotFound(_) => 40402,
            SchemaNotFound => 40403,
            SubjectSoftDeleted(_) => 40404,
            SubjectNotSoftDeleted(_) => 40405,
            VersionSoftDeleted(..) => 40406,
            VersionNotSoftDeleted(..) => 40407,
            SubjectLevelNotConfigured(_) => 40408,
            Incompatible { .. } => 409,
            ReferenceExists(_) => 42206,
            SubjectModeNotConfigured(_) => 40409,
            InvalidMode(_) => 42204,
            InvalidSchema(_) => 42201,
            InvalidRuleSet(_) => 42210,
            InvalidVersion(_) => 42202,
            InvalidCompatibilityLevel(_) => 42203,
            BadRequest(_) => 400,
            KeyNotFound(_) => 40470,
            KeyNotSoftDeleted(_) => 40471,
            KeySoftDeleted(_) => 40472,
            KeyAlreadyExists(_) => 40971,
            InvalidKey { .. } | SharedKekUnsupported(_) => 42271,
            KeyReferenceExists(_) => 42272,
            Unauthorized => 40101,
            Forbidden { .. } => 40301,
            RouteNotFound => 404,
            MethodNotAllowed => 405,
            Database(_) | Migration(_) | Corrupt(_) | UnsupportedBackend(_) => 50001,
        }
    }

    pub fn status(&self) -> StatusCode {
        let code = self.error_code();
        let http = if code >= 1000 { code / 100 } else { code };
        StatusCode::from_u16(http as u16).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for RegistryError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = if status.is_server_error() {
            tracing::error!(error = %self, "schema registry request failed");
            // Driver errors can leak table names and connection details; the log has them.
            "Error in the backend data store".to_owned()
        } else {
            self.to_string()
        };
        let body = serde_json::json!({
            "error_code": self.error_code(),
            "message": message,
        });
        // The content type is overwritten uniformly by the router middleware.
        let mut response = (status, axum::Json(body)).into_response();
        if matches!(self, RegistryError::Unauthorized) {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Basic realm=\"lintas-registry\""),
            );
        }
        response
    }
}

/// Rewrites a refusal that is not already a Confluent error body (axum's plain-text
/// rejections: malformed JSON, wrong content type, body too large) into
/// `{"error_code": <HTTP status>, "message": …}`, as Confluent's own server answers them.
pub(crate) async fn confluent_errors(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let message = axum::body::to_bytes(body, 16 * 1024)
        .await
        .ok()
        .and_then(|b| String::from_utf8(b.to_vec()).ok())
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| format!("HTTP {status}"));
    parts.headers.remove(CONTENT_LENGTH);
    let body = serde_json::json!({ "error_code": status.as_u16(), "message": message });
    Response::from_parts(parts, axum::body::Body::from(body.to_string()))
}
