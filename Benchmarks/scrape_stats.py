#!/usr/bin/env python3
"""Counts what Prometheus would store from one /metrics body (docs/performance.md#scrape), from stdin.

Usage: scrape_stats.py text|protobuf < body

Prints "SAMPLES SERIES_HISTOGRAMS": the samples of one scrape (a text sample line is one; in the protobuf format a
counter or gauge metric is one, a native histogram is one, a classic histogram is its buckets + 1 (+Inf) + 2 (sum,
count)), and how many histograms were native. The protobuf body is read with a minimal wire-format reader
(varint-delimited io.prometheus.client.MetricFamily messages).
"""
import sys


def varint(data, pos):
    value, shift = 0, 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def fields(data, start, end):
    """Yields (field number, wire type, value or (start, end)) of one message."""
    pos = start
    while pos < end:
        key, pos = varint(data, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = varint(data, pos)
        elif wire == 1:
            value, pos = data[pos:pos + 8], pos + 8
        elif wire == 2:
            length, pos = varint(data, pos)
            value, pos = (pos, pos + length), pos + length
        elif wire == 5:
            value, pos = data[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"wire type {wire}")
        yield field, wire, value


def protobuf(data):
    samples = native = 0
    pos = 0
    while pos < len(data):
        length, pos = varint(data, pos)
        for field, _, value in fields(data, pos, pos + length):
            if field != 4:
                continue
            for metric_field, _, metric_value in fields(data, *value):
                if metric_field in (2, 3, 5):
                    samples += 1
                elif metric_field == 7:
                    histogram = list(fields(data, *metric_value))
                    if any(f in (6, 7, 12, 13) for f, _, _ in histogram):
                        samples += 1
                        native += 1
                    else:
                        buckets = sum(1 for f, _, _ in histogram if f == 3)
                        samples += buckets + 3
        pos += length
    return samples, native


def main():
    data = sys.stdin.buffer.read()
    if sys.argv[1] == "protobuf":
        samples, native = protobuf(data)
    else:
        samples = sum(1 for line in data.split(b"\n") if line and not line.startswith(b"#"))
        native = 0
    print(samples, native)


if __name__ == "__main__":
    main()
