//! Settlement: unsettled trades, batches with one leg per asset, and transfers.
//!
//! Lifecycle (the spec documents the status names, not the transitions; these are the
//! simulator's):
//!
//! - `CreatePrimeSettlementBatch` moves every unsettled trade of one asset kind into a new
//!   batch, one leg per asset carrying the exact net amount. A leg that nets to zero has
//!   nothing to move and starts `settled`. One batch per asset kind may be *active*
//!   (`unsettled` or `partially_settled`) at a time.
//! - The batch is confirmed out of band ([`crate::MockServer::confirm_batch`] or
//!   `POST /__mock/batches/confirm`), as a counterparty would.
//! - `SettlePrimeSettlementBatchAsset` needs a confirmed batch and a leg with `can_settle`
//!   (an `unsettled` leg); it starts a `pending` transfer and the leg turns `pending`.
//! - [`crate::MockServer::complete_transfers`] completes pending transfers; their legs turn
//!   `settled`.
//! - Batch status: `unsettled` until a leg starts; `partially_settled` while some legs have
//!   not started; `settled` when every leg has started; `completed` when every leg is
//!   `settled`. Zero legs do not count as started, so a fresh batch is `unsettled`.

use std::fmt;

use prime_core::endpoints::{
    Amount, AssetKind, BatchAttributes, BatchList, BatchResult, BatchStatus, CreateSettlementBatch,
    Extra, GetSettlementBatch, LegStatus, ListSettlementBatches, MAX_BATCH_LIMIT, Pagination,
    SettleSettlementBatchAsset, SettlementBatch, SettlementLeg, SettlementTransfer,
    TransferAttributes, TransferRelationships, TransferResult, TransferStatus,
};

use crate::decimal::{Decimal, DecimalError};
use crate::simulator::{Rejection, Simulator, invalid, success};

use crate::errors::{
    ACTIVE_BATCH_EXISTS, BATCH_NOT_CONFIRMED, LEG_NOT_SETTLEABLE, NO_UNSETTLED_TRADES,
};

/// Kraken's default page size for `ListPrimeSettlementBatches`.
const DEFAULT_BATCH_LIMIT: u32 = 50;

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
    /// before and 18 after the point; no exponent).
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

fn is_word(text: &str, max: usize) -> bool {
    !text.is_empty() && text.len() <= max && text.bytes().all(|b| b.is_ascii_graphic())
}

pub(crate) struct UnsettledTrade {
    id: String,
    asset: String,
    amount: Decimal,
    asset_kind: AssetKind,
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
    asset: String,
    amount: Decimal,
    status: LegStatus,
    settled_at: Option<i64>,
    /// Index into the transfers.
    transfer: Option<usize>,
}

pub(crate) struct Batch {
    pub(crate) id: String,
    asset_kind: AssetKind,
    confirmed: bool,
    created_at: i64,
    updated_at: i64,
    legs: Vec<Leg>,
    trade_ids: Vec<String>,
}

impl Batch {
    fn status(&self) -> BatchStatus {
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

    fn is_active(&self) -> bool {
        matches!(
            self.status(),
            BatchStatus::Unsettled | BatchStatus::PartiallySettled
        )
    }
}

pub(crate) struct Transfer {
    id: String,
    batch: usize,
    leg: usize,
    status: TransferStatus,
}

/// The documented batch statuses only; the core keeps unknown ones as `Other`.
fn known_status(status: &BatchStatus) -> bool {
    !matches!(status, BatchStatus::Other(_))
}

impl Simulator {
    /// A few trades of both kinds, so a fresh simulator can batch and settle at once.
    pub(crate) fn seed_trades(&mut self) {
        let trades = [
            ("BTC", "1.5", AssetKind::Currency),
            ("BTC", "-0.25", AssetKind::Currency),
            ("ETH", "12.75", AssetKind::Currency),
            ("USD", "-45000.5", AssetKind::Currency),
            ("USD", "1200.25", AssetKind::Currency),
            ("AAPLx", "3", AssetKind::TokenizedEquity),
            ("AAPLx", "0.5", AssetKind::TokenizedEquity),
            ("TSLAx", "-1.5", AssetKind::TokenizedEquity),
        ];
        for (asset, amount, kind) in trades {
            // Constants that parse; an error here would only drop a demo trade.
            let _ = self.try_add_trade(Trade::new(asset, amount, kind));
        }
    }

