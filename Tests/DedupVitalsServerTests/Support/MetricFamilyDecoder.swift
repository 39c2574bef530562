import Foundation

@testable import DedupVitalsCore

/// Decodes the protobuf `/metrics` (varint-length-delimited `io.prometheus.client.MetricFamily` messages) in the
/// tests, with the project's wire reader (`Sources/DedupVitalsCore/OTLP/ProtobufReader.swift`) and the field
/// numbers of prometheus/client_model's `metrics.proto`, written out here independently of the encoder. Repeated
/// scalar fields are read packed or not, as any protobuf decoder must.
struct DecodedFamily: Equatable {
    var name = ""
    var help = ""
    var type: UInt64 = 0
    var unit = ""
    var metrics: [DecodedMetric] = []
}

struct DecodedMetric: Equatable {
    var labels: [String: String] = [:]
    var gauge: Double?
    var counter: Double?
    var counterExemplar: DecodedExemplar?
    var histogram: DecodedHistogram?
}

struct DecodedExemplar: Equatable {
    var labels: [String: String] = [:]
    var value = 0.0
    var seconds: Int64 = 0
    var nanos: Int64 = 0
}

struct DecodedHistogram: Equatable {
    var count: UInt64 = 0
    var sum = 0.0
    /// Classic buckets: (upper bound, cumulative count).
    var buckets: [(bound: Double, cumulative: UInt64)] = []
    var bucketExemplars: [DecodedExemplar] = []
    var schema: Int64?
    var zeroThreshold = 0.0
    var zeroCount: UInt64 = 0
    var positiveSpans: [(offset: Int64, length: UInt64)] = []
    var positiveDeltas: [Int64] = []
    var nativeExemplars: [DecodedExemplar] = []

    /// Whether Prometheus reads it as a native histogram (by the rule of Prometheus 2.42 and of later versions).
    var isNative: Bool { zeroThreshold > 0 || zeroCount > 0 || !positiveDeltas.isEmpty || !positiveSpans.isEmpty }

    /// The absolute count of each native bucket index.
    var nativeBuckets: [Int64: Int64] {
        var result: [Int64: Int64] = [:]
        var index: Int64 = 0
        var running: Int64 = 0
        var delta = 0
        for span in positiveSpans {
            index += span.offset
            for _ in 0..<span.length {
                running += positiveDeltas[delta]
                delta += 1
                result[index] = running
                index += 1
            }
        }
        return result
    }

    static func == (lhs: DecodedHistogram, rhs: DecodedHistogram) -> Bool {
        lhs.count == rhs.count && lhs.sum == rhs.sum && lhs.buckets.map(\.bound) == rhs.buckets.map(\.bound)
            && lhs.buckets.map(\.cumulative) == rhs.buckets.map(\.cumulative) && lhs.schema == rhs.schema
            && lhs.zeroThreshold == rhs.zeroThreshold && lhs.nativeBuckets == rhs.nativeBuckets
    }
}

enum MetricFamilyDecoder {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func decode(_ bytes: [UInt8]) throws -> [DecodedFamily] {
        try bytes.withUnsafeBufferPointer { buffer in
            var reader = ProtobufReader(buffer, range: 0..<buffer.count)
            var families: [DecodedFamily] = []
            while !reader.isAtEnd {
                let range = try reader.readLengthDelimited()
                families.append(try family(reader.nested(range)))
            }
            return families
        }
    }

