#!/usr/bin/env python3
"""The service's CPU samples per million events, by stage of the write path, from `Benchmarks/run-profile.sh`.

    Benchmarks/profile_stages.py PREFIX [PREFIX ...]

PREFIX is an OUT of run-profile.sh (PREFIX.script and PREFIX.rate are read). A stage counts every sample whose stack
holds a frame with its pattern (a piece of the function's mangled Swift name), so stages nest and overlap; `total`
is every sample of the service. One sample is ~2 ms of CPU (499 Hz). With two or more profiles, the last column is
the last one minus the first: what, say, 1,000 series cost per event over 20.
"""

import sys

# (stage, pattern); "of which" names a part of the stage above it.
STAGES = [
    ("total", None),
    ("decode (JSON)", "EventDecoderV6decode"),
    # Keys and payloads are hashed where they lie in the body, by the decoder (OTLP's still in BatchDelta).
    ("of which: key and payload HMACs", "dv_hmac_sha256"),
    ("batch's cells (BatchDelta)", "BatchDeltaV6events12receivedAtMs"),
    ("admission: series limit", "admitSeries"),
    ("admission: client cap", "admitClients"),
    ("key forensics", "KeyForensicsV7process"),
    ("writer: merge of the group", "V6merged"),
    ("writer: transaction", "StoreC5write_9forensics"),
    ("of which: aggregate-log row", "AggregateLogO6encode"),
    ("of which: key-log row", "KeyLogV6encode"),
    ("writer: apply to live state", "LiveStateC5apply"),
    ("of which: windows", "RollingWindowsV5apply"),
    ("of which: callers", "ClientAttributionV5apply"),
    ("fold", "foldAggregates"),
    ("(series, caller) lookups", "ClientPairTable"),
    ("series-keyed lookups", "SeriesKeyV_Tg5"),
    ("SQLite", "sqlite3"),
    ("HTTP parsing", "llhttp"),
    ("kernel", "entry_SYSCALL"),
]


def count(script):
    counts = dict.fromkeys((name for name, _ in STAGES), 0)
    stack = []

    def flush():
        counts["total"] += 1
        for name, pattern in STAGES[1:]:
            if any(pattern in frame for frame in stack):
                counts[name] += 1

    with open(script, errors="replace") as lines:
        for line in lines:
            if not line.strip():
                if stack:
                    flush()
                stack = []
            elif line[0] in " \t":
                stack.append(line)
    if stack:
        flush()
    return counts


def main(prefixes):
    if not prefixes:
        sys.exit("usage: profile_stages.py PREFIX [PREFIX ...] (the OUT of Benchmarks/run-profile.sh)")
    columns = []
    for prefix in prefixes:
        try:
            rate = float(open(prefix + ".rate").read().strip())
            counts = count(prefix + ".script")
        except (OSError, ValueError) as error:
            sys.exit(f"profile_stages.py: {prefix}: {error}")
        if rate <= 0:
            sys.exit(f"profile_stages.py: {prefix}: no events in the run")
        millions = rate * 6 / 1e6
        columns.append({name: value / millions for name, value in counts.items()})
    names = [prefix.rsplit("/", 1)[-1] for prefix in prefixes]
    header = ["samples per million events"] + names + (["difference"] if len(columns) > 1 else [])
    print("| " + " | ".join(header) + " |")
    print("|---" + "|---:" * (len(header) - 1) + "|")
    for name, _ in STAGES:
        row = [f"{column[name]:.0f}" for column in columns]
        if len(columns) > 1:
            row.append(f"{columns[-1][name] - columns[0][name]:+.0f}")
        print(f"| {name} | " + " | ".join(row) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
