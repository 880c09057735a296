//! The settlement ledger: unsettled trades, batches with one leg per asset, and transfers —
//! the state the settlement calls read and change.

use std::fmt;

use prime_core::endpoints::{AssetKind, BatchStatus, LegStatus, TransferStatus};

use crate::decimal::Decimal;

/// An unsettled trade to add to the simulator ([`crate::MockServer::add_trade`]).
///
/// ```
/// use prime_core::endpoints::AssetKind;
/// use prime_mock::Trade;
///
/// let trade = Trade::new("BTC", "-0.125", AssetKind::Currency).with_id("my-trade-1");
/// assert_eq!(trade.amount, "-0.125");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trade {
    /// The asset, e.g. `BTC` (printable ASCII, no spaces, at most 32 bytes).
    pub asset: String,
    /// The signed amount as exact decimal text, e.g. `1.5` or `-0.25` (at most 15 digits
    /// before and 18 after the point; no exponent). Signed amounts, and legs carrying their
    /// signed net sum, are the simulator's model: Kraken's examples show positive amounts
    /// (an older revision adds a leg `direction`).
    pub amount: String,
    /// `currency` or `tokenized_equity`: the kinds a batch can be created for.
    pub asset_kind: AssetKind,
    /// The trade id; a UUID is drawn when `None`.
    pub id: Option<String>,
}

impl Trade {
    /// A trade of `amount` of `asset` with a generated id.
    pub fn new(asset: impl Into<String>, amount: impl Into<String>, asset_kind: AssetKind) -> Self {
        Self {
            asset: asset.into(),
            amount: amount.into(),
            asset_kind,
            id: None,
        }
    }

    /// Uses `id` instead of a generated one.
    #[must_use]
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }
}

/// Why [`crate::MockServer::try_add_trade`] refused a trade.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TradeError {
    /// The asset is empty, too long, or has spaces or non-ASCII characters.
    Asset,
    /// The amount is not exact decimal text within range.
    Amount(String),
    /// Only `currency` and `tokenized_equity` trades can be batched.
    AssetKind(String),
    /// The id is empty, too long, has spaces, or is already used.
    Id,
}

impl fmt::Display for TradeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Asset => f.write_str(
                "the asset must be 1 to 32 printable ASCII characters without spaces",
            ),
            Self::Amount(reason) => write!(f, "the amount is invalid: {reason}"),
            Self::AssetKind(kind) => write!(
                f,
                "asset kind `{kind}` cannot be batched: use currency or tokenized_equity"
            ),
            Self::Id => f.write_str(
                "the trade id must be 1 to 128 printable ASCII characters without spaces, and unused",
            ),
        }
    }
}

impl std::error::Error for TradeError {}

pub(crate) fn is_word(text: &str, max: usize) -> bool {
    !text.is_empty() && text.len() <= max && text.bytes().all(|b| b.is_ascii_graphic())
}

pub(crate) struct UnsettledTrade {
    pub(crate) id: String,
    pub(crate) asset: String,
    pub(crate) amount: Decimal,
    pub(crate) asset_kind: AssetKind,
}

impl UnsettledTrade {
    pub(crate) fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "asset": self.asset,
            "amount": self.amount.to_string(),
            "asset_kind": self.asset_kind.as_str(),
        })
    }
}

pub(crate) struct Leg {
    pub(crate) asset: String,
    pub(crate) amount: Decimal,
    pub(crate) status: LegStatus,
    pub(crate) settled_at: Option<i64>,
    /// Index into the transfers.
    pub(crate) transfer: Option<usize>,
}

pub(crate) struct Batch {
    pub(crate) id: String,
    pub(crate) asset_kind: AssetKind,
    pub(crate) confirmed: bool,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
    pub(crate) legs: Vec<Leg>,
    pub(crate) trade_ids: Vec<String>,
}

impl Batch {
    pub(crate) fn status(&self) -> BatchStatus {
        // Legs that net to zero start settled; they do not make a fresh batch look started.
        let to_move = self.legs.iter().filter(|l| !l.amount.is_zero());
        let (moving, started) = to_move.fold((0, 0), |(moving, started), leg| {
            (
                moving + 1,
                started + usize::from(leg.status != LegStatus::Unsettled),
            )
        });
        if self.legs.iter().all(|l| l.status == LegStatus::Settled) {
            BatchStatus::Completed
        } else if started == moving {
            BatchStatus::Settled
        } else if started > 0 {
            BatchStatus::PartiallySettled
        } else {
            BatchStatus::Unsettled
        }
    }

    pub(crate) fn is_active(&self) -> bool {
        matches!(
            self.status(),
            BatchStatus::Unsettled | BatchStatus::PartiallySettled
        )
    }
}

pub(crate) struct Transfer {
    pub(crate) id: String,
    pub(crate) batch: usize,
    pub(crate) leg: usize,
    pub(crate) status: TransferStatus,
}
