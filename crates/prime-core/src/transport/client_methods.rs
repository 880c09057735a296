//! The typed client methods, one per endpoint of the endpoint table, written once for
//! every transport.

/// Writes a client's typed methods, one per endpoint, inside its `impl` block: `blocking`
/// ones call `self.send(&request)`, `async` ones `self.send(&request).await`; each returns the
/// endpoint's result; warnings are logged by the [call driver](crate::transport::Call), and
/// the client's generic `send` returns them as values.
///
/// ```
/// use prime_core::{Endpoint, Error, Reply};
///
/// /// A client that answers every call with "not sent" (a real one drives a
/// /// `prime_core::transport::Call`).
/// struct Offline;
/// impl Offline {
///     fn send<E: Endpoint>(&self, endpoint: &E) -> Result<Reply<E::Response>, Error> {
///         endpoint.validate()?;
///         Err(prime_core::transport::not_sent(prime_core::TransportErrorKind::Connect, "offline").into())
///     }
///     prime_core::client_methods!(blocking);
/// }
/// assert!(Offline.list_api_users().is_err());
/// assert!(matches!(Offline.get_api_user(""), Err(Error::InvalidArgument(_))));
/// ```
#[macro_export]
macro_rules! client_methods {
    (blocking) => {
        $crate::for_each_endpoint!($crate::__client_methods!(blocking));
    };
    (async) => {
        $crate::for_each_endpoint!($crate::__client_methods!(async));
    };
}

/// The callback behind [`client_methods!`]. Not public API.
#[macro_export]
#[doc(hidden)]
macro_rules! __client_methods {
    (($mode:tt) $($(#[$doc:meta])* $endpoint:path as $name:ident($($arg:ident: $ty:ty),*) -> $out:ty = $make:expr => |$result:ident| $output:expr;)*) => {
        $(
            $crate::__client_method!(($mode) $(#[$doc])* $name($($arg: $ty),*) -> $out = $make => |$result| $output);
        )*
    };
}

/// One typed method. Not public API.
#[macro_export]
#[doc(hidden)]
macro_rules! __client_method {
    ((blocking) $(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*) -> $out:ty = $make:expr => |$result:ident| $output:expr) => {
        $(#[$doc])*
        ///
        /// # Errors
        /// As [`send`](Self::send).
        pub fn $name(&self, $($arg: $ty),*) -> ::std::result::Result<$out, $crate::Error> {
            let $result = self.send(&$make)?.result;
            Ok($output)
        }
    };
    ((async) $(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*) -> $out:ty = $make:expr => |$result:ident| $output:expr) => {
        $(#[$doc])*
        ///
        /// # Errors
        /// As [`send`](Self::send).
        pub async fn $name(&self, $($arg: $ty),*) -> ::std::result::Result<$out, $crate::Error> {
            let $result = self.send(&$make).await?.result;
            Ok($output)
        }
    };
}
