#!/usr/bin/env python3
"""Prints the criterion medians of the last run and the ratios BENCHMARKS.md quotes.

Usage: python3 benches/ratios.py [CRITERION_DIR]
CRITERION_DIR defaults to $CARGO_TARGET_DIR/criterion, else target/criterion.
Reads each benchmark's new/estimates.json (the last run), so run the benches of one
comparison together, as BENCHMARKS.md's commands do.
"""

import json
import os
import sys
from pathlib import Path

# (numerator, denominator, what the ratio means, target as (operator, value) or None)
RATIOS = [
    # The signing-at-the-floor table (BENCHMARKS.md): one run of benches/peer (floor, signature, request, peer together).
    ("peer/signature", "peer/floor", "signature / floor", ("<=", 1.10)),
    ("peer/request", "peer/floor", "request / floor", ("<=", 1.5)),
    ("peer/peer", "peer/request", "peer / request", (">=", 2.0)),
    # The bytes output: one run of benches/peer.
    ("peer/bytes", "peer/floor", "bytes request / floor", ("<=", 1.3)),
    ("peer/peer", "peer/bytes", "peer / bytes request", (">=", 1.8)),
    ("peer/bytes", "peer/request", "bytes request / http::Request", None),
    ("signing/sign", "signing/floor", "sign / floor", ("<=", 1.15)),
    ("signing/naive", "signing/sign", "naive / sign", (">=", 1.5)),
    ("signing_parts/signature", "signing/floor", "signature alone / floor", None),
    ("signing/bytes", "signing/floor", "bytes / floor (signing bench)", ("<=", 1.3)),
    ("blocking/client", "blocking/raw_ureq", "blocking client / raw ureq", ("<=", 1.10)),
    ("blocking/client", "blocking/raw_ureq_core", "blocking client / raw ureq + core work", None),
    ("blocking/raw_ureq_core", "blocking/raw_ureq", "raw ureq + core work / raw ureq", None),
    ("async/client", "async/raw_hyper", "async client / raw hyper", ("<=", 1.10)),
    ("async/client", "async/raw_hyper_core", "async client / raw hyper + core work", None),
    ("async/raw_hyper_core", "async/raw_hyper", "raw hyper + core work / raw hyper", None),
    # The host send order (file lock + persisted nonce high-water mark) on.
    ("blocking/client_host_order", "blocking/raw_ureq_core", "blocking client with host order / raw ureq + core work", ("<=", 1.10)),
    ("blocking/client_host_order", "blocking/client", "blocking client with host order / client", None),
    ("async/client_host_order", "async/raw_hyper_core", "async client with host order / raw hyper + core work", ("<=", 1.10)),
    ("async/client_host_order", "async/client", "async client with host order / client", None),
    ("example/client", "example/raw_tcp_core", "example client / (raw TCP + core work)", ("<=", 1.10)),
    ("example/raw_tcp_core", "example/raw_tcp", "raw TCP + core work / raw TCP", None),
]


def medians(root):
    found = {}
    for estimates in root.glob("**/new/estimates.json"):
        benchmark = estimates.parent / "benchmark.json"
        if not benchmark.exists():
            continue
        full_id = json.loads(benchmark.read_text())["full_id"]
        found[full_id] = json.loads(estimates.read_text())["median"]["point_estimate"]
    return found


def show(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.1f} ns"


def main():
    default = Path(os.environ.get("CARGO_TARGET_DIR", "target")) / "criterion"
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    found = medians(root)
    if not found:
        sys.exit(f"no criterion results under {root}")

    print("| benchmark | median |")
    print("|---|---|")
    for name in sorted(found):
        extra = ""
        if name.startswith("mock/verified/"):
            extra = f" ({1e9 / found[name]:,.0f} verified requests/s)"
        print(f"| `{name}` | {show(found[name])}{extra} |")

    print()
    print("| ratio | value | target |")
    print("|---|---|---|")
    for numerator, denominator, meaning, target in RATIOS:
        if numerator not in found or denominator not in found:
            continue
        value = found[numerator] / found[denominator]
        verdict = "—"
        if target:
            operator, bound = target
            met = value <= bound if operator == "<=" else value >= bound
            verdict = f"{operator} {bound}: {'met' if met else 'NOT met'}"
        print(f"| {meaning} | {value:.3f} | {verdict} |")


if __name__ == "__main__":
    main()
