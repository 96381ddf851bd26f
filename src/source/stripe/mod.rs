//! Stripe: `Stripe-Signature` verification and event normalization.

mod depth;
mod normalize;
mod pruned;
mod thin;
mod verify;

/// The source's name: `POST /webhooks/stripe`, `[sources.stripe]`.
pub const NAME: &str = "stripe";

pub use self::depth::MAX_DEPTH;
pub use self::normalize::{
    customer, normalize, normalize_fields, read_fields, Incoming, NormalizeError,
};
pub use self::thin::{ThinEvent, THIN_OBJECT};
pub use self::verify::{
    check_header, sign, verify, SignatureHeader, Verified, VerifyError, SIGNATURE_HEADER,
};

/// Warns, once per version and process, about a stored Stripe event whose payload is
/// shaped on another API version than the one herald reads: a field herald looks for
/// may have moved (set the endpoint's version in the Dashboard; `herald stripe check`).
pub fn note_api_version(event: &herald_plugin_api::Event) {
    static WARNED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let Some(version) = event.api_version.as_deref() else {
        return;
    };
    if event.source != NAME || version == crate::stripe_api::STRIPE_VERSION {
        return;
    }
    let Ok(mut warned) = WARNED.lock() else {
        return;
    };
    // A handful of versions at most: the endpoint's, before and after an upgrade.
    if !warned.iter().any(|known| known == version) && warned.len() < 16 {
        warned.push(version.to_owned());
        tracing::warn!(
            api_version = version,
            expected = crate::stripe_api::STRIPE_VERSION,
            event_id = %event.id,
            "a Stripe event of another API version: herald reads {}; set the endpoint's version (herald stripe check)",
            crate::stripe_api::STRIPE_VERSION
        );
    }
}
