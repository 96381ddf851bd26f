//! Stripe: `Stripe-Signature` verification and event normalization.

mod depth;
mod normalize;
mod pruned;
mod verify;

pub use self::depth::MAX_DEPTH;
pub use self::normalize::{normalize, normalize_fields, NormalizeError};
pub use self::verify::{
    check_header, sign, verify, SignatureHeader, Verified, VerifyError, SIGNATURE_HEADER,
};
