//! Argument checks: every endpoint refuses bad arguments with an `ArgumentError` naming the
//! field, from `validate`, `encode_body` and `RequestBuilder::build` alike, so nothing invalid
//! is ever signed.

use prime_core::endpoints::{
    AssetKind, BatchStatus, CreateApiUser, CreateApiUserKey, CreateSettlementBatch,
    DeleteApiUserKey, GetApiUser, GetSettlementBatch, ListApiUserKeys, ListSettlementBatches,
    MAX_BATCH_LIMIT, MAX_NAME_LEN, MAX_WHITELISTED_IPS, Role, SettleSettlementBatchAsset,
    UpdateApiUser, UpdateApiUserKey, UpdateApiUserRoles, UserStatus,
};
use prime_core::{Credentials, Endpoint, RequestBuilder, encode_body};

const SECRET: &str = prime_core::example::SECRET;

/// `endpoint` is refused for `field` by every entry point.
#[track_caller]
fn refused<E: Endpoint + std::fmt::Debug>(endpoint: &E, field: &str) {
    let error = endpoint
        .validate()
        .expect_err(&format!("{endpoint:?} must be refused"));
    assert_eq!(error.field(), field, "{endpoint:?}: {error}");
    assert!(!error.reason().is_empty());
    assert!(
        error
            .to_string()
            .starts_with(&format!("invalid argument `{field}`: "))
    );
    assert_eq!(encode_body(endpoint, 1).expect_err("refused"), error);
    let credentials = Credentials::new("KRA5L19LAW8Z", SECRET).expect("valid");
    assert_eq!(
        RequestBuilder::new()
            .build(endpoint, &credentials, 1)
            .expect_err("refused before signing"),
        error
    );
    let unified: prime_core::Error = error.clone().into();
    assert!(matches!(unified, prime_core::Error::InvalidArgument(ref e) if *e == error));
}

#[track_caller]
fn accepted<E: Endpoint + std::fmt::Debug>(endpoint: &E) {
    if let Err(error) = endpoint.validate() {
        panic!("{endpoint:?} must be accepted: {error}");
    }
}

/// Identifiers that must be refused, and why.
fn bad_ids() -> Vec<String> {
    vec![
        String::new(),
        "x".repeat(129),
        "2T0 RXL".into(),
        " 2T0RXL".into(),
        "2T0RXL\n".into(),
        "2T0\tRXL".into(),
        "2T0RXLé".into(),
        "2T0\0RXL".into(),
    ]
}

#[test]
fn ids_are_checked_on_every_endpoint_that_takes_one() {
    accepted(&CreateApiUserKey::new("x".repeat(128)));
    accepted(&CreateApiUserKey::new("a"));
    for bad in bad_ids() {
        let ok = "2T0RXL9B8K5D6";
        refused(&CreateApiUserKey::new(bad.as_str()), "user_id");
        refused(&ListApiUserKeys::new(bad.as_str()), "user_id");
        refused(&GetApiUser::new(bad.as_str()), "user_id");
        refused(&UpdateApiUser::new(bad.as_str()), "user_id");
        refused(
            &UpdateApiUserRoles::new(bad.as_str(), Role::Viewer),
            "user_id",
        );
        refused(&UpdateApiUserKey::new(bad.as_str(), ok), "user_id");
        refused(&UpdateApiUserKey::new(ok, bad.as_str()), "key_id");
        refused(&DeleteApiUserKey::new(bad.as_str(), ok), "user_id");
        refused(&DeleteApiUserKey::new(ok, bad.as_str()), "key_id");
        refused(&GetSettlementBatch::new(bad.as_str()), "batch_id");
        refused(
            &SettleSettlementBatchAsset::new(bad.as_str(), "BTC"),
            "batch_id",
        );
        refused(
            &SettleSettlementBatchAsset::new("B_Y7T2LPVX", bad.as_str()),
            "asset",
        );
    }
}

#[test]
fn an_over_long_id_reports_its_length() {
    let error = CreateApiUserKey::new("x".repeat(300))
        .validate()
        .expect_err("too long");
    assert!(error.reason().contains("300"), "{error}");
    let error = CreateApiUserKey::new("ab cd")
        .validate()
        .expect_err("space");
    assert!(error.reason().contains("byte 2"), "{error}");
}

#[test]
fn names_are_checked() {
    accepted(&CreateApiUser::new("Test User", Role::Trader));
    accepted(&CreateApiUser::new("Zoë \"Z\" O'Brien", Role::Viewer));
    accepted(&CreateApiUser::new("é".repeat(MAX_NAME_LEN), Role::Viewer));
    for bad in [
        String::new(),
        "   ".into(),
        "\t\n".into(),
        "é".repeat(MAX_NAME_LEN + 1),
        "Test\nUser".into(),
        "Test\u{0}User".into(),
    ] {
        refused(&CreateApiUser::new(bad.as_str(), Role::Trader), "name");
        refused(
            &UpdateApiUser::new("2T0RXL9B8K5D6").name(bad.as_str()),
            "name",
        );
    }
}

