//! The HTTP control interface under `/__mock/`: a path Kraken can never use, so any client
//! pointed at the simulator can also drive it.

use std::time::Duration;

use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{Method as HttpMethod, Request, Response, StatusCode};
use prime_core::endpoints::AssetKind;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::Permission;
use crate::account::CheckOrder;
use crate::account_keys::AccountKeySpec;
use crate::arguments::UnknownFields;
use crate::fault::{Fault, FaultKind};
use crate::ledger::Trade;
use crate::rate_limit::RateLimits;
use crate::response_body::MockBody;
use crate::response_body::json_response;
use crate::shared::Shared;

/// Largest control request body read.
const MAX_CONTROL_BODY: usize = 64 * 1024;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultRequest {
    /// The text form of a [`FaultKind`], e.g. `delay:250`.
    fault: String,
    method: Option<String>,
    times: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TradeRequest {
    asset: String,
    amount: String,
    asset_kind: Option<String>,
    id: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfirmRequest {
    batch_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NonceWindowRequest {
    api_key: String,
    window: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountKeyRequest {
    #[serde(default)]
    permissions: Vec<String>,
    otp: Option<String>,
    #[serde(default)]
    whitelisted_ips: Vec<String>,
}

/// `POST /__mock/rate-limit`: on or off, and any of the model's numbers (the others keep
/// their defaults).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RateLimitRequest {
    enabled: bool,
    max_calls: Option<u32>,
    decay_ms: Option<u64>,
    refused_calls_count: Option<bool>,
    lockout_after: Option<u32>,
    lockout_ms: Option<u64>,
    prolong_lockout: Option<bool>,
}

impl RateLimitRequest {
    fn limits(&self) -> Option<RateLimits> {
        if !self.enabled {
            return None;
        }
        let mut limits = RateLimits::default();
        if let Some(max) = self.max_calls {
            limits = limits.max_calls(max);
        }
        if let Some(ms) = self.decay_ms {
            limits = limits.decay(Duration::from_millis(ms));
        }
        if let Some(on) = self.refused_calls_count {
            limits = limits.refused_calls_count(on);
        }
        if let Some(after) = self.lockout_after {
            limits = limits.lockout_after(after);
        }
        if let Some(ms) = self.lockout_ms {
            limits = limits.lockout(Duration::from_millis(ms));
        }
        if let Some(on) = self.prolong_lockout {
            limits = limits.prolong_lockout(on);
        }
        Some(limits)
    }
}

/// `POST /__mock/check-order`: both switches, absent ones off.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckOrderRequest {
    #[serde(default)]
    allow_list_first: bool,
    #[serde(default)]
    arguments_before_permission: bool,
}

/// `POST /__mock/error-result`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ErrorResultRequest {
    result: bool,
}

/// `POST /__mock/unknown-fields`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UnknownFieldsRequest {
    unknown_fields: String,
}

/// The first allow-list entry that is not an IP address or CIDR range, described; the rule is
/// the core's (the one `UpdatePrimeApiUserKey` applies).
fn invalid_ip_entry(entries: &[String]) -> Option<String> {
    use prime_core::Endpoint as _;
    entries.iter().enumerate().find_map(|(i, entry)| {
        prime_core::endpoints::UpdateApiUserKey::new("U", "K")
            .whitelisted_ips([entry.as_str()])
            .validate()
            .err()
            .map(|_| {
                format!(
                    "whitelisted_ips: entry {i} ({entry:?}) is not an IP address or CIDR range \
                     (e.g. 203.0.113.7, 10.0.0.0/8, 2001:db8::/32)"
                )
            })
    })
}

fn reply(status: StatusCode, value: &serde_json::Value) -> Response<MockBody> {
    json_response(status, serde_json::to_vec(value).unwrap_or_default())
}

fn failure(status: StatusCode, message: &str) -> Response<MockBody> {
    reply(status, &serde_json::json!({ "error": message }))
}

