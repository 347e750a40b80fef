import ConvKit
import Foundation
import Testing

// Hostile inputs at small scale: each asserts the typed error or the value, and
// where practical that memory stays bounded (see docs/Fuzzing.md, "Reader limits").

private func le64(_ v: Int) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

/// A safetensors file of `count` zero-size F32 tensors (`[0]`, offsets `[0, 0]`), no data.
private func zeroSizeTensors(_ count: Int) -> [UInt8] {
    var header = Array("{".utf8)
    header.reserveCapacity(60 * count)
    for i in 0..<count {
        if i > 0 { header.append(UInt8(ascii: ",")) }
        header += Array("\"t\(i)\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}".utf8)
    }
    header.append(UInt8(ascii: "}"))
    return le64(header.count) + header
}

private func safetensors(_ header: String, data: [UInt8] = []) -> [UInt8] {
    let h = Array(header.utf8)
    return le64(h.count) + h + data
}

/// The process's peak resident set (VmHWM), in bytes; nil where /proc is missing.
private func peakResidentBytes() -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kb = Int(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
    return kb * 1024
}

/// CRC-32 (gzip's), for building test members.
private func crc32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        crc ^= UInt32(b)
        for _ in 0..<8 { crc = crc & 1 != 0 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
    }
    return crc ^ 0xFFFF_FFFF
}

/// A gzip member, one fixed-Huffman block: `prefix` as literals, then `matches` copies of 258
/// bytes at distance 1 (13 bits each: the cheapest way to a big output without dynamic tables).
/// `trailerData` is what the CRC and length are computed over (nil: no trailer needed).
private func gzipRuns(prefix: [UInt8], matches: Int, trailerData: [UInt8]?) -> [UInt8] {
    var out: [UInt8] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]
    var buffer: UInt64 = 0, used = 0
    func put(_ value: Int, _ count: Int) {  // LSB first
        buffer |= UInt64(value) << UInt64(used)
        used += count
        while used >= 8 { out.append(UInt8(truncatingIfNeeded: buffer)); buffer >>= 8; used -= 8 }
    }
    func putCode(_ code: Int, _ length: Int) {  // Huffman codes go MSB first
        for i in stride(from: length - 1, through: 0, by: -1) { put((code >> i) & 1, 1) }
    }
    func literal(_ b: UInt8) {
        if b < 144 { putCode(0x30 + Int(b), 8) } else { putCode(0x190 + Int(b) - 144, 9) }
    }
    put(1, 1)  // last block
    put(1, 2)  // fixed Huffman
    for b in prefix { literal(b) }
    for _ in 0..<matches {
        putCode(0xC0 + 5, 8)  // length symbol 285 = 258
        putCode(0, 5)         // distance 1
    }
    putCode(0, 7)  // end of block (256)
    if used > 0 { put(0, 8 - used) }
    let data = trailerData ?? []
    let size = UInt32(truncatingIfNeeded: data.count), crc = crc32(data)
    for v in [crc, size] { for k in 0..<4 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(k)))) } }
    return out
}

@Suite struct ReaderLimitsTests {
    // MARK: Probe 1: small files that used to cost gigabytes

    /// 1.4 million zero-size tensors in an 84 MB header were accepted at a 5.49 GB peak; the
    /// count is now capped (zero-size tensors included) and the JSON read in one pass.
    @Test func safetensorsTensorCountIsCapped() throws {
        let atLimit = try Safetensors(parsing: zeroSizeTensors(Safetensors.maximumTensorCount))
        #expect(atLimit.tensors.count == 65_536)
        #expect(atLimit.tensors.allSatisfy { $0.tensor.count == 0 })
        for count in [Safetensors.maximumTensorCount + 1, 100_000] {
            let error = #expect(throws: FileFormatError.self) { try Safetensors(parsing: zeroSizeTensors(count)) }
            #expect(error?.reason == .tooLarge)
            #expect(error?.message == "safetensors: more than 65536 tensors")
        }
    }

