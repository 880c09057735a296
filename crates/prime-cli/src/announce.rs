//! Long waits are announced on stderr: when the client is about to wait a second or more
//! before trying a call again (a rate limit, a throttle, a backoff), `prime` says why, for how
//! long and until when, in human terms. The wait itself is bounded by `--timeout`
//! ([`crate::budget`]).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// Waits shorter than this pass silently (a quick backoff is not news).
const ANNOUNCE_FROM: Duration = Duration::from_secs(1);

/// The layer that watches the call driver's `retrying` events.
pub struct LongWaits;

#[derive(Default)]
struct Retrying {
    is_retry: bool,
    after_ms: Option<u64>,
    reason: String,
}

impl Visit for Retrying {
    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "after_ms" {
            self.after_ms = Some(value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => self.is_retry = format!("{value:?}") == "retrying",
            "reason" => self.reason = format!("{value:?}"),
            _ => {}
        }
    }
}

/// The endpoint a call span (`prime_call`) is about, kept in the span's extensions.
struct Endpoint(String);

#[derive(Default)]
struct EndpointField(Option<String>);

impl Visit for EndpointField {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "endpoint" {
            self.0 = Some(value.to_owned());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "endpoint" {
            self.0 = Some(format!("{value:?}").trim_matches('"').to_owned());
        }
    }
}

impl<S> Layer<S> for LongWaits
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: Context<'_, S>,
    ) {
        let mut endpoint = EndpointField::default();
        attrs.record(&mut endpoint);
        if let (Some(name), Some(span)) = (endpoint.0, ctx.span(id)) {
            span.extensions_mut().insert(Endpoint(name));
        }
    }

    fn on_event(&self, event: &tracing::Event<'_>, ctx: Context<'_, S>) {
        if !event.metadata().target().starts_with("prime_core") {
            return;
        }
        let mut seen = Retrying::default();
        event.record(&mut seen);
        let Some(after_ms) = seen.after_ms.filter(|_| seen.is_retry) else {
            return;
        };
        let wait = Duration::from_millis(after_ms);
        if wait < ANNOUNCE_FROM {
            return;
        }
        // The call's name from its span, else from what the command said it was calling.
        let call = ctx
            .event_scope(event)
            .and_then(|scope| {
                scope
                    .into_iter()
                    .find_map(|span| span.extensions().get::<Endpoint>().map(|e| e.0.clone()))
            })
            .or_else(crate::activity::current_call)
            .unwrap_or_else(|| "the call".to_owned());
        crate::output::stderr(&format!(
            "prime: {}\n",
            message(&call, &seen.reason, wait, now_unix())
        ));
    }
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `CreatePrimeApiUserKey was throttled by Kraken: waiting 12 s, until 09:31:07 UTC (in 12 s),
/// then trying again (within --timeout)`.
fn message(call: &str, reason: &str, wait: Duration, now: u64) -> String {
    let why = match reason {
        "Throttled" => "throttled by Kraken",
        "RateLimited" => "refused for rate (rate limit)",
        "LockedOut" => "refused: the key is locked out",
        "InvalidNonce" => "refused for its nonce",
        "NotSent" => "not sent",
        _ => "not answered",
    };
    let until = now + wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    format!(
        "{call} was {why}: waiting {}, until {}, then trying again (within --timeout)",
        crate::clock::seconds(wait),
        crate::clock::human_time(until, now)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_wait_is_said_in_human_terms() {
        let now = 1_796_288_400; // 2026-12-03 09:00:00 UTC
        for (reason, words) in [
            ("Throttled", "throttled"),
            ("RateLimited", "rate limit"),
            ("Transient", "not answered"),
        ] {
            let text = message("ListPrimeApiUsers", reason, Duration::from_secs(3600), now);
            assert!(text.contains(words), "{text}");
            assert!(text.contains("10:00:00 UTC (in 1 h 0 min)"), "{text}");
            assert!(!text.contains("1796"), "no raw Unix time: {text}");
        }
    }
}