    /// Validates and records an unsettled trade; returns its id.
    pub(crate) fn try_add_trade(&mut self, trade: Trade) -> Result<String, TradeError> {
        if !is_word(&trade.asset, 32) {
            return Err(TradeError::Asset);
        }
        let amount = Decimal::parse(&trade.amount)
            .map_err(|e: DecimalError| TradeError::Amount(e.to_string()))?;
        if !matches!(
            trade.asset_kind,
            AssetKind::Currency | AssetKind::TokenizedEquity
        ) {
            return Err(TradeError::AssetKind(trade.asset_kind.to_string()));
        }
        let id = match trade.id {
            Some(id) => {
                let used = self.trades.iter().any(|t| t.id == id)
                    || self.batches.iter().any(|b| b.trade_ids.contains(&id));
                if !is_word(&id, 128) || used {
                    return Err(TradeError::Id);
                }
                id
            }
            None => self.ids.trade_id(),
        };
        self.trades.push(UnsettledTrade {
            id: id.clone(),
            asset: trade.asset,
            amount,
            asset_kind: trade.asset_kind,
        });
        Ok(id)
    }

    /// Confirms a batch (idempotent); `false` if there is no such batch.
    pub(crate) fn confirm_batch(&mut self, batch_id: &str) -> bool {
        let now = self.clock.now_ms();
        let Some(batch) = self.batches.iter_mut().find(|b| b.id == batch_id) else {
            return false;
        };
        if !batch.confirmed {
            batch.confirmed = true;
            batch.updated_at = now;
        }
        true
    }

    /// Completes every pending transfer; returns how many.
    pub(crate) fn complete_transfers(&mut self) -> usize {
        let now = self.clock.now_ms();
        let mut completed = 0;
        for transfer in &mut self.transfers {
            if transfer.status != TransferStatus::Pending {
                continue;
            }
            transfer.status = TransferStatus::Completed;
            let batch = &mut self.batches[transfer.batch];
            let leg = &mut batch.legs[transfer.leg];
            leg.status = LegStatus::Settled;
            leg.settled_at = Some(now);
            batch.updated_at = now;
            completed += 1;
        }
        completed
    }

    pub(crate) fn create_settlement_batch(
        &mut self,
        args: CreateSettlementBatch,
    ) -> Result<Vec<u8>, Rejection> {
        let kind = args.asset_kind.clone().unwrap_or(AssetKind::Currency);
        if !matches!(kind, AssetKind::Currency | AssetKind::TokenizedEquity) {
            return Err(invalid("asset_kind"));
        }
        if self
            .batches
            .iter()
            .any(|b| b.asset_kind == kind && b.is_active())
        {
            return Err(ACTIVE_BATCH_EXISTS.to_owned());
        }
        if !self.trades.iter().any(|t| t.asset_kind == kind) {
            return Err(NO_UNSETTLED_TRADES.to_owned());
        }
        // Net per asset before anything moves, so an overflow leaves the trades in place.
        let mut legs: Vec<(String, Decimal)> = Vec::new();
        for trade in self.trades.iter().filter(|t| t.asset_kind == kind) {
            match legs.iter_mut().find(|(asset, _)| *asset == trade.asset) {
                Some((_, total)) => {
                    *total = total
                        .checked_add(trade.amount)
                        .map_err(|_| prime_core::ErrorCode::InternalError.as_str().to_owned())?;
                }
                None => legs.push((trade.asset.clone(), trade.amount)),
            }
        }
        legs.sort_by(|a, b| a.0.cmp(&b.0));
        let (batched, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.trades)
            .into_iter()
            .partition(|t| t.asset_kind == kind);
        self.trades = kept;
        let now = self.clock.now_ms();
        let batch = Batch {
            id: self.new_batch_id(),
            asset_kind: kind,
            confirmed: false,
            created_at: now,
            updated_at: now,
            legs: legs
                .into_iter()
                .map(|(asset, amount)| {
                    let nothing_to_move = amount.is_zero();
                    Leg {
                        asset,
                        amount,
                        status: if nothing_to_move {
                            LegStatus::Settled
                        } else {
                            LegStatus::Unsettled
                        },
                        settled_at: nothing_to_move.then_some(now),
                        transfer: None,
                    }
                })
                .collect(),
            trade_ids: batched.into_iter().map(|t| t.id).collect(),
        };
        let body = success(&BatchResult {
            batch: self.batch_to_api(&batch),
            extra: Extra::new(),
        });
        self.batches.push(batch);
        Ok(body)
    }

