//! The error strings the simulator chooses where Kraken documents none. Kraken's own strings
//! come from `prime_core::ErrorCode::as_str`; these use only Kraken's documented categories
//! (General, Auth, API, Query, Order, Trade, Funding, Service). The crate docs list them.

/// An unknown path under `/0/private/` (undocumented for Prime; with HTTP 404).
pub(crate) const UNKNOWN_METHOD: &str = "EGeneral:Unknown method";
/// A second batch while one of the same kind is still active.
pub(crate) const ACTIVE_BATCH_EXISTS: &str = "ETrade:Active batch exists";
/// A batch of a kind that has no unsettled trades.
pub(crate) const NO_UNSETTLED_TRADES: &str = "ETrade:No unsettled trades";
/// Settling before the batch is confirmed.
pub(crate) const BATCH_NOT_CONFIRMED: &str = "EFunding:Batch not confirmed";
/// Settling a leg whose `can_settle` is false (already pending or settled).
pub(crate) const LEG_NOT_SETTLEABLE: &str = "EFunding:Leg not settleable";

/// Every chosen string, for the test that keeps them inside the documented categories.
#[cfg(test)]
pub(crate) const ALL: [&str; 5] = [
    UNKNOWN_METHOD,
    ACTIVE_BATCH_EXISTS,
    NO_UNSETTLED_TRADES,
    BATCH_NOT_CONFIRMED,
    LEG_NOT_SETTLEABLE,
];

#[cfg(test)]
mod tests {
    #[test]
    fn chosen_strings_use_documented_categories() {
        const CATEGORIES: [&str; 8] = [
            "General", "Auth", "API", "Query", "Order", "Trade", "Funding", "Service",
        ];
        for text in super::ALL {
            let category = text[1..].split(':').next().unwrap_or_default();
            assert!(text.starts_with('E'), "{text}");
            assert!(CATEGORIES.contains(&category), "{text}");
            // The crate docs list every one of them.
            assert!(
                include_str!("lib.rs").contains(text),
                "{text} missing from the docs"
            );
        }
    }
}
