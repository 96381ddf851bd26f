//! Which statuses keep access: `active`, `trialing` and `past_due` (Stripe still
//! retries the payment) by default; the rest lose it. An instance may say otherwise
//! per status: `access = { past_due = false, paused = true }`.

use std::collections::BTreeMap;

use crate::ledger::SubscriptionStatus;

/// The access policy of one instance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Access {
    /// Statuses whose access the config sets, over the defaults.
    overrides: BTreeMap<SubscriptionStatus, bool>,
}

impl Access {
    /// The defaults, with `overrides` over them.
    pub fn new(overrides: BTreeMap<SubscriptionStatus, bool>) -> Self {
        Self { overrides }
    }

    /// Whether a subscription in `status` keeps access.
    pub fn grants(&self, status: SubscriptionStatus) -> bool {
        use SubscriptionStatus::{Active, PastDue, Trialing};
        self.overrides
            .get(&status)
            .copied()
            .unwrap_or(matches!(status, Active | Trialing | PastDue))
    }
}