    /// The batch `batch_id`, if it exists and matches the optional kind filter.
    fn find_batch(&self, batch_id: &str, kind: Option<&AssetKind>) -> Result<usize, Rejection> {
        self.batches
            .iter()
            .position(|b| b.id == batch_id && kind.is_none_or(|k| *k == b.asset_kind))
            .ok_or_else(|| invalid("batch_id"))
    }

    pub(crate) fn get_settlement_batch(
        &self,
        args: GetSettlementBatch,
    ) -> Result<Vec<u8>, Rejection> {
        let batch = self.find_batch(&args.batch_id, args.asset_kind.as_ref())?;
        Ok(success(&BatchResult {
            batch: self.batch_to_api(&self.batches[batch]),
            extra: Extra::new(),
        }))
    }

    /// Most recent first (creation times strictly increase, so that is reverse creation order).
    pub(crate) fn list_settlement_batches(
        &self,
        args: ListSettlementBatches,
    ) -> Result<Vec<u8>, Rejection> {
        if args
            .asset_kind
            .as_ref()
            .is_some_and(|k| matches!(k, AssetKind::Other(_)))
        {
            return Err(invalid("asset_kind"));
        }
        if args.statuses.iter().flatten().any(|s| !known_status(s)) {
            return Err(invalid("statuses"));
        }
        let limit = args
            .limit
            .unwrap_or(DEFAULT_BATCH_LIMIT)
            .min(MAX_BATCH_LIMIT);
        let offset = args.offset.unwrap_or(0);
        let matching: Vec<&Batch> = self
            .batches
            .iter()
            .rev()
            .filter(|b| args.asset_kind.as_ref().is_none_or(|k| *k == b.asset_kind))
            .filter(|b| {
                args.statuses
                    .as_ref()
                    .is_none_or(|statuses| statuses.contains(&b.status()))
            })
            .filter(|b| args.from.is_none_or(|from| b.created_at > from))
            .filter(|b| args.until.is_none_or(|until| b.created_at <= until))
            .collect();
        let page: Vec<SettlementBatch> = matching
            .iter()
            .skip(offset as usize)
            .take(limit as usize)
            .map(|b| self.batch_to_api(b))
            .collect();
        let has_more = (offset as usize).saturating_add(page.len()) < matching.len();
        Ok(success(&BatchList {
            data: page,
            pagination: Some(Pagination {
                has_more,
                limit: Some(limit),
                offset: Some(offset),
                extra: Extra::new(),
            }),
            extra: Extra::new(),
        }))
    }