    @Test func safetensorsMetadataCountIsCapped() throws {
        let entries = (0...Safetensors.maximumMetadataCount).map { "\"k\($0)\":\"v\"" }.joined(separator: ",")
        let error = #expect(throws: FileFormatError.self) { try Safetensors(parsing: safetensors("{\"__metadata__\":{\(entries)}}")) }
        #expect(error?.reason == .tooLarge)
    }

    /// A gzip IDX whose deflate data runs on past the size its IDX header announces stops there
    /// (it used to inflate up to the 1 GiB cap first).
    @Test func gzipIDXStopsAtTheAnnouncedSize() throws {
        let header: [UInt8] = [0, 0, 8, 1, 0, 0, 0, 16]
        // 8 header bytes + 1 literal + 100,000 × 258 bytes ≈ 25.8 MB of output from 163 KB.
        let bomb = gzipRuns(prefix: header + [7], matches: 100_000, trailerData: nil)
        let before = peakResidentBytes()
        let error = #expect(throws: FileFormatError.self) { try IDXArray(parsing: bomb) }
        #expect(error?.reason == .inconsistentSize)
        #expect(error?.message == "gzip: decompressed data is longer than the 24 bytes its header announces")
        if let before, let after = peakResidentBytes() {
            // Process-wide and monotone: other tests may raise it, never lower it; 25 MB of
            // output would show unless the reader stopped at 24 bytes.
            #expect(after - before < 256 << 20, "peak RSS grew by \(after - before) bytes")
        }
    }

    /// A bomb whose first bytes are not an IDX header stops after 4 bytes (it used to be refused
    /// as `.tooLarge` at the 1 GiB cap).
    @Test func gzipBombWithoutIDXHeaderStopsAtOnce() {
        let bomb = gzipRuns(prefix: [0], matches: 50_000, trailerData: nil)
        let error = #expect(throws: FileFormatError.self) { try IDXArray(parsing: bomb) }
        #expect(error?.reason == .unsupportedType)
    }

