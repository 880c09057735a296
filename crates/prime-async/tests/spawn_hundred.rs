//! The program in `examples/spawn_hundred.rs`, written from the crate docs with prime-async as
//! its only Kraken dependency, run against the simulator.

#[path = "../examples/spawn_hundred.rs"]
#[allow(dead_code, reason = "the example's `main` is not called here")]
mod program;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_spawned_calls_on_temporaries_all_succeed() {
    let server = prime_mock::MockServer::start().expect("simulator");
    let client = prime_async::Client::builder(server.account_credentials())
        .base_url(&server.url())
        .build()
        .expect("client");
    let succeeded = program::hundred_calls(client).await.expect("the calls");
    assert_eq!(succeeded, 100);
    assert_eq!(server.executions("ListPrimeApiUsers"), 25);
}

#[test]
fn the_program_names_no_kraken_crate_but_prime_async() {
    let source = include_str!("../examples/spawn_hundred.rs");
    for other in ["prime_core", "prime_mock", "prime_blocking", "prime_cli"] {
        assert!(!source.contains(other), "the program names {other}");
    }
    assert!(source.contains("use prime_async::"));
}