    pub(crate) fn settle_settlement_batch_asset(
        &mut self,
        args: SettleSettlementBatchAsset,
    ) -> Result<Vec<u8>, Rejection> {
        let batch_index = self.find_batch(&args.batch_id, None)?;
        let batch = &self.batches[batch_index];
        let leg_index = batch
            .legs
            .iter()
            .position(|l| l.asset == args.asset)
            .ok_or_else(|| invalid("asset"))?;
        if !batch.confirmed {
            return Err(BATCH_NOT_CONFIRMED.to_owned());
        }
        if batch.legs[leg_index].status != LegStatus::Unsettled {
            return Err(LEG_NOT_SETTLEABLE.to_owned());
        }
        let now = self.clock.now_ms();
        // Transfer ids count up from the documented example's `100`.
        let transfer_index = self.transfers.len();
        self.transfers.push(Transfer {
            id: (100 + transfer_index).to_string(),
            batch: batch_index,
            leg: leg_index,
            status: TransferStatus::Pending,
        });
        let batch = &mut self.batches[batch_index];
        batch.updated_at = now;
        let leg = &mut batch.legs[leg_index];
        leg.status = LegStatus::Pending;
        leg.transfer = Some(transfer_index);
        Ok(success(&TransferResult {
            transfer: self.transfer_to_api(&self.transfers[transfer_index]),
            extra: Extra::new(),
        }))
    }

    pub(crate) fn batch_to_api(&self, batch: &Batch) -> SettlementBatch {
        SettlementBatch {
            id: batch.id.clone(),
            attributes: BatchAttributes {
                status: batch.status(),
                confirmed: batch.confirmed,
                created_at: Some(batch.created_at),
                trade_count: Some(batch.trade_ids.len() as u64),
                asset_kind: Some(batch.asset_kind.clone()),
                updated_at: Some(batch.updated_at),
                extra: Extra::new(),
            },
            legs: batch.legs.iter().map(|l| self.leg_to_api(l)).collect(),
            trade_ids: Some(batch.trade_ids.clone()),
            extra: Extra::new(),
        }
    }

    fn leg_to_api(&self, leg: &Leg) -> SettlementLeg {
        // The spec always shows `latest_spot_transfer` ({} when there is none); its inner shape
        // is undocumented, so the simulator mirrors the transfer's attributes.
        let latest = leg.transfer.map_or_else(
            || serde_json::json!({}),
            |t| {
                let transfer = &self.transfers[t];
                serde_json::json!({
                    "id": transfer.id,
                    "transfer_status": transfer.status.as_str(),
                    "transfer_amount": leg.amount.to_string(),
                    "transfer_asset": leg.asset,
                })
            },
        );
        SettlementLeg {
            status: leg.status.clone(),
            asset: leg.asset.clone(),
            amount: Amount::new(leg.amount.to_string()),
            can_settle: leg.status == LegStatus::Unsettled,
            settled_at: leg.settled_at,
            latest_spot_transfer: Some(latest),
            extra: Extra::new(),
        }
    }

    fn transfer_to_api(&self, transfer: &Transfer) -> SettlementTransfer {
        let leg = &self.batches[transfer.batch].legs[transfer.leg];
        SettlementTransfer {
            id: transfer.id.clone(),
            attributes: TransferAttributes {
                status: transfer.status.clone(),
                amount: Amount::new(leg.amount.to_string()),
                asset: leg.asset.clone(),
                extra: Extra::new(),
            },
            relationships: Some(TransferRelationships {
                leg: Some(self.leg_to_api(leg)),
                extra: Extra::new(),
            }),
            extra: Extra::new(),
        }
    }

    pub(crate) fn transfer_to_json(&self, transfer: &Transfer) -> serde_json::Value {
        let batch = &self.batches[transfer.batch];
        let leg = &batch.legs[transfer.leg];
        serde_json::json!({
            "id": transfer.id,
            "batch_id": batch.id,
            "asset": leg.asset,
            "amount": leg.amount.to_string(),
            "status": transfer.status.as_str(),
        })
    }
}