    /// A header announcing more than the 1 GiB cap is refused before inflating further.
    @Test func gzipIDXAnnouncingMoreThanTheCapIsRefusedAtOnce() {
        let header: [UInt8] = [0, 0, 8, 2, 0, 1, 0, 0, 0, 1, 0, 0]  // 65536 × 65536 bytes = 4 GiB
        let error = #expect(throws: FileFormatError.self) {
            try IDXArray(parsing: gzipRuns(prefix: header, matches: 10, trailerData: nil))
        }
        #expect(error?.reason == .tooLarge)
        #expect(error?.message.contains("announces 4294967308 bytes") == true)
    }

    /// A valid, highly compressed IDX: the result is right and its buffer was never grown past
    /// the announced size (doubling used to leave up to 2× the data allocated).
    @Test func gzipIDXBufferStaysAtTheAnnouncedSize() throws {
        let count = 1 + 258 * 65_536  // 16,908,289 bytes of 7s from 106 KB
        let dims = [count]
        let header: [UInt8] = [0, 0, 8, 1] + (0..<4).map { UInt8(truncatingIfNeeded: count >> (24 - 8 * $0)) }
        let data = header + [UInt8](repeating: 7, count: count)
        let file = gzipRuns(prefix: header + [7], matches: (count - 1) / 258, trailerData: data)
        #expect((count - 1) % 258 == 0)
        let array = try IDXArray(parsing: file)
        #expect(array.dimensions == dims)
        #expect(array.bytes.count == count && array.bytes.allSatisfy { $0 == 7 })
        #expect(array.bytes.capacity - array.bytes.count < 64 << 10, "capacity \(array.bytes.capacity) for \(count) bytes")
    }

    // MARK: Probe 2: sizes that trapped or were written wrong

    @Test func mnistImagesPaddingOverflowThrows() throws {
        let array = try IDXArray(parsing: IDXArray.encode(dimensions: [1, 2, 2], bytes: [1, 2, 3, 4]))
        for padding in [Int.max, Int.max / 2, Int.max / 4, 1 << 31] {
            let error = #expect(throws: FileFormatError.self) { try MNIST.images(array, padding: padding) }
            #expect(error?.reason == .invalidShape, "padding \(padding)")
        }
        #expect(try MNIST.images(array, padding: 1).shape == [1, 1, 4, 4])
    }

    @Test func idxEncodeRefusesWhatTheHeaderCannotHold() throws {
        let cases: [(String, [Int], [UInt8], FileFormatError.Reason)] = [
            ("rank 300", [Int](repeating: 1, count: 300), [0], .invalidShape),
            ("rank 0", [], [0], .invalidShape),
            ("dimension 2^32 + 2", [(1 << 32) + 2], [], .invalidShape),
            ("negative dimension", [-1], [], .invalidShape),
            ("bytes shorter than the product", [2, 3], [1, 2, 3], .inconsistentSize),
        ]
        for (name, dimensions, bytes, reason) in cases {
            let error = #expect(throws: FileFormatError.self, "\(name)") { try IDXArray.encode(dimensions: dimensions, bytes: bytes) }
            #expect(error?.reason == reason, "\(name): \(String(describing: error))")
        }
        // The largest rank and dimension the header holds still round-trip.
        let wide = try IDXArray.encode(dimensions: [Int](repeating: 1, count: 255), bytes: [9])
        #expect(try IDXArray(parsing: wide).dimensions.count == 255)
        let tall = try IDXArray.encode(dimensions: [Int(UInt32.max), 0], bytes: [])
        #expect(try IDXArray(parsing: tall).dimensions == [Int(UInt32.max), 0])
    }

    // MARK: Probe 3: paths that are not regular files

    @Test func directoryIsNamed() throws {
        let dir = temporaryPath("dir")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let error = #expect(throws: FileFormatError.self) { try IDXArray(contentsOf: dir) }
        #expect(error?.reason == .io)
        #expect(error?.message == "cannot read '\(dir)': it is a directory, not a regular file")
    }

    /// A FIFO with no writer: opening it for reading would block; it is refused from `stat`.
    @Test func fifoIsRefusedWithoutBlocking() throws {
        let path = temporaryPath("fifo")
        #expect(mkfifo(path, 0o600) == 0)
        defer { unlink(path) }
        for reader in ["safetensors", "npy", "idx"] {
            let error = #expect(throws: FileFormatError.self, "\(reader)") {
                switch reader {
                case "safetensors": _ = try Safetensors(contentsOf: path)
                case "npy": _ = try NPY.read(path)
                default: _ = try IDXArray(contentsOf: path)
                }
            }
            #expect(error?.reason == .io)
            #expect(error?.message == "cannot read '\(path)': it is a FIFO (named pipe), not a regular file")
        }
    }

    @Test func deviceAndEmptyFileAreNamed() throws {
        let device = #expect(throws: FileFormatError.self) { try NPY.read("/dev/null") }
        #expect(device?.reason == .io)
        #expect(device?.message == "cannot read '/dev/null': it is a character device, not a regular file")
        let empty = temporaryPath("empty.safetensors")
        #expect(FileManager.default.createFile(atPath: empty, contents: Data()))
        defer { try? FileManager.default.removeItem(atPath: empty) }
        let error = #expect(throws: FileFormatError.self) { try Safetensors(contentsOf: empty) }
        #expect(error?.reason == .truncated)
        #expect(error?.message == "file '\(empty)' is empty (0 bytes)")
        let missing = #expect(throws: FileFormatError.self) { try NPY.read("/nonexistent/x.npy") }
        #expect(missing?.message == "cannot read file '/nonexistent/x.npy': No such file or directory")
    }
}

