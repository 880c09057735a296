#!/usr/bin/env python3
"""A signer for `prime vectors verify FILE --signer 'python3 vectors/example_signer.py'`."""
import base64, hashlib, hmac, json, sys
for line in sys.stdin:
    v = json.loads(line)
    if v["scheme"] == "rest":
        msg = v["path"].encode() + hashlib.sha256((v["nonce"] + v["body"]).encode()).digest()
        print(base64.b64encode(hmac.new(base64.b64decode(v["secret"]), msg, hashlib.sha512).digest()).decode(), flush=True)
    else:
        parts = ["GET", v["timestamp"], v["host"], v["path"]] if v["scheme"] == "prime-ws" else [v["sending_time"], str(v["seq_num"]), v["sender"], v["target"]]
        msg = ("\n" if v["scheme"] == "prime-ws" else "\x01").join(parts).encode()
        print(base64.urlsafe_b64encode(hmac.new(v["secret"].encode(), msg, hashlib.sha256).digest()).decode(), flush=True)
