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

use prime_core::endpoints::{
    Amount, AssetKind, BatchAttributes, BatchList, BatchResult, BatchStatus, CreateSettlementBatch,
    Extra, GetSettlementBatch, LegStatus, ListSettlementBatches, MAX_BATCH_LIMIT, Pagination,
    SettleSettlementBatchAsset, SettlementBatch, SettlementLeg, SettlementTransfer,
    TransferAttributes, TransferRelationships, TransferResult, TransferStatus,
};

use crate::account::{Account, Rejection, invalid, success};
use crate::decimal::{Decimal, DecimalError};
use crate::ledger::{Batch, Leg, Trade, TradeError, Transfer, UnsettledTrade, is_word};

use crate::errors::{
    ACTIVE_BATCH_EXISTS, BATCH_NOT_CONFIRMED, LEG_NOT_SETTLEABLE, NO_UNSETTLED_TRADES,
};

/// Kraken's default page size for `ListPrimeSettlementBatches`.
const DEFAULT_BATCH_LIMIT: u32 = 50;

/// The documented batch statuses only; the core keeps unknown ones as `Other`.
fn known_status(status: &BatchStatus) -> bool {
    !matches!(status, BatchStatus::Other(_))
}

impl Account {
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
