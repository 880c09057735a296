//! The key permissions Kraken's endpoint pages name (`docs/spec/protocol.md`, "Who signs
//! what"): only the settlement endpoints name one.

use std::fmt;
use std::str::FromStr;

/// A Kraken API-key permission that a Prime REST endpoint documents
/// ([`Endpoint::PERMISSION`](super::Endpoint::PERMISSION)).
///
/// The settlement endpoints name these two; the user and key endpoints name none, so any
/// account key may call them. Text forms are Kraken's labels, e.g.
/// `Orders and trades - Query open orders & trades`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Permission {
    /// `Orders and trades - Query open orders & trades`: GetPrimeSettlementBatch and
    /// ListPrimeSettlementBatches.
    QueryOpenOrdersAndTrades,
    /// `Orders and trades - Create & modify orders`: CreatePrimeSettlementBatch and
    /// SettlePrimeSettlementBatchAsset.
    CreateAndModifyOrders,
}

impl Permission {
    /// Every permission an endpoint names.
    pub const ALL: [Permission; 2] = [
        Permission::QueryOpenOrdersAndTrades,
        Permission::CreateAndModifyOrders,
    ];

    /// Kraken's label for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::QueryOpenOrdersAndTrades => "Orders and trades - Query open orders & trades",
            Self::CreateAndModifyOrders => "Orders and trades - Create & modify orders",
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Text that is not one of the documented permission labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionParseError {
    text: String,
}

impl fmt::Display for PermissionParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown permission `{}`: expected `{}` or `{}`",
            self.text,
            Permission::QueryOpenOrdersAndTrades,
            Permission::CreateAndModifyOrders
        )
    }
}

impl std::error::Error for PermissionParseError {}

impl FromStr for Permission {
    type Err = PermissionParseError;

    /// ```
    /// use prime_core::endpoints::Permission;
    ///
    /// assert_eq!(
    ///     "Orders and trades - Query open orders & trades".parse(),
    ///     Ok(Permission::QueryOpenOrdersAndTrades)
    /// );
    /// assert!("Funds - Withdraw".parse::<Permission>().is_err());
    /// ```
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == text)
            .ok_or_else(|| PermissionParseError {
                text: text.to_owned(),
            })
    }
}
