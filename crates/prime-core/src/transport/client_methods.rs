//! The typed client methods, one per endpoint of the endpoint table, written once for
//! every transport.

/// Writes a client's typed methods, one per endpoint, inside its `impl` block. Each takes
/// its arguments by value (`impl Into<String>` for ids and names, request types such as
/// [`ListSettlementBatches`](crate::endpoints::ListSettlementBatches) whole), builds the
/// request at once (so an invalid argument fails before anything is sent), and returns the
/// endpoint's result; warnings are logged by the [call driver](crate::transport::Call), and
/// the client's generic `send` returns them as values.
///
/// - `blocking`: `fn name(&self, args) -> Result<Output, Error>`, calling `self.send(request)`.
/// - `async`: `fn name(&self, args) -> impl Future<Output = Result<Output, Error>> + Send +
///   'static`: the future owns a clone of the client (`Self: Clone + Send + Sync + 'static`)
///   and the request, so it can be spawned, joined over temporaries, or dropped (see the
///   client's docs on cancellation). It calls `client.send(request).await`.
///
/// One row is the exception: `create_api_user_key` is not generated here but by
/// [`workflow_methods!`](crate::workflow_methods), as the orphan-reconciling creation, so
/// that the obvious call is the safe one (the single-shot request stays available through
/// `send(CreateApiUserKey::new(..))`).
///
/// ```
/// use prime_core::{Endpoint, Error, Reply};
///
/// /// A client that answers every call with "not sent" (a real one drives a
/// /// `prime_core::transport::Call`).
/// struct Offline;
/// impl Offline {
///     fn send<E: Endpoint>(&self, endpoint: E) -> Result<Reply<E::Response>, Error> {
///         endpoint.validate()?;
///         Err(prime_core::transport::not_sent(prime_core::TransportErrorKind::Connect, "offline").into())
///     }
///     prime_core::client_methods!(blocking);
/// }
/// assert!(Offline.list_api_users().is_err());
/// assert!(matches!(Offline.get_api_user(""), Err(Error::InvalidArgument(_))));
/// assert!(matches!(Offline.get_api_user(String::from("U1")), Err(Error::Transport(_))));
/// ```
#[macro_export]
macro_rules! client_methods {
    (blocking) => {
        $crate::for_each_endpoint!($crate::__client_methods!(blocking ()));
    };
    (async) => {
        $crate::for_each_endpoint!($crate::__client_methods!(async (.await)));
    };
}

/// The callback behind [`client_methods!`]. Not public API.
#[macro_export]
#[doc(hidden)]
macro_rules! __client_methods {
    (($mode:tt $await:tt) $($(#[$doc:meta])* $endpoint:path as $name:ident($($arg:ident: $ty:ty),*) -> $out:ty = $make:expr => |$result:ident| $output:expr;)*) => {
        $(
            $crate::__client_method!(($mode) $await $(#[$doc])* $name($($arg: $ty),*) -> $out = $make => |$result| $output);
        )*
    };
}

/// One typed method. Not public API.
#[macro_export]
#[doc(hidden)]
macro_rules! __client_method {
    // The orphan-reconciling creation comes from `workflow_methods!`.
    (($mode:tt) $await:tt $(#[$doc:meta])* create_api_user_key($($arg:ident: $ty:ty),*) -> $out:ty = $make:expr => |$result:ident| $output:expr) => {};
    (($mode:tt) ($($await:tt)*) $(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*) -> $out:ty = $make:expr => |$result:ident| $output:expr) => {
        $crate::__owned_method! {
            ($mode)
            $(#[$doc])*
            ///
            /// # Errors
            /// As [`send`](Self::send).
            $name($($arg: $ty),*) -> ::std::result::Result<$out, $crate::Error>
            { let request = $make; }
            |client| {
                let $result = client.send(request)$($await)*?.result;
                Ok($output)
            }
        }
    };
}

/// A client method whose arguments are prepared first and whose body then runs on the
/// client: in `blocking` mode on `&self`; in `async` mode inside an `async move` block that
/// owns a clone of the client, so the future is `Send + 'static`. Not public API.
#[macro_export]
#[doc(hidden)]
macro_rules! __owned_method {
    ((blocking) $(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*) -> $out:ty { $($prepare:tt)* } |$client:ident| $body:block) => {
        $(#[$doc])*
        pub fn $name(&self, $($arg: $ty),*) -> $out {
            $($prepare)*
            let $client = self;
            $body
        }
    };
    ((async) $(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*) -> $out:ty { $($prepare:tt)* } |$client:ident| $body:block) => {
        $(#[$doc])*
        pub fn $name(&self, $($arg: $ty),*)
            -> impl ::std::future::Future<Output = $out> + ::std::marker::Send + 'static
        {
            $($prepare)*
            let $client = ::std::clone::Clone::clone(self);
            async move { $body }
        }
    };
}
