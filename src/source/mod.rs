//! Receive stage: webhook sources. Each one verifies a request's authenticity on
//! the raw bytes and only then normalizes the payload into an [`Event`].
//!
//! [`Sources`] is the registry: the receiver asks it for the source the path names,
//! and only this module and each source's own folder know which sources exist. A
//! new source is a folder here, a variant of [`Receiver`] and [`Head`], and its
//! settings in the config.

pub mod stripe;

use axum::http::HeaderMap;
use herald_plugin_api::Payload;
use secrecy::ExposeSecret;

use crate::config::{RestartOnly, StripeSettings};

/// Why a source refused a request it was sent.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The signature did not check out.
    #[error(transparent)]
    Verify(#[from] stripe::VerifyError),
    /// Authentic, but not an event herald understands.
    #[error(transparent)]
    Normalize(#[from] stripe::NormalizeError),
    /// Authentic, but from the other mode than the source is set to take
    /// (`livemode = true` refuses test-mode events, and the reverse).
    #[error("a {got} event on a source set to take {expected} events only (sources.stripe.livemode)", got = mode(*got), expected = mode(*expected))]
    Livemode { expected: bool, got: bool },
    /// A thin event, which herald can only complete through Stripe's API.
    #[error("a thin event names its object without carrying it; set [sources.stripe] api_key so herald can fetch it (Stripe retries meanwhile)")]
    ThinWithoutApi,
}

/// `live` or `test`.
fn mode(livemode: bool) -> &'static str {
    if livemode {
        "live-mode"
    } else {
        "test-mode"
    }
}

impl SourceError {
    /// Every [`SourceError::reason`], so their series exist before the first refusal.
    pub const REASONS: [&'static str; 9] = [
        "missing_header",
        "missing_timestamp",
        "bad_timestamp",
        "no_signatures",
        "outside_tolerance",
        "bad_signature",
        "bad_payload",
        "livemode_mismatch",
        "thin_needs_api_key",
    ];

    /// A short, stable label for metrics and the answer's `reason`.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Verify(err) => err.reason(),
            Self::Normalize(_) => "bad_payload",
            Self::Livemode { .. } => "livemode_mismatch",
            Self::ThinWithoutApi => "thin_needs_api_key",
        }
    }

    /// Whether the request was well formed but not authentic (401 rather than 400).
    pub fn is_unauthorized(&self) -> bool {
        match self {
            Self::Verify(err) => err.is_unauthorized(),
            Self::Normalize(_) | Self::Livemode { .. } | Self::ThinWithoutApi => false,
        }
    }
}

/// The sources the config sets up, by the name `POST /webhooks/{name}` uses.
#[derive(Clone, Default)]
pub struct Sources {
    stripe: Option<StripeSettings>,
}

impl From<&RestartOnly> for Sources {
    fn from(config: &RestartOnly) -> Self {
        Self {
            stripe: config.stripe.clone(),
        }
    }
}

impl Sources {
    /// The names of the sources set up.
    pub fn names(&self) -> Vec<&'static str> {
        self.stripe
            .as_ref()
            .map(|_| stripe::NAME)
            .into_iter()
            .collect()
    }

    /// The source named `name`, when it is set up.
    pub fn get(&self, name: &str) -> Option<Receiver<'_>> {
        match name {
            stripe::NAME => self.stripe.as_ref().map(Receiver::Stripe),
            _ => None,
        }
    }
}

/// One source set up, about to judge a request.
pub enum Receiver<'a> {
    Stripe(&'a StripeSettings),
}

impl<'a> Receiver<'a> {
    /// Judges what the head alone can tell (a missing or malformed signature header,
    /// a timestamp outside the tolerance), with `now` in Unix seconds, so a request
    /// it condemns is refused before its body is read.
    ///
    /// # Errors
    /// What is wrong with the head.
    pub fn check_head<'h>(
        &self,
        headers: &'h HeaderMap,
        now: i64,
    ) -> Result<Head<'a, 'h>, SourceError> {
        match *self {
            Self::Stripe(settings) => {
                let header = headers
                    .get(stripe::SIGNATURE_HEADER)
                    .map(|value| value.to_str().unwrap_or(""));
                let signature = stripe::check_header(header, settings.tolerance.as_secs(), now)?;
                Ok(Head::Stripe {
                    signature,
                    settings,
                })
            }
        }
    }
}

/// A head that passed, holding what checks its body.
pub enum Head<'a, 'h> {
    Stripe {
        signature: stripe::SignatureHeader<'h>,
        settings: &'a StripeSettings,
    },
}

impl Head<'_, '_> {
    /// Verifies `body` and normalizes it into an event whose payload stays the text
    /// received: stored as it came, parsed again only if a rule's `when` or a template
    /// reads `data.…` or `raw.…`; or, for a thin event, reads what it names.
    ///
    /// # Errors
    /// When the body is not authentic, or not an event herald understands.
    pub fn verify(self, body: &[u8]) -> Result<stripe::Incoming, SourceError> {
        match self {
            Self::Stripe {
                signature,
                settings,
            } => {
                let verified =
                    signature.verify(body, settings.secret.expose_secret().as_bytes())?;
                let incoming = stripe::read_fields(verified)?;
                let livemode = match &incoming {
                    stripe::Incoming::Snapshot(event) => event.livemode,
                    stripe::Incoming::Thin(thin) => thin.livemode,
                };
                if let Some(expected) = settings.livemode {
                    if livemode != expected {
                        return Err(SourceError::Livemode {
                            expected,
                            got: livemode,
                        });
                    }
                }
                Ok(match incoming {
                    stripe::Incoming::Snapshot(mut event) => {
                        event.raw = Payload::from_body(body);
                        stripe::Incoming::Snapshot(event)
                    }
                    stripe::Incoming::Thin(_) if settings.api.is_none() => {
                        return Err(SourceError::ThinWithoutApi);
                    }
                    thin @ stripe::Incoming::Thin(_) => thin,
                })
            }
        }
    }
}
