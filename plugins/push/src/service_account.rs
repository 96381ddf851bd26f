//! A Google service-account key file, the JSON the Firebase console downloads
//! (Project settings → Service accounts → Generate new private key): read and checked
//! at start-up, so `herald check` names a missing or malformed file by its path.
//!
//! Of its fields herald reads `type`, `project_id`, `private_key_id`, `private_key`,
//! `client_email` and `token_uri`, as Google's "Using OAuth 2.0 for Server to Server
//! Applications" describes them; the others (`client_id`, `auth_uri`, …) are ignored.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jsonwebtoken::EncodingKey;
use reqwest::Url;
use serde::Deserialize;

/// The key file as written; every field optional, so each missing one is named.
#[derive(Deserialize)]
struct KeyFile {
    #[serde(rename = "type")]
    kind: Option<String>,
    project_id: Option<String>,
    private_key_id: Option<String>,
    private_key: Option<String>,
    client_email: Option<String>,
    token_uri: Option<String>,
}

/// A checked service account: who signs, with which key, and where tokens are minted.
#[derive(Clone)]
pub struct ServiceAccount {
    /// The key file it was read from, for messages.
    pub path: PathBuf,
    /// The account's e-mail address: the assertion's issuer.
    pub client_email: String,
    /// The key's id, sent as the assertion's `kid`.
    pub private_key_id: String,
    /// The Firebase project the account belongs to.
    pub project_id: String,
    /// Where the assertion is exchanged for an access token.
    pub token_uri: Url,
    /// The RSA private key.
    pub(crate) key: Arc<EncodingKey>,
}

impl fmt::Debug for ServiceAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceAccount")
            .field("path", &self.path)
            .field("client_email", &self.client_email)
            .field("project_id", &self.project_id)
            .field("token_uri", &self.token_uri.as_str())
            .field("key", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// Why a key file cannot be used. Never quotes the file's content.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// The file could not be read.
    #[error("cannot read the service-account key file `{path}`: {source}")]
    Read {
        /// The path, as resolved.
        path: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The file is not a usable service-account key.
    #[error("`{path}` is not a usable service-account key file: {reason}")]
    Invalid {
        /// The path, as resolved.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl ServiceAccount {
    /// Reads and checks the key file at `path`.
    ///
    /// # Errors
    /// When the file cannot be read or is not a service-account key.
    pub fn load(path: &Path) -> Result<Self, KeyFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| KeyFileError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(path, &text)
    }

    /// Checks the text of a key file read from `path`.
    ///
    /// # Errors
    /// Every missing or malformed field, in one message.
    pub fn parse(path: &Path, text: &str) -> Result<Self, KeyFileError> {
        let invalid = |reason: String| KeyFileError::Invalid {
            path: path.display().to_string(),
            reason,
        };
        // serde_json's message names a line and column, never the content.
        let file: KeyFile =
            serde_json::from_str(text).map_err(|err| invalid(format!("not JSON ({err})")))?;
        if let Some(kind) = file
            .kind
            .as_deref()
            .filter(|kind| *kind != "service_account")
        {
            return Err(invalid(format!(
                "its `type` is `{kind}`, not `service_account`"
            )));
        }
        let mut problems = Vec::new();
        let mut field = |name: &str, value: Option<String>| {
            let value = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
            if value.is_none() {
                problems.push(format!("`{name}` is missing"));
            }
            value
        };
        let client_email = field("client_email", file.client_email);
        let private_key_id = field("private_key_id", file.private_key_id);
        let project_id = field("project_id", file.project_id);
        let token_uri = field("token_uri", file.token_uri);
        let private_key = field("private_key", file.private_key);
        let key = private_key.and_then(|pem| {
            EncodingKey::from_rsa_pem(pem.as_bytes())
                .map_err(|_| problems.push("`private_key` is not an RSA private key in PEM".into()))
                .ok()
        });
        let token_uri = token_uri.and_then(|raw| {
            check_token_uri(&raw)
                .map_err(|message| problems.push(format!("`token_uri` {message}")))
                .ok()
        });
        if !problems.is_empty() {
            return Err(invalid(problems.join("; ")));
        }
        match (client_email, private_key_id, project_id, token_uri, key) {
            (
                Some(client_email),
                Some(private_key_id),
                Some(project_id),
                Some(token_uri),
                Some(key),
            ) => Ok(Self {
                path: path.to_owned(),
                client_email,
                private_key_id,
                project_id,
                token_uri,
                key: Arc::new(key),
            }),
            _ => Err(invalid("a field is missing".into())),
        }
    }
}

/// The token endpoint: https, or plain http to a loopback address (a test's fake), so
/// a key file cannot send the signed assertion across a network in the clear.
fn check_token_uri(raw: &str) -> Result<Url, String> {
    let url = herald_plugin_http::parse_url(raw, "https://oauth2.googleapis.com/token")?;
    let host = url.host_str().unwrap_or_default();
    let ip = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host == "localhost" || ip.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if url.scheme() == "https" || loopback {
        Ok(url)
    } else {
        Err(format!(
            "`{raw}` must be https (plain http only to a loopback address)"
        ))
    }
}
