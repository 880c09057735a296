//! The methods [`client_methods!`](crate::client_methods),
//! [`workflow_methods!`](crate::workflow_methods) and
//! [`settings_setters!`](crate::settings_setters) write into a client, as a client gets them.
//! Documentation only: this module exists under rustdoc, not in the compiled crate.
//!
//! It is also how their links are checked. rustdoc does not report a broken intra-doc link
//! in documentation an *external* macro wrote, so a dead link in the clients' generated
//! methods would pass unnoticed there. Expanded here, in the crate that defines the macros,
//! the same documentation is checked, and `RUSTDOCFLAGS="-D warnings" cargo doc` fails on a
//! broken link.

use crate::{Endpoint, Error, Reply};

/// A client with every generated method (its `send` only refuses).
#[derive(Clone)]

pub struct GeneratedMethods;

impl GeneratedMethods {
    /// Sends nothing.
    ///
    /// # Errors
    /// Always.
    pub fn send<E: Endpoint>(&self, endpoint: E) -> Result<Reply<E::Response>, Error> {
        endpoint.validate()?;
        Err(
            crate::transport::not_sent(crate::TransportErrorKind::Client, "documentation only")
                .into(),
        )
    }

    crate::client_methods!(blocking);
    crate::workflow_methods!(blocking);
}

/// A client builder with every generated setter.

pub struct GeneratedSetters {
    settings: crate::Settings,
}

impl GeneratedSetters {
    crate::settings_setters!();
}