#[test]
fn unknown_enum_values_must_still_be_words() {
    // `Other` values are allowed (the spec is unsure of some sets) but must be sendable words.
    accepted(&CreateApiUser::new(
        "Test User",
        Role::Other("Auditor".into()),
    ));
    for bad in ["", "Super Admin", "Trader\n"] {
        refused(
            &CreateApiUser::new("Test User", Role::Other(bad.into())),
            "role",
        );
        refused(
            &UpdateApiUserRoles::new("2T0RXL9B8K5D6", Role::Other(bad.into())),
            "role",
        );
        refused(
            &UpdateApiUser::new("2T0RXL9B8K5D6").status(UserStatus::Other(bad.into())),
            "status",
        );
        refused(
            &CreateSettlementBatch::new().asset_kind(AssetKind::Other(bad.into())),
            "asset_kind",
        );
        refused(
            &GetSettlementBatch {
                batch_id: "B_Y7T2LPVX".into(),
                asset_kind: Some(AssetKind::Other(bad.into())),
            },
            "asset_kind",
        );
        refused(
            &ListSettlementBatches {
                asset_kind: Some(AssetKind::Other(bad.into())),
                ..ListSettlementBatches::new()
            },
            "asset_kind",
        );
        refused(
            &ListSettlementBatches {
                statuses: Some(vec![BatchStatus::Settled, BatchStatus::Other(bad.into())]),
                ..ListSettlementBatches::new()
            },
            "statuses",
        );
    }
}

#[test]
fn ip_allow_lists_are_checked() {
    accepted(&UpdateApiUserKey::new("u", "k").whitelisted_ips([
        "192.168.1.1",
        "10.0.0.0/8",
        "0.0.0.0/0",
        "255.255.255.255/32",
        "2001:db8::1",
        "2001:db8::/32",
        "::/0",
        "::ffff:192.0.2.1",
        "fe80::1/128",
    ]));
    accepted(&UpdateApiUserKey::new("u", "k").whitelisted_ips(Vec::<String>::new()));
    for bad in [
        "",
        "300.1.1.1",
        "192.168.1",
        "192.168.1.1/33",
        "10.0.0.0/",
        "10.0.0.0/-1",
        "10.0.0.0/+8",
        "10.0.0.0/8/8",
        "10.0.0.0/0008",
        "::1/129",
        " 10.0.0.1",
        "10.0.0.1 ",
        "example.com",
        "fe80::1%eth0",
        "*",
    ] {
        let endpoint = UpdateApiUserKey::new("u", "k").whitelisted_ips(["10.0.0.1", bad]);
        refused(&endpoint, "whitelisted_ips");
        let reason = endpoint.validate().expect_err("bad").reason().to_owned();
        assert!(reason.contains("entry 1"), "{reason}");
    }
    let too_many: Vec<String> = (0..=MAX_WHITELISTED_IPS)
        .map(|i| format!("10.{}.{}.1", i / 256, i % 256))
        .collect();
    refused(
        &UpdateApiUserKey::new("u", "k").whitelisted_ips(too_many.clone()),
        "whitelisted_ips",
    );
    accepted(&UpdateApiUserKey::new("u", "k").whitelisted_ips(&too_many[1..]));
}

#[test]
fn list_settlement_batches_limits_and_times() {
    let list = ListSettlementBatches::new;
    accepted(&list());
    for limit in [1, 50, MAX_BATCH_LIMIT] {
        accepted(&ListSettlementBatches {
            limit: Some(limit),
            ..list()
        });
    }
    for limit in [0, MAX_BATCH_LIMIT + 1, u32::MAX] {
        refused(
            &ListSettlementBatches {
                limit: Some(limit),
                ..list()
            },
            "limit",
        );
    }
    refused(
        &ListSettlementBatches {
            from: Some(-1),
            ..list()
        },
        "from",
    );
    refused(
        &ListSettlementBatches {
            until: Some(i64::MIN),
            ..list()
        },
        "until",
    );
    refused(
        &ListSettlementBatches {
            from: Some(1_700_100_000_001),
            until: Some(1_700_100_000_000),
            ..list()
        },
        "from",
    );
    // Equal bounds are a valid (if narrow) window; zero is a valid time.
    accepted(&ListSettlementBatches {
        from: Some(0),
        until: Some(0),
        statuses: Some(vec![]),
        offset: Some(u32::MAX),
        ..list()
    });
}
