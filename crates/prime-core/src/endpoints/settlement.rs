//! Settlement: batches of unsettled trades, one leg per asset, settled leg by leg.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::ArgumentError;
use super::argument::{check_id, check_word};
use super::shape::{Extra, endpoint, string_enum};

/// Largest `limit` `ListPrimeSettlementBatches` accepts.
pub const MAX_BATCH_LIMIT: u32 = 200;

string_enum! {
    /// Which positions a batch settles. Create documents `currency` (the default) and
    /// `tokenized_equity`; an older revision of Get/List documents a filter of `spot`, `option`
    /// and `future`. All are accepted here, since the spec itself is unsure.
    pub enum AssetKind {
        /// Fiat and cryptocurrency positions.
        Currency => "currency",
        /// Tokenized equity positions.
        TokenizedEquity => "tokenized_equity",
        /// Spot (older filter value).
        Spot => "spot",
        /// Options (older filter value).
        Option => "option",
        /// Futures (older filter value).
        Future => "future",
    }
}

string_enum! {
    /// A batch's settlement status.
    pub enum BatchStatus {
        /// No leg settled yet.
        Unsettled => "unsettled",
        /// Some legs settled.
        PartiallySettled => "partially_settled",
        /// Every leg settled.
        Settled => "settled",
        /// Settled and closed.
        Completed => "completed",
    }
}

string_enum! {
    /// A leg's status (only `unsettled` is documented; the others are what the simulator uses).
    pub enum LegStatus {
        /// Not settled.
        Unsettled => "unsettled",
        /// A transfer is under way.
        Pending => "pending",
        /// Settled.
        Settled => "settled",
    }
}

string_enum! {
    /// A settlement transfer's status (only `pending` is documented).
    pub enum TransferStatus {
        /// Initiated, not yet complete.
        Pending => "pending",
        /// Done.
        Completed => "completed",
        /// Failed.
        Failed => "failed",
    }
}

/// A decimal amount as the API sends it, e.g. `"1.5"` or `"-0.25"`: kept as text so that it
/// is exact. Never a float.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Amount(String);

