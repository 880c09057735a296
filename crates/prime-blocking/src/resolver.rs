//! A name resolver that reuses its last lookup for a short while.
//!
//! ureq 3 resolves the host of *every* call, before it looks for a kept-alive connection to
//! reuse, and when a timeout applies (this crate always sets one) it does so on a newly
//! spawned thread. On loopback that alone quadrupled the cost of a call; against a real host
//! it is a DNS lookup per request. The answer is only used when a new connection is opened,
//! so reusing a recent one changes nothing else.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// How long a lookup is reused: short enough to follow DNS changes for new connections,
/// long enough that a steady stream of calls does no lookups.
const REUSE_FOR: Duration = Duration::from_secs(30);

/// Remembers the last successful lookup (one client talks to one host) and answers from it
/// while it is younger than [`REUSE_FOR`]; failures are not remembered.
#[derive(Debug)]
pub(crate) struct CachedResolver<R = DefaultResolver> {
    inner: R,
    reuse_for: Duration,
    last: Mutex<Option<Lookup>>,
}

#[derive(Debug)]
struct Lookup {
    /// `scheme://authority` of the URI that was resolved.
    origin: String,
    at: Instant,
    addrs: ResolvedSocketAddrs,
}

impl Default for CachedResolver {
    fn default() -> Self {
        Self::new(DefaultResolver::default(), REUSE_FOR)
    }
}

impl<R: Resolver> CachedResolver<R> {
    fn new(inner: R, reuse_for: Duration) -> Self {
        Self {
            inner,
            reuse_for,
            last: Mutex::new(None),
        }
    }
}

/// Whether `origin` (`scheme://authority`, the part of a URI that decides its addresses) is
/// the origin of `uri`.
fn is_origin_of(origin: &str, uri: &Uri) -> bool {
    let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
        return false;
    };
    origin
        .strip_prefix(scheme)
        .and_then(|rest| rest.strip_prefix("://"))
        .is_some_and(|rest| rest == authority.as_str())
}

impl<R: Resolver> Resolver for CachedResolver<R> {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        {
            // A poisoned lock only means a panic elsewhere; the cached value is still whole.
            let last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(lookup) = &*last
                && is_origin_of(&lookup.origin, uri)
                && lookup.at.elapsed() < self.reuse_for
            {
                return Ok(lookup.addrs.clone());
            }
        }
        let addrs = self.inner.resolve(uri, config, timeout)?;
        if let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) {
            *self.last.lock().unwrap_or_else(PoisonError::into_inner) = Some(Lookup {
                origin: format!("{scheme}://{authority}"),
                at: Instant::now(),
                addrs: addrs.clone(),
            });
        }
        Ok(addrs)
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Answers every lookup with one address whose port counts the lookups made.
    #[derive(Debug, Default)]
    struct CountingResolver(AtomicUsize);

    impl Resolver for CountingResolver {
        fn resolve(
            &self,
            _uri: &Uri,
            _config: &Config,
            _timeout: NextTimeout,
        ) -> Result<ResolvedSocketAddrs, ureq::Error> {
            let lookups = self.0.fetch_add(1, Ordering::SeqCst) + 1;
            let mut addrs = self.empty();
            addrs.push(SocketAddr::from(([127, 0, 0, 1], lookups as u16)));
            Ok(addrs)
        }
    }

    fn resolve(resolver: &CachedResolver<CountingResolver>, uri: &str) -> u16 {
        let config = ureq::Agent::config_builder().build();
        let uri: Uri = uri.parse().unwrap();
        let addrs = resolver
            .resolve(&uri, &config, NextTimeout::default())
            .unwrap();
        assert_eq!(addrs.len(), 1);
        addrs[0].port()
    }

    #[test]
    fn a_recent_lookup_of_the_same_origin_is_reused() {
        let resolver = CachedResolver::new(CountingResolver::default(), Duration::from_secs(60));
        assert_eq!(resolve(&resolver, "https://api.kraken.com/0/private/A"), 1);
        assert_eq!(resolve(&resolver, "https://api.kraken.com/0/private/B"), 1);
        // Another scheme, host or port is another origin.
        assert_eq!(resolve(&resolver, "http://api.kraken.com/0/private/B"), 2);
        assert_eq!(
            resolve(&resolver, "http://api.kraken.com:8080/0/private/B"),
            3
        );
        assert_eq!(resolve(&resolver, "http://api.kraken.com:8080/"), 3);
    }

    #[test]
    fn an_old_lookup_is_made_again() {
        let resolver = CachedResolver::new(CountingResolver::default(), Duration::ZERO);
        assert_eq!(resolve(&resolver, "https://api.kraken.com/"), 1);
        assert_eq!(resolve(&resolver, "https://api.kraken.com/"), 2);
    }
}
