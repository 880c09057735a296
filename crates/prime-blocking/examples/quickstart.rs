//! The README's blocking example, with prime-blocking as its only Kraken dependency. Run it
//! against the simulator (`prime mock` prints its URL and account key) or against Kraken
//! (`PRIME_URL=https://api.kraken.com`):
//!
//! ```sh
//! PRIME_URL=http://127.0.0.1:8080 PRIME_API_KEY=<key> PRIME_API_SECRET=<secret> \
//!     cargo run -p prime-blocking --example quickstart
//! ```

use prime_blocking::endpoints::{CreatedApiUserKey, Role};
use prime_blocking::{Client, Credentials};

type BoxError = Box<dyn std::error::Error>;

/// A desk's user and its one key. `create_api_user_key` is orphan-safe: after an unknown
/// outcome it deletes the key whose secret never arrived and creates once more.
pub fn new_desk(client: &Client, name: &str) -> Result<CreatedApiUserKey, BoxError> {
    let user = client.create_api_user(name, Role::Trader)?;
    match client.create_api_user_key(&user.id) {
        Ok(key) => Ok(key),
        // Nothing of that creation is left behind: once more is safe.
        Err(e) if e.is_safe_to_retry() => Ok(client.create_api_user_key(&user.id)?),
        // Its message names the keys it could not clean up, and what to do.
        Err(e) => Err(e.into()),
    }
}

fn main() -> Result<(), BoxError> {
    let var = |name: &str| std::env::var(name).map_err(|_| format!("set {name}"));
    let credentials = Credentials::new(&var("PRIME_API_KEY")?, &var("PRIME_API_SECRET")?)?;
    let client = Client::builder(credentials)
        .base_url(&var("PRIME_URL")?)
        .build()?;
    let key = new_desk(&client, "desk-1")?;
    // Shown once, kept nowhere: this program's stdout is the delivery (pipe it to your vault).
    println!("{} {}", key.api_key, key.api_secret().expose());
    Ok(())
}