impl Amount {
    /// Wraps decimal text as received (not validated: the server's text is kept as is).
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The exact text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A settlement batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettlementBatch {
    /// The batch id, e.g. `B_Y7T2LPVX`.
    pub id: String,
    /// Status and times.
    pub attributes: BatchAttributes,
    /// One leg per asset.
    #[serde(default)]
    pub legs: Vec<SettlementLeg>,
    /// The trades captured in the batch (newer API revisions only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trade_ids: Option<Vec<String>>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A batch's status and times. Times are Unix milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchAttributes {
    /// Settlement status.
    pub status: BatchStatus,
    /// Whether the batch is confirmed (required before settling).
    #[serde(default)]
    pub confirmed: bool,
    /// Creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<i64>,
    /// Number of trades in the batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trade_count: Option<u64>,
    /// Which positions it settles (newer revisions only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_kind: Option<AssetKind>,
    /// Last update time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<i64>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One asset's net position within a batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettlementLeg {
    /// Leg status.
    pub status: LegStatus,
    /// The asset, e.g. `BTC`.
    pub asset: String,
    /// Net amount, exact, as sent (Kraken's examples show positive amounts; whether a
    /// negative one can appear, or an older revision's `direction` field, is not documented:
    /// both would be kept, the latter in `extra`).
    pub amount: Amount,
    /// Whether `SettlePrimeSettlementBatchAsset` may settle it now.
    #[serde(default)]
    pub can_settle: bool,
    /// When it was settled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settled_at: Option<i64>,
    /// The latest transfer (shape undocumented; kept as JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_spot_transfer: Option<serde_json::Value>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The `result` of create and get: `{"batch": …}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchResult {
    /// The batch.
    pub batch: SettlementBatch,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `CreatePrimeSettlementBatch`: snapshots the unsettled trades of one asset kind into a batch
/// (one active batch per kind).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "deserialize-requests", derive(Deserialize))]
#[serde(deny_unknown_fields)]
pub struct CreateSettlementBatch {
    /// Which positions to include; Kraken defaults to `currency`. Omitted when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_kind: Option<AssetKind>,
}

impl CreateSettlementBatch {
    /// A request for the default asset kind.
    pub fn new() -> Self {
        Self::default()
    }

    /// Selects the asset kind.
    #[must_use]
    pub fn asset_kind(mut self, kind: AssetKind) -> Self {
        self.asset_kind = Some(kind);
        self
    }

    fn check(&self) -> Result<(), ArgumentError> {
        self.asset_kind
            .as_ref()
            .map_or(Ok(()), |k| check_word("asset_kind", k.as_str()))
    }
}

endpoint!(
    CreateSettlementBatch,
    "CreatePrimeSettlementBatch",
    NonIdempotent,
    BatchResult,
    CreateAndModifyOrders
);

/// `GetPrimeSettlementBatch`: one batch with its legs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "deserialize-requests", derive(Deserialize))]
#[serde(deny_unknown_fields)]
pub struct GetSettlementBatch {
    /// The batch to fetch.
    pub batch_id: String,
    /// Optional asset-kind filter, as the page documents it (its values there are `spot`,
    /// `option` and `future`, where batch creation documents `currency` and
    /// `tokenized_equity`; any [`AssetKind`] is sent as given). Omitted when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_kind: Option<AssetKind>,
}

impl GetSettlementBatch {
    /// A request for `batch_id`.
    pub fn new(batch_id: impl Into<String>) -> Self {
        Self {
            batch_id: batch_id.into(),
            asset_kind: None,
        }
    }

    /// Sets or clears the asset-kind filter.
    ///
    /// ```
    /// use prime_core::endpoints::{AssetKind, GetSettlementBatch};
    ///
    /// let request = GetSettlementBatch::new("B1").asset_kind(Some(AssetKind::Spot));
    /// assert_eq!(request.asset_kind.as_ref().map(AssetKind::as_str), Some("spot"));
    /// ```
    #[must_use]
    pub fn asset_kind(mut self, kind: Option<AssetKind>) -> Self {
        self.asset_kind = kind;
        self
    }

    fn check(&self) -> Result<(), ArgumentError> {
        check_id("batch_id", &self.batch_id)?;
        self.asset_kind
            .as_ref()
            .map_or(Ok(()), |k| check_word("asset_kind", k.as_str()))
    }
}

endpoint!(
    GetSettlementBatch,
    "GetPrimeSettlementBatch",
    Idempotent,
    BatchResult,
    QueryOpenOrdersAndTrades
);

/// `ListPrimeSettlementBatches`: batches, most recent first, filtered and paged.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "deserialize-requests", derive(Deserialize))]
#[serde(deny_unknown_fields)]
pub struct ListSettlementBatches {
    /// Only batches of this asset kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_kind: Option<AssetKind>,
    /// Only batches with one of these statuses (all when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statuses: Option<Vec<BatchStatus>>,
    /// Only batches created after this time (Unix ms, exclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<i64>,
    /// Only batches created at or before this time (Unix ms, inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<i64>,
    /// Page size: 1 to 200 (Kraken's default is 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Batches to skip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u32>,
}

impl ListSettlementBatches {
    /// A request with no filters (first page, Kraken's default size); narrow it with the
    /// setters.
    ///
    /// ```
    /// use prime_core::endpoints::{AssetKind, BatchStatus, ListSettlementBatches};
    ///
    /// let page = ListSettlementBatches::new()
    ///     .asset_kind(AssetKind::Currency)
    ///     .statuses([BatchStatus::Unsettled, BatchStatus::PartiallySettled])
    ///     .from(1_700_000_000_000)
    ///     .until(1_800_000_000_000)
    ///     .limit(50)
    ///     .offset(100);
    /// assert_eq!(page.limit, Some(50));
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Only batches of this asset kind.
    #[must_use]
    pub fn asset_kind(mut self, kind: AssetKind) -> Self {
        self.asset_kind = Some(kind);
        self
    }

    /// Only batches with one of these statuses.
    #[must_use]
    pub fn statuses(mut self, statuses: impl IntoIterator<Item = BatchStatus>) -> Self {
        self.statuses = Some(statuses.into_iter().collect());
        self
    }

    /// Only batches created after this time (Unix milliseconds, exclusive).
    #[must_use]
    pub fn from(mut self, unix_ms: i64) -> Self {
        self.from = Some(unix_ms);
        self
    }

    /// Only batches created at or before this time (Unix milliseconds, inclusive).
    #[must_use]
    pub fn until(mut self, unix_ms: i64) -> Self {
        self.until = Some(unix_ms);
        self
    }

    /// Page size, 1 to [`MAX_BATCH_LIMIT`].
    #[must_use]
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// How many batches to skip.
    #[must_use]
    pub fn offset(mut self, offset: u32) -> Self {
        self.offset = Some(offset);
        self
    }

    fn check(&self) -> Result<(), ArgumentError> {
        if let Some(kind) = &self.asset_kind {
            check_word("asset_kind", kind.as_str())?;
        }
        for status in self.statuses.iter().flatten() {
            check_word("statuses", status.as_str())?;
        }
        if let Some(limit) = self.limit
            && !(1..=MAX_BATCH_LIMIT).contains(&limit)
        {
            return Err(ArgumentError::new(
                "limit",
                format!("is {limit}; it must be between 1 and {MAX_BATCH_LIMIT}"),
            ));
        }
        for (field, time) in [("from", self.from), ("until", self.until)] {
            if time.is_some_and(|t| t < 0) {
                return Err(ArgumentError::new(
                    field,
                    "must be Unix milliseconds, not negative",
                ));
            }
        }
        if let (Some(from), Some(until)) = (self.from, self.until)
            && from > until
        {
            return Err(ArgumentError::new("from", "must not be later than `until`"));
        }
        Ok(())
    }
}

endpoint!(
    ListSettlementBatches,
    "ListPrimeSettlementBatches",
    Idempotent,
    BatchList,
    QueryOpenOrdersAndTrades
);

/// The `result` of `ListPrimeSettlementBatches`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchList {
    /// The page of batches.
    #[serde(default)]
    pub data: Vec<SettlementBatch>,
    /// Paging state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pagination: Option<Pagination>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Paging state of a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pagination {
    /// Whether more batches follow.
    #[serde(default)]
    pub has_more: bool,
    /// The page size used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// The offset used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u32>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `SettlePrimeSettlementBatchAsset`: starts settling one asset's leg. The batch must be
/// confirmed and the leg must have `can_settle`.
///
/// Not idempotent: never resent once it may have reached Kraken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "deserialize-requests", derive(Deserialize))]
#[serde(deny_unknown_fields)]
pub struct SettleSettlementBatchAsset {
    /// The batch.
    pub batch_id: String,
    /// The asset whose leg to settle, e.g. `BTC`.
    pub asset: String,
}

impl SettleSettlementBatchAsset {
    /// A request to settle `asset` in `batch_id`.
    pub fn new(batch_id: impl Into<String>, asset: impl Into<String>) -> Self {
        Self {
            batch_id: batch_id.into(),
            asset: asset.into(),
        }
    }

    fn check(&self) -> Result<(), ArgumentError> {
        check_id("batch_id", &self.batch_id)?;
        check_id("asset", &self.asset)
    }
}

endpoint!(
    SettleSettlementBatchAsset,
    "SettlePrimeSettlementBatchAsset",
    NonIdempotent,
    TransferResult,
    CreateAndModifyOrders
);

/// The `result` of `SettlePrimeSettlementBatchAsset`: `{"transfer": …}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransferResult {
    /// The transfer that was started.
    pub transfer: SettlementTransfer,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A settlement transfer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettlementTransfer {
    /// The transfer id.
    pub id: String,
    /// Status, amount and asset.
    pub attributes: TransferAttributes,
    /// The leg it settles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relationships: Option<TransferRelationships>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A transfer's status, amount and asset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransferAttributes {
    /// Status (`transfer_status` on the wire).
    #[serde(rename = "transfer_status")]
    pub status: TransferStatus,
    /// Amount, exact (`transfer_amount` on the wire).
    #[serde(rename = "transfer_amount")]
    pub amount: Amount,
    /// Asset (`transfer_asset` on the wire).
    #[serde(rename = "transfer_asset")]
    pub asset: String,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// What a transfer relates to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransferRelationships {
    /// The leg being settled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leg: Option<SettlementLeg>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}
