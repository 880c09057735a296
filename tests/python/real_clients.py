#!/usr/bin/env python3
"""Stock python-kraken-sdk, krakenex and ccxt against `prime mock`, with the account key.

Each library, unmodified, creates a user, lists users, creates a key and lists keys through
its own generic private-call method; python-kraken-sdk in both its JSON and its form mode.
Then krakenex, as an independent client, walks the documented permission model: the account
key runs the whole settlement flow, a minted query-only key lists and gets batches but is
refused create and settle (nothing executed), an issued key is refused on REST, and no
answer carries an `ESettlement` string.
Not part of CI (it needs PyPI); the Rust tests in tests/tests/it/real_clients.rs send the same
bytes and headers these libraries send.

Run it from the workspace root:

    python3 -m venv /tmp/rc-venv
    /tmp/rc-venv/bin/pip install python-kraken-sdk==3.5.1 krakenex==2.2.2 ccxt==4.5.90
    cargo build --release -p prime-cli
    /tmp/rc-venv/bin/python tests/python/real_clients.py target/release/prime

It starts `prime mock` itself and stops it at the end. Exit status 0 when every call worked.
"""

import base64
import hashlib
import hmac
import json
import subprocess
import urllib.request
import sys
import time

import ccxt
import krakenex
from kraken.spot import SpotClient


def check(library, what, answer):
    """The `result` of a Kraken envelope, or exit naming the library and the errors."""
    errors = answer.get("error") if isinstance(answer, dict) else None
    if errors:
        sys.exit(f"{library}: {what} failed: {errors}")
    result = answer["result"] if isinstance(answer, dict) and "result" in answer else answer
    return result


def flow(library, call):
    """create user, list users, create key, list keys through `call(method, params)`."""
    user = check(library, "create user",
                 call("CreatePrimeApiUser", {"name": f"Desk {library}", "role": "Trader"}))
    users = check(library, "list users", call("ListPrimeApiUsers", {}))
    key = check(library, "create key", call("CreatePrimeApiUserKey", {"user_id": user["id"]}))
    keys = check(library, "list keys", call("ListPrimeApiUserKeys", {"user_id": user["id"]}))
    listed = [k["key"] for k in keys["data"]]
    assert key["api_key"] in listed, (library, listed)
    print(f"{library:28} user {user['id']} ({len(users['data'])} users), "
          f"key {key['api_key']} (secret {len(key['api_secret'])} chars, not shown), "
          f"{len(listed)} key(s) listed", flush=True)


