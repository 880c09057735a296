//! Every endpoint's happy path over real HTTP, and the documented response shapes.

mod http_client;

use prime_core::endpoints::ListApiUsers;
use prime_mock::MockServer;

use http_client::Session;

#[test]
fn the_account_key_lists_users() {
    let server = MockServer::start().unwrap();
    let mut session = Session::new(&server);
    let users = session.ok(&server.account_credentials(), &ListApiUsers::new());
    assert!(users.data.is_empty());
}
