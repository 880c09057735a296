//! The simulator without a server: requests in, responses out, no sockets or threads.

use std::net::IpAddr;

use prime_core::http::header::CONTENT_TYPE;
use prime_core::http::{HeaderValue, Method as HttpMethod, Request, Response, StatusCode};
use prime_core::{ApiSecret, Credentials, CredentialsError, ErrorCode, Otp};

use crate::account::{Account, AccountKey, Method, ReceivedCall, error_body};
use crate::account_keys::{AccountKeySpec, MintedKey};

/// The Prime simulator as a plain value: hand it a request, get the response.
///
/// Same checks and state model as [`MockServer`](crate::MockServer) (signature over the exact
/// body, nonce order, IP allow-list against `peer`, permissions, arguments, users, keys,
/// settlement), minus the network and the fault queue. Useful where a socket is in the way:
/// fuzzing the request checks, or testing signing code without starting a server.
///
/// ```
/// use prime_core::endpoints::ListApiUsers;
/// use prime_core::RequestBuilder;
/// use prime_mock::Simulator;
///
/// let mut simulator = Simulator::new(7);
/// let request = RequestBuilder::new().build(&ListApiUsers::new(), &simulator.account_credentials(), 1)?;
/// let response = simulator.handle(&request, [127, 0, 0, 1].into());
/// assert_eq!(response.body(), br#"{"error":[],"result":{"data":[]}}"#);
///
/// // The same nonce again is refused, as Kraken does.
/// let replay = simulator.handle(&request, [127, 0, 0, 1].into());
/// assert_eq!(replay.body(), br#"{"error":["EAPI:Invalid nonce"],"result":{}}"#);
/// # Ok::<(), prime_core::ArgumentError>(())
/// ```
pub struct Simulator {
    core: Account,
    account: AccountKey,
}

impl Simulator {
    /// A fresh account with deterministic ids and secrets for `seed`, a few unsettled trades
    /// and rate limiting off (as [`MockServer`](crate::MockServer) starts by default).
    pub fn new(seed: u64) -> Self {
        let (core, account) = Account::new(seed, None, true);
        Self { core, account }
    }

    /// The account (admin) key.
    pub fn account_api_key(&self) -> &str {
        &self.account.api_key
    }

    /// The account key's secret.
    pub fn account_secret(&self) -> &ApiSecret {
        &self.account.secret
    }

    /// Credentials for the account key.
    ///
    /// # Panics
    /// Never in practice: the simulator issues well-formed keys and secrets.
    pub fn account_credentials(&self) -> Credentials {
        Credentials::new(&self.account.api_key, self.account.secret.expose())
            .expect("the simulator issues valid credentials")
    }

    /// Mints another account (REST) key holding `spec`'s permissions and optional API 2FA.
    ///
    /// # Errors
    /// The 2FA password is empty or holds a control character.
    pub fn mint_account_key(
        &mut self,
        spec: &AccountKeySpec,
    ) -> Result<MintedKey, CredentialsError> {
        if let Some(password) = &spec.otp {
            Otp::password(password)?;
        }
        Ok(self.core.mint_account_key(spec))
    }

    /// Checks and, if it passes, executes one request sent from `peer`. Kraken errors come back
    /// as `200` with the error envelope; an unknown path is `404`, a method other than POST
    /// `405`.
    pub fn handle(&mut self, request: &Request<Vec<u8>>, peer: IpAddr) -> Response<Vec<u8>> {
        let Some(method) = request
            .uri()
            .path()
            .strip_prefix("/0/private/")
            .and_then(Method::from_name)
        else {
            return json(
                StatusCode::NOT_FOUND,
                error_body(crate::errors::UNKNOWN_METHOD),
            );
        };
        if request.method() != HttpMethod::POST {
            return json(
                StatusCode::METHOD_NOT_ALLOWED,
                error_body(ErrorCode::InvalidArguments { field: None }.as_str()),
            );
        }
        let call = ReceivedCall::new(
            method,
            request.uri(),
            request.headers(),
            request.body(),
            peer,
        );
        match self.core.handle(&call) {
            Ok(body) => json(StatusCode::OK, body),
            Err(error) => json(StatusCode::OK, error_body(&error)),
        }
    }

    /// How many times `method` (e.g. `"CreatePrimeApiUserKey"`) was executed.
    pub fn executions(&self, method: &str) -> u64 {
        self.core.executions(method)
    }
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Masked like prime_core::ApiKey, so logs don't tie requests to the key.
        let shown: String = self.account.api_key.chars().take(4).collect();
        f.debug_struct("Simulator")
            .field("account_api_key", &format_args!("{shown}…"))
            .finish_non_exhaustive()
    }
}

fn json(status: StatusCode, body: Vec<u8>) -> Response<Vec<u8>> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
