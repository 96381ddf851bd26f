//! Stripe: `Stripe-Signature` verification and event normalization.

mod depth;
mod normalize;
mod pruned;
mod verify;

/// The source's name: `POST /webhooks/stripe`, `[sources.stripe]`.
pub const NAME: &str = "stripe";

pub use self::depth::MAX_DEPTH;
pub use self::normalize::{customer, normalize, normalize_fields, NormalizeError};
pub use self::verify::{
    check_header, sign, verify, SignatureHeader, Verified, VerifyError, SIGNATURE_HEADER,
};
