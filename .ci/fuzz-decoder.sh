#!/usr/bin/env bash
# Fuzzes the ingest decoders (/v1/events JSON and NDJSON, /v1/logs OTLP protobuf and JSON) for a bounded time
# (default 60 s): libFuzzer through -sanitize=fuzzer when the toolchain links it, else a seeded random-mutation
# loop over the same corpus. Any broken invariant or crash fails the run.
# Usage: .ci/fuzz-decoder.sh [SECONDS] [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
seed="${2:-$(date +%s)}"
out=.build/fuzz
mkdir -p "$out"
corpus="$out/corpus"
rm -rf "$corpus" && mkdir -p "$corpus" && cp Fuzz/corpus/* "$corpus/"
rm -f "$out"/crash-* "$out"/leak-* "$out"/timeout-*
# The decoder and what it uses (the rest of the core module needs package dependencies a bare swiftc lacks).
core=(Sources/DedupVitalsCore/{EventDecoder,EventDecodingError,Event,EventRules,EventFieldCheck,JSONInteger,TraceContext,Outcome,BodyFormat,RFC3339,UTF8Validation,SeriesKey,SeriesNames,HashMixing,HashedKey,KeyHash,KeyBytesHashing}.swift
      Sources/DedupVitalsCore/Base64.swift Sources/DedupVitalsCore/OTLP/*.swift)

if swiftc -O -g -sanitize=fuzzer,address -parse-as-library -module-name DecoderFuzz \
     "${core[@]}" Fuzz/DecoderFuzzTarget.swift Fuzz/OTLPFuzzTarget.swift Fuzz/LibFuzzerEntry.swift -o "$out/fuzz-decoder" 2>"$out/libfuzzer-build.log"; then
  echo "fuzz-decoder: libFuzzer for ${seconds}s (seed $seed)"
  # libFuzzer reports crashes itself; the Swift backtracer would attach to the dying process and hold the run.
  SWIFT_BACKTRACE=enable=no "$out/fuzz-decoder" -seed="$seed" -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$out/" -print_final_stats=1 "$corpus" 2>&1 | tail -n 15
  exit "${PIPESTATUS[0]}"
fi

echo "fuzz-decoder: -sanitize=fuzzer did not link ($(head -n 1 "$out/libfuzzer-build.log")); using the mutation loop"
swiftc -O -parse-as-library -module-name DecoderFuzz \
  "${core[@]}" Fuzz/DecoderFuzzTarget.swift Fuzz/OTLPFuzzTarget.swift Fuzz/MutationLoop.swift -o "$out/mutation-loop"
SWIFT_BACKTRACE=enable=no "$out/mutation-loop" "$seconds" "$seed" "$corpus"