    private static func family(_ reader: ProtobufReader) throws -> DecodedFamily {
        var reader = reader
        var family = DecodedFamily()
        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            switch field {
            case 1: family.name = try string(&reader)
            case 2: family.help = try string(&reader)
            case 3: family.type = try reader.readVarint()
            case 4: family.metrics.append(try metric(reader.nested(try reader.readLengthDelimited())))
            case 5: family.unit = try string(&reader)
            default: try reader.skip(wire)
            }
        }
        return family
    }

    private static func metric(_ reader: ProtobufReader) throws -> DecodedMetric {
        var reader = reader
        var metric = DecodedMetric()
        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            switch field {
            case 1:
                let (name, value) = try labelPair(reader.nested(try reader.readLengthDelimited()))
                metric.labels[name] = value
            case 2: metric.gauge = try value(reader.nested(try reader.readLengthDelimited())).value
            case 3:
                let counter = try value(reader.nested(try reader.readLengthDelimited()))
                metric.counter = counter.value
                metric.counterExemplar = counter.exemplar
            case 7: metric.histogram = try histogram(reader.nested(try reader.readLengthDelimited()))
            default: try reader.skip(wire)
            }
        }
        return metric
    }

    /// A `Gauge` or `Counter`: value 1 (0 when absent), a counter's exemplar 2.
    private static func value(_ reader: ProtobufReader) throws -> (value: Double, exemplar: DecodedExemplar?) {
        var reader = reader
        var result: (value: Double, exemplar: DecodedExemplar?) = (0, nil)
        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            switch field {
            case 1: result.value = Double(bitPattern: try reader.readFixed64())
            case 2: result.exemplar = try exemplar(reader.nested(try reader.readLengthDelimited()))
            default: try reader.skip(wire)
            }
        }
        return result
    }

    private static func histogram(_ reader: ProtobufReader) throws -> DecodedHistogram {
        var reader = reader
        var histogram = DecodedHistogram()
        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            switch field {
            case 1: histogram.count = try reader.readVarint()
            case 2: histogram.sum = Double(bitPattern: try reader.readFixed64())
            case 3:
                var bucket = reader.nested(try reader.readLengthDelimited())
                var entry: (bound: Double, cumulative: UInt64) = (0, 0)
                while !bucket.isAtEnd {
                    let (bucketField, bucketWire) = try bucket.readTag()
                    switch bucketField {
                    case 1: entry.cumulative = try bucket.readVarint()
                    case 2: entry.bound = Double(bitPattern: try bucket.readFixed64())
                    case 3: histogram.bucketExemplars.append(try exemplar(bucket.nested(try bucket.readLengthDelimited())))
                    default: try bucket.skip(bucketWire)
                    }
                }
                histogram.buckets.append(entry)
            case 5: histogram.schema = unzigzag(try reader.readVarint())
            case 6: histogram.zeroThreshold = Double(bitPattern: try reader.readFixed64())
            case 7: histogram.zeroCount = try reader.readVarint()
            case 12:
                var span = reader.nested(try reader.readLengthDelimited())
                var entry: (offset: Int64, length: UInt64) = (0, 0)
                while !span.isAtEnd {
                    let (spanField, spanWire) = try span.readTag()
                    switch spanField {
                    case 1: entry.offset = unzigzag(try span.readVarint())
                    case 2: entry.length = try span.readVarint()
                    default: try span.skip(spanWire)
                    }
                }
                histogram.positiveSpans.append(entry)
            case 13:
                if wire == .lengthDelimited {
                    var packed = reader.nested(try reader.readLengthDelimited())
                    while !packed.isAtEnd { histogram.positiveDeltas.append(unzigzag(try packed.readVarint())) }
                } else {
                    histogram.positiveDeltas.append(unzigzag(try reader.readVarint()))
                }
            case 16: histogram.nativeExemplars.append(try exemplar(reader.nested(try reader.readLengthDelimited())))
            case 9, 10, 11, 14:
                throw Failure(description: "negative or float native buckets (field \(field)) are not expected")
            default: try reader.skip(wire)
            }
        }
        return histogram
    }

    private static func exemplar(_ reader: ProtobufReader) throws -> DecodedExemplar {
        var reader = reader
        var exemplar = DecodedExemplar()
        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            switch field {
            case 1:
                let (name, value) = try labelPair(reader.nested(try reader.readLengthDelimited()))
                exemplar.labels[name] = value
            case 2: exemplar.value = Double(bitPattern: try reader.readFixed64())
            case 3:
                var timestamp = reader.nested(try reader.readLengthDelimited())
                while !timestamp.isAtEnd {
                    let (timeField, timeWire) = try timestamp.readTag()
                    switch timeField {
                    case 1: exemplar.seconds = Int64(bitPattern: try timestamp.readVarint())
                    case 2: exemplar.nanos = Int64(bitPattern: try timestamp.readVarint())
                    default: try timestamp.skip(timeWire)
                    }
                }
            default: try reader.skip(wire)
            }
        }
        return exemplar
    }

    private static func labelPair(_ reader: ProtobufReader) throws -> (String, String) {
        var reader = reader
        var pair = ("", "")
        while !reader.isAtEnd {
            let (field, wire) = try reader.readTag()
            switch field {
            case 1: pair.0 = try string(&reader)
            case 2: pair.1 = try string(&reader)
            default: try reader.skip(wire)
            }
        }
        return pair
    }

    private static func string(_ reader: inout ProtobufReader) throws -> String {
        let bytes = try reader.readBytes()
        guard let text = String(validating: bytes, as: UTF8.self) else { throw Failure(description: "a string is not UTF-8") }
        return text
    }

    private static func unzigzag(_ value: UInt64) -> Int64 {
        Int64(bitPattern: value >> 1) ^ -Int64(bitPattern: value & 1)
    }
}