async fn read_json<T: DeserializeOwned>(
    request: Request<Incoming>,
) -> Result<T, Response<MockBody>> {
    let bytes = Limited::new(request.into_body(), MAX_CONTROL_BODY)
        .collect()
        .await
        .map_err(|_| failure(StatusCode::BAD_REQUEST, "the body could not be read"))?
        .to_bytes();
    serde_json::from_slice(&bytes)
        .map_err(|e| failure(StatusCode::BAD_REQUEST, &format!("invalid JSON body: {e}")))
}

/// Handles one control request.
pub(crate) async fn handle(shared: &Shared, request: Request<Incoming>) -> Response<MockBody> {
    let route = request
        .uri()
        .path()
        .trim_start_matches("/__mock/")
        .to_owned();
    match (request.method().clone(), route.as_str()) {
        (HttpMethod::GET, "state") => reply(StatusCode::OK, &shared.simulator().snapshot()),
        // The latest `EAPI:Invalid signature` and the known mistake that reproduces it (or
        // `otp-missing`/`otp-wrong` for a right signature refused for its API 2FA password),
        // the latest `EAPI:Invalid nonce` with the key's high-water mark, or `null` before any.
        (HttpMethod::GET, "last-rejection") => {
            let last = shared
                .simulator()
                .last_rejection
                .as_ref()
                .map(crate::account::LastRejection::to_json);
            reply(StatusCode::OK, &last.unwrap_or(serde_json::Value::Null))
        }
        (HttpMethod::GET, "faults") => {
            let faults: Vec<_> = shared
                .faults()
                .pending()
                .iter()
                .map(|f| {
                    serde_json::json!({
                        "fault": f.kind().to_string(),
                        "method": f.method(),
                        "times": f.remaining(),
                    })
                })
                .collect();
            reply(StatusCode::OK, &serde_json::json!({ "faults": faults }))
        }
        (HttpMethod::POST, "faults") => {
            let spec: FaultRequest = match read_json(request).await {
                Ok(spec) => spec,
                Err(response) => return response,
            };
            let kind: FaultKind = match spec.fault.parse() {
                Ok(kind) => kind,
                Err(e) => return failure(StatusCode::BAD_REQUEST, &e.to_string()),
            };
            let mut fault = Fault::new(kind).times(spec.times.unwrap_or(1));
            if let Some(method) = spec.method {
                fault = fault.on(method);
            }
            let mut faults = shared.faults();
            faults.push(fault);
            reply(
                StatusCode::OK,
                &serde_json::json!({ "pending": faults.pending().len() }),
            )
        }
        (HttpMethod::DELETE, "faults") => reply(
            StatusCode::OK,
            &serde_json::json!({ "cleared": shared.faults().clear() }),
        ),
        (HttpMethod::POST, "trades") => {
            let spec: TradeRequest = match read_json(request).await {
                Ok(spec) => spec,
                Err(response) => return response,
            };
            let kind = spec
                .asset_kind
                .as_deref()
                .map_or(AssetKind::Currency, AssetKind::from);
            let mut trade = Trade::new(spec.asset, spec.amount, kind);
            trade.id = spec.id;
            match shared.simulator().try_add_trade(trade) {
                Ok(id) => reply(StatusCode::OK, &serde_json::json!({ "id": id })),
                Err(e) => failure(StatusCode::BAD_REQUEST, &e.to_string()),
            }
        }
        (HttpMethod::POST, "batches/confirm") => {
            let spec: ConfirmRequest = match read_json(request).await {
                Ok(spec) => spec,
                Err(response) => return response,
            };
            if shared.simulator().confirm_batch(&spec.batch_id) {
                reply(StatusCode::OK, &serde_json::json!({ "confirmed": true }))
            } else {
                failure(StatusCode::NOT_FOUND, "no such batch")
            }
        }
        (HttpMethod::POST, "transfers/complete") => reply(
            StatusCode::OK,
            &serde_json::json!({ "completed": shared.simulator().complete_transfers() }),
        ),
        (HttpMethod::POST, "nonce-window") => {
            let spec: NonceWindowRequest = match read_json(request).await {
                Ok(spec) => spec,
                Err(response) => return response,
            };
            if shared
                .simulator()
                .set_nonce_window(&spec.api_key, spec.window)
            {
                reply(
                    StatusCode::OK,
                    &serde_json::json!({ "window": spec.window }),
                )
            } else {
                failure(StatusCode::NOT_FOUND, "no such live key")
            }
        }
        (HttpMethod::POST, "account-keys") => {
            let spec: AccountKeyRequest = match read_json(request).await {
                Ok(spec) => spec,
                Err(response) => return response,
            };
            // A typo in a fixture must be named here, not turn into "Permission denied" on
            // every call the key makes later.
            if let Some(problem) = invalid_ip_entry(&spec.whitelisted_ips) {
                return failure(StatusCode::BAD_REQUEST, &problem);
            }
            let permissions: Result<Vec<Permission>, _> =
                spec.permissions.iter().map(|p| p.parse()).collect();
            let mut key_spec = match permissions {
                Ok(permissions) => {
                    AccountKeySpec::new(permissions).whitelisted_ips(spec.whitelisted_ips)
                }
                Err(e) => return failure(StatusCode::BAD_REQUEST, &e.to_string()),
            };
            if let Some(otp) = spec.otp {
                if let Err(e) = prime_core::Otp::password(&otp) {
                    return failure(StatusCode::BAD_REQUEST, &format!("otp: {e}"));
                }
                key_spec = key_spec.otp(otp);
            }
            let minted = shared.simulator().mint_account_key(&key_spec);
            reply(
                StatusCode::OK,
                &serde_json::json!({
                    "api_key": minted.api_key,
                    "api_secret": minted.api_secret.expose(),
                }),
            )
        }
        (HttpMethod::POST, "rate-limit") => {
            let spec: RateLimitRequest = match read_json(request).await {
                Ok(spec) => spec,
                Err(response) => return response,
            };
            let limits = spec.limits();
            let shown = limits.as_ref().map(RateLimits::to_json);
            shared.simulator().rate_limits = limits;
            reply(
                StatusCode::OK,
                &serde_json::json!({ "rate_limit": spec.enabled, "rate_limits": shown }),
            )
        }
        (HttpMethod::POST, "check-order") => {
            let spec: CheckOrderRequest = match read_json(request).await {
                Ok(spec) => spec,
                Err(response) => return response,
            };
            let order = CheckOrder::default()
                .allow_list_first(spec.allow_list_first)
                .arguments_before_permission(spec.arguments_before_permission);
            shared.simulator().check_order = order;
            reply(
                StatusCode::OK,
                &serde_json::json!({ "check_order": order.to_json() }),
            )
        }
        (HttpMethod::POST, "error-result") => {
            let spec: ErrorResultRequest = match read_json(request).await {
                Ok(spec) => spec,
                Err(response) => return response,
            };
            shared.set_error_result(spec.result);
            reply(
                StatusCode::OK,
                &serde_json::json!({ "result": spec.result }),
            )
        }
        (HttpMethod::POST, "unknown-fields") => {
            let spec: UnknownFieldsRequest = match read_json(request).await {
                Ok(spec) => spec,
                Err(response) => return response,
            };
            match spec.unknown_fields.parse::<UnknownFields>() {
                Ok(unknown) => {
                    shared.simulator().unknown_fields = unknown;
                    reply(
                        StatusCode::OK,
                        &serde_json::json!({ "unknown_fields": unknown.as_str() }),
                    )
                }
                Err(message) => failure(StatusCode::BAD_REQUEST, &message),
            }
        }
        _ => failure(StatusCode::NOT_FOUND, "unknown control route"),
    }
}