/// The one-pass JSON reader of safetensors headers: what JSON allows is read, the rest refused.
@Suite struct SafetensorsHeaderJSONTests {
    @Test func escapesUnknownFieldsAndSpacing() throws {
        let header = #" { "__metadata__" : { "a\/b" : "x\u00e9\ud83d\ude00\t" } , "n\"\\" : { "extra" : [1, -2.5e3, {"k": [true, false, null]}, "s"], "dtype" : "F32" , "shape" : [ 1 ] , "data_offsets" : [ 0 , 4 ] } }   "#
        let file = try Safetensors(parsing: safetensors(header, data: [0, 0, 0x80, 0x3f]))
        #expect(file.metadata == ["a/b": "xé😀\t"])
        #expect(file.tensors.map(\.name) == ["n\"\\"])
        #expect(file["n\"\\"]?.scalars == [1])
    }

    static let malformed: [(String, String, FileFormatError.Reason)] = [
        ("duplicate tensor name", #"{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}"#, .malformedHeader),
        ("duplicate field", #"{"a":{"dtype":"F32","shape":[0],"shape":[0],"data_offsets":[0,0]}}"#, .malformedHeader),
        ("duplicate metadata key", #"{"__metadata__":{"k":"a","k":"b"}}"#, .malformedHeader),
        ("rank 65", #"{"a":{"dtype":"F32","shape":["# + [String](repeating: "1", count: 65).joined(separator: ",") + #"],"data_offsets":[0,4]}}"#, .invalidShape),
        ("three offsets", #"{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0,0]}}"#, .malformedHeader),
        ("offset 1.0", #"{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,1.0]}}"#, .malformedHeader),
        ("offset 1e2", #"{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,1e2]}}"#, .malformedHeader),
        ("dimension past Int.max", #"{"a":{"dtype":"F32","shape":[9223372036854775808],"data_offsets":[0,0]}}"#, .malformedHeader),
        ("leading zero", #"{"a":{"dtype":"F32","shape":[01],"data_offsets":[0,4]}}"#, .malformedHeader),
        ("boolean dimension", #"{"a":{"dtype":"F32","shape":[true],"data_offsets":[0,4]}}"#, .malformedHeader),
        ("nesting 65 deep in an unknown field", #"{"a":{"x":"# + String(repeating: "[", count: 65) + String(repeating: "]", count: 65) + "}}", .malformedHeader),
        ("text after the object", #"{} x"#, .malformedHeader),
        ("trailing comma", #"{"__metadata__":{},}"#, .malformedHeader),
        ("unterminated string", #"{"a"#, .malformedHeader),
        ("raw control character", "{\"a\tb\":{}}", .malformedHeader),
        ("lone surrogate", #"{"\ud800":{}}"#, .malformedHeader),
        ("bad escape", #"{"\x":{}}"#, .malformedHeader),
        ("empty header", "", .malformedHeader),
        ("single quotes", "{'a': 1}", .malformedHeader),
    ]

    @Test(arguments: malformed)
    func malformedHeadersThrowTheirReason(name: String, header: String, reason: FileFormatError.Reason) {
        let error = #expect(throws: FileFormatError.self, "\(name)") { try Safetensors(parsing: safetensors(header, data: [0, 0, 0, 0])) }
        #expect(error?.reason == reason, "\(name): \(String(describing: error))")
        #expect(error?.message.isEmpty == false)
    }

    @Test func invalidUTF8NameIsRefused() {
        let h: [UInt8] = Array(#"{""#.utf8) + [0xff, 0xfe] + Array(#"":{}}"#.utf8)
        let error = #expect(throws: FileFormatError.self) { try Safetensors(parsing: le64(h.count) + h) }
        #expect(error?.reason == .malformedHeader)
    }

    /// Nesting a million levels deep is refused at level 64, without recursion beyond that.
    @Test func deepNestingIsRefused() {
        let deep = #"{"a":{"x":"# + String(repeating: #"{"a":"#, count: 1_000_000)
        let error = #expect(throws: FileFormatError.self) { try Safetensors(parsing: safetensors(deep)) }
        #expect(error?.message.contains("nested deeper than 64 levels") == true)
    }
}