def control(url, method, route, body=None):
    """The simulator's control interface (`/__mock/…`)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{url}/__mock/{route}", data=data, method=method)
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def raw_call(url, api_key, key_bytes, method, nonce):
    """A REST call signed with `key_bytes` as the HMAC key, as a client that mistook an issued
    key's text secret for a REST secret would (krakenex cannot: it is not base64)."""
    body = f"nonce={nonce}"
    path = f"/0/private/{method}"
    digest = hashlib.sha256((str(nonce) + body).encode()).digest()
    sign = base64.b64encode(hmac.new(key_bytes, path.encode() + digest, hashlib.sha512).digest())
    request = urllib.request.Request(url + path, data=body.encode(), method="POST", headers={
        "API-Key": api_key, "API-Sign": sign.decode(),
        "Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return answer.read().decode()


def settlement(url, api_key, secret):
    """The permission model, with krakenex as an independent client. Returns every answer."""
    answers = []

    def query(api, method, params=None, expect=None):
        answer = api.query_private(method, dict(params or {}))
        answers.append(json.dumps(answer))
        if expect is None:
            return check("krakenex", method, answer)
        if answer.get("error") != [expect]:
            sys.exit(f"krakenex: {method}: expected {expect}, got {answer}")
        return None

    def executions(method):
        return control(url, "GET", "state")["executions"][method]

    account = krakenex.API(key=api_key, secret=secret)
    account.uri = url
    batch = query(account, "CreatePrimeSettlementBatch", {"asset_kind": "currency"})["batch"]
    query(account, "CreatePrimeSettlementBatch", {"asset_kind": "currency"},
          expect="ETrade:Active batch exists")
    control(url, "POST", "batches/confirm", {"batch_id": batch["id"]})
    got = query(account, "GetPrimeSettlementBatch", {"batch_id": batch["id"]})["batch"]
    listed = query(account, "ListPrimeSettlementBatches")
    legs = [leg["asset"] for leg in got["legs"] if leg["can_settle"]]
    for asset in legs:
        query(account, "SettlePrimeSettlementBatchAsset",
              {"batch_id": batch["id"], "asset": asset})
    control(url, "POST", "transfers/complete")
    done = query(account, "GetPrimeSettlementBatch", {"batch_id": batch["id"]})["batch"]
    print(f"account key: batch {batch['id']} created, confirmed, {len(listed['data'])} listed, "
          f"{len(legs)} leg(s) settled, now {done['attributes']['status']}", flush=True)

    minted = control(url, "POST", "account-keys",
                     {"permissions": ["Orders and trades - Query open orders & trades"]})
    reader = krakenex.API(key=minted["api_key"], secret=minted["api_secret"])
    reader.uri = url
    time.sleep(0.002)
    listed = query(reader, "ListPrimeSettlementBatches")
    query(reader, "GetPrimeSettlementBatch", {"batch_id": batch["id"]})
    before = (executions("CreatePrimeSettlementBatch"),
              executions("SettlePrimeSettlementBatchAsset"))
    query(reader, "CreatePrimeSettlementBatch", {"asset_kind": "tokenized_equity"},
          expect="EGeneral:Permission denied")
    query(reader, "SettlePrimeSettlementBatchAsset", {"batch_id": batch["id"], "asset": legs[0]},
          expect="EGeneral:Permission denied")
    after = (executions("CreatePrimeSettlementBatch"),
             executions("SettlePrimeSettlementBatchAsset"))
    assert before == after, (before, after)
    print(f"query-only key: listed {len(listed['data'])} and got the batch; create and settle "
          f"refused with EGeneral:Permission denied, executions unchanged {after}", flush=True)

    user = query(account, "CreatePrimeApiUser", {"name": "Desk WS", "role": "Trader"})
    issued = query(account, "CreatePrimeApiUserKey", {"user_id": user["id"]})
    answer = raw_call(url, issued["api_key"], issued["api_secret"].encode(),
                      "ListPrimeSettlementBatches", int(time.time() * 1000) + 10)
    answers.append(answer)
    if json.loads(answer)["error"] != ["EAPI:Invalid key"]:
        sys.exit(f"issued key on REST: expected EAPI:Invalid key, got {answer}")
    print(f"issued key {issued['api_key']} on REST: {answer}", flush=True)
    assert not any("ESettlement" in text for text in answers)
    print(f"no ESettlement string in {len(answers)} answers", flush=True)


def main():
    prime = sys.argv[1] if len(sys.argv) > 1 else "target/release/prime"
    server = subprocess.Popen([prime, "mock"], stdout=subprocess.PIPE, text=True)
    try:
        mock = json.loads(server.stdout.readline())
        url, api_key, secret = mock["url"], mock["api_key"], mock["api_secret"]
        print(f"prime mock at {url}; account key {api_key[:4]}…", flush=True)

        # krakenex and ccxt use millisecond nonces, python-kraken-sdk 10^-8 s ones: on one key
        # the nonces must rise, so the millisecond clients go first.
        api = krakenex.API(key=api_key, secret=secret)
        api.uri = url
        flow("krakenex", lambda method, params: api.query_private(method, dict(params)))

        exchange = ccxt.kraken({"apiKey": api_key, "secret": secret})
        exchange.urls["api"]["private"] = url
        flow("ccxt", lambda method, params:
             exchange.request(method, ["private"], "POST", dict(params)))

        # Still millisecond nonces on the account key: the settlement walk comes before
        # python-kraken-sdk's finer ones.
        settlement(url, api_key, secret)

        time.sleep(0.01)
        sdk = SpotClient(key=api_key, secret=secret, url=url)
        flow("python-kraken-sdk (form)", lambda method, params:
             sdk.request("POST", f"/0/private/{method}", params=dict(params)))
        flow("python-kraken-sdk (JSON)", lambda method, params:
             sdk.request("POST", f"/0/private/{method}", params=dict(params), do_json=True))
        print("all four ran create user, list users, create key, list keys", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
