//! A service's first program with prime-async, written from its crate docs alone, with
//! prime-async as its only Kraken dependency: 100 calls spawned at once on temporaries.
//!
//! Run it against the simulator (`prime mock --credentials-out mock.json` prints the URL and
//! the account key) or against Kraken:
//!
//! ```sh
//! PRIME_URL=http://127.0.0.1:8080 PRIME_API_KEY=<key> PRIME_API_SECRET=<secret> \
//!     cargo run -p prime-async --example spawn_hundred
//! ```

use std::time::Duration;

use prime_async::endpoints::{ListSettlementBatches, Role};
use prime_async::{Client, Credentials, Error};

/// Spawns 100 calls (four kinds, 25 each), every argument a temporary, and waits for all of
/// them; returns how many succeeded.
pub async fn hundred_calls(client: Client) -> Result<usize, Error> {
    let user = client.create_api_user("spawned", Role::Viewer).await?;
    let key = client
        .create_api_user_key(user.id.clone())
        .await
        .map_err(Error::from)?;
    let mut users = Vec::new();
    let mut keys = Vec::new();
    let mut batches = Vec::new();
    let mut one_user = Vec::new();
    for i in 0..25 {
        users.push(tokio::spawn(client.list_api_users()));
        keys.push(tokio::spawn(client.list_api_user_keys(user.id.clone())));
        batches.push(tokio::spawn(
            client
                .with_deadline(Duration::from_secs(30))
                .list_settlement_batches(ListSettlementBatches::new().limit(10 + i)),
        ));
        one_user.push(tokio::spawn(client.get_api_user(user.id.as_str())));
    }
    let mut succeeded = 0;
    for task in users {
        succeeded += usize::from(
            task.await
                .expect("the task ran")?
                .iter()
                .any(|u| u.id == user.id),
        );
    }
    for task in keys {
        succeeded += usize::from(
            task.await
                .expect("the task ran")?
                .iter()
                .any(|k| k.id == key.id),
        );
    }
    for task in batches {
        task.await.expect("the task ran")?;
        succeeded += 1;
    }
    for task in one_user {
        succeeded += usize::from(task.await.expect("the task ran")?.id == user.id);
    }
    Ok(succeeded)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let variable = |name: &str| std::env::var(name).map_err(|_| format!("set {name}"));
    let credentials =
        Credentials::new(&variable("PRIME_API_KEY")?, &variable("PRIME_API_SECRET")?)?;
    let client = Client::builder(credentials)
        .base_url(&variable("PRIME_URL")?)
        .build()?;
    println!("{} of 100 calls succeeded", hundred_calls(client).await?);
    Ok(())
}
