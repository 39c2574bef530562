import Foundation

/// A seeded random-mutation fuzzer, for toolchains where -sanitize=fuzzer does not link:
/// `MutationLoop SECONDS SEED CORPUS_DIR` mutates the corpus files (bit flips, byte splices, cuts, duplications,
/// interesting bytes) and runs the decoder on each mutant until the time is up.
@main
enum MutationLoop {
    static func main() throws {
        let arguments = CommandLine.arguments
        guard arguments.count == 4, let seconds = Double(arguments[1]), let seed = UInt64(arguments[2]) else {
            FileHandle.standardError.write(Data("usage: MutationLoop SECONDS SEED CORPUS_DIR\n".utf8))
            exit(64)
        }
        let directory = arguments[3]
        let corpus = try FileManager.default.contentsOfDirectory(atPath: directory).sorted().map {
            [UInt8](try Data(contentsOf: URL(fileURLWithPath: directory + "/" + $0)))
        }
        guard !corpus.isEmpty else { exit(66) }
        var random = SplitMix(seed: seed)
        let interesting: [[UInt8]] = [
            [0x22], [0x5C], [0x00], [0xFF], [0xC3, 0x28], [0x5B], [0x7B], [0x7D], [0x5D], [0x0A],
            Array("1e999".utf8), Array("NaN".utf8), Array("\\u0000".utf8), Array("-".utf8),
        ]
        let deadline = Date().addingTimeInterval(seconds)
        var runs = 0
        while Date() < deadline {
            for _ in 0..<1_000 {
                var input = corpus[Int(random.next() % UInt64(corpus.count))]
                for _ in 0...(random.next() % 4) { mutate(&input, &random, interesting) }
                input.withUnsafeBufferPointer { checkDecoder($0) }
                runs += 1
            }
        }
        print("mutation loop: \(runs) inputs in \(Int(seconds)) s, seed \(seed), no invariant broken")
    }

    static func mutate(_ input: inout [UInt8], _ random: inout SplitMix, _ interesting: [[UInt8]]) {
        let position = input.isEmpty ? 0 : Int(random.next() % UInt64(input.count))
        switch random.next() % 6 {
        case 0 where !input.isEmpty: input[position] ^= UInt8(1 << (random.next() % 8))
        case 1 where !input.isEmpty: input[position] = UInt8(truncatingIfNeeded: random.next())
        case 2: input.insert(contentsOf: interesting[Int(random.next() % UInt64(interesting.count))], at: position)
        case 3: input.removeSubrange(position..<input.count)
        case 4 where !input.isEmpty:
            let end = min(input.count, position + 1 + Int(random.next() % 64))
            input.insert(contentsOf: input[position..<end], at: position)
        default:
            let end = min(input.count, position + Int(random.next() % 16))
            input.removeSubrange(position..<end)
        }
    }
}

/// A small seeded generator (SplitMix64).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
