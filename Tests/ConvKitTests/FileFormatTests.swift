import ConvKit
import Foundation
import Testing
import _ConvKitTestSupport

/// A unique path in the temporary directory (tests run in parallel).
func temporaryPath(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("convkit-\(UUID().uuidString)-\(name)").path
}

/// The repository root, from this file's path (Tests/ConvKitTests/FileFormatTests.swift).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

private func le64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }
private func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xff), UInt8(v >> 8)] }
private func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)] }

/// A safetensors file from a header text and data bytes (header length computed unless given).
private func safetensorsBytes(_ header: String, data: [UInt8] = [], length: UInt64? = nil) -> [UInt8] {
    let h = Array(header.utf8)
    return le64(length ?? UInt64(h.count)) + h + data
}

/// A .npy file (v1.0) from a header dict text and data bytes.
private func npyBytes(_ dict: String, data: [UInt8] = [], major: UInt8 = 1) -> [UInt8] {
    let h = Array((dict + "\n").utf8)
    return [0x93] + Array("NUMPY".utf8) + [major, 0] + le16(h.count) + h + data
}

@Suite struct SafetensorsTests {
    @Test func roundTripKeepsNamesShapesValuesAndMetadata() throws {
        let a = try Tensor(shape: [2, 3], scalars: [1, -2, 3.5, .infinity, 0, -0.0])
        let b = randomTensor([4], seed: 71)
        let scalar = try Tensor(shape: [], scalars: [42])
        let file = Safetensors(tensors: [("conv.weight", a), ("conv.bias", b), ("step \"quoted\"", scalar)],
                               metadata: ["format": "pt", "note": "line\nbreak"])
        let path = temporaryPath("round.safetensors")
        try file.write(to: path)
        let back = try Safetensors(contentsOf: path)
        #expect(back == file)
        let bytes = try file.encoded()
        let headerLength = Int(bytes[0]) | Int(bytes[1]) << 8
        #expect(headerLength % 8 == 0)  // data aligned to 8 bytes
    }

    @Test func knownBytesFromTheSpecification() throws {
        // One F32 tensor [2] = (1.0, 2.0): 1.0 = 0x3F800000, 2.0 = 0x40000000, little-endian.
        let bytes = safetensorsBytes(#"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
                                     data: [0, 0, 0x80, 0x3f, 0, 0, 0, 0x40])
        let file = try Safetensors(parsing: bytes)
        #expect(file["x"]?.scalars == [1, 2])
    }

    static let malformed: [(String, [UInt8], FileFormatError.Reason)] = [
        ("empty file", [], .truncated),
        ("5 bytes", [1, 0, 0, 0, 0], .truncated),
        ("header length past end of file", safetensorsBytes("{}", length: 64), .truncated),
        ("header length 10^12", safetensorsBytes("{}", length: 1_000_000_000_000), .tooLarge),
        ("header not JSON", safetensorsBytes("{not json}   "), .malformedHeader),
        ("header a JSON array", safetensorsBytes("[1, 2]"), .malformedHeader),
        ("dtype U8", safetensorsBytes(#"{"x":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}"#, data: [0, 0]), .unsupportedType),
        ("dtype BOOL", safetensorsBytes(#"{"x":{"dtype":"BOOL","shape":[1],"data_offsets":[0,1]}}"#, data: [1]), .unsupportedType),
        ("F16 offsets spanning 4 bytes per element", safetensorsBytes(#"{"x":{"dtype":"F16","shape":[2],"data_offsets":[0,8]}}"#, data: [UInt8](repeating: 0, count: 8)), .inconsistentSize),
        ("I64 above 2^24", safetensorsBytes(#"{"x":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}"#, data: le64(16_777_217)), .invalidValue),
        ("I32 below -2^24", safetensorsBytes(#"{"x":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}"#, data: Array(le64(UInt64(bitPattern: -16_777_217)).prefix(4))), .invalidValue),
        ("F64 beyond Float's range", safetensorsBytes(#"{"x":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}"#, data: le64((1e39).bitPattern)), .invalidValue),
        ("negative dimension", safetensorsBytes(#"{"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), .invalidShape),
        ("overflowing dimensions", safetensorsBytes(#"{"x":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), .invalidShape),
        ("10^12 elements in a tiny file", safetensorsBytes(#"{"x":{"dtype":"F32","shape":[1000000,1000000],"data_offsets":[0,4000000000000]}}"#, data: [0, 0, 0, 0]), .invalidOffsets),
        ("fractional dimension", safetensorsBytes(#"{"x":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), .malformedHeader),
        ("offsets reversed", safetensorsBytes(#"{"x":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#, data: [UInt8](repeating: 0, count: 8)), .invalidOffsets),
        ("offsets past the data", safetensorsBytes(#"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: [0, 0, 0, 0]), .invalidOffsets),
        ("negative offset", safetensorsBytes(#"{"x":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}"#, data: [0, 0, 0, 0]), .invalidOffsets),
        ("offsets overlapping", safetensorsBytes(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, data: [UInt8](repeating: 0, count: 12)), .invalidOffsets),
        ("offsets not matching the shape", safetensorsBytes(#"{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: [UInt8](repeating: 0, count: 12)), .inconsistentSize),
        ("data_offsets missing", safetensorsBytes(#"{"x":{"dtype":"F32","shape":[1]}}"#, data: [0, 0, 0, 0]), .malformedHeader),
        ("metadata not strings", safetensorsBytes(#"{"__metadata__":{"a":1}}"#), .malformedHeader),
    ]

    @Test(arguments: malformed)
    func malformedFilesThrowTheirReason(name: String, bytes: [UInt8], reason: FileFormatError.Reason) {
        let error = #expect(throws: FileFormatError.self, "\(name)") { try Safetensors(parsing: bytes) }
        #expect(error?.reason == reason, "\(name): \(String(describing: error))")
        #expect(error?.message.isEmpty == false)
    }

    /// One file with a tensor of every dtype read besides F32, bytes written by hand:
    /// F16 1, −2, 65504 (largest), 2⁻²⁴ (smallest subnormal), −∞, 0x3555 = 0.333251953125;
    /// BF16 1, −2.5, 0x4049 = 3.140625; F64 1.5, −0.1, +∞; I64 7, −3, 2²⁴; I32 42, −1.
    @Test func readsEveryDataTypeExactly() throws {
        let f16: [UInt8] = [0x00, 0x3C, 0x00, 0xC0, 0xFF, 0x7B, 0x01, 0x00, 0x00, 0xFC, 0x55, 0x35]
        let bf16: [UInt8] = [0x80, 0x3F, 0x20, 0xC0, 0x49, 0x40]
        let f64 = le64((1.5).bitPattern) + le64((-0.1).bitPattern) + le64(Double.infinity.bitPattern)
        let i64 = le64(7) + le64(UInt64(bitPattern: -3)) + le64(16_777_216)
        let i32: [UInt8] = [42, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]
        let header = #"{"half":{"dtype":"F16","shape":[2,3],"data_offsets":[0,12]},"#
            + #""brain":{"dtype":"BF16","shape":[3],"data_offsets":[12,18]},"#
            + #""double":{"dtype":"F64","shape":[3],"data_offsets":[18,42]},"#
            + #""count":{"dtype":"I64","shape":[3],"data_offsets":[42,66]},"#
            + #""small":{"dtype":"I32","shape":[2],"data_offsets":[66,74]}}"#
        let file = try Safetensors(parsing: safetensorsBytes(header, data: f16 + bf16 + f64 + i64 + i32))
        #expect(file["half"]?.shape == [2, 3])
        #expect(file["half"]?.scalars == [1, -2, 65504, 0x1p-24, -.infinity, 0.333251953125])
        #expect(file["brain"]?.scalars == [1, -2.5, 3.140625])
        #expect(file["double"]?.scalars == [1.5, Float(-0.1), .infinity])
        #expect(file["count"]?.scalars == [7, -3, 16_777_216])
        #expect(file["small"]?.scalars == [42, -1])
        // Integer tensors keep their dtype (written back as such); floating-point ones become F32.
        #expect(file.dataTypes == ["count": .i64, "small": .i32])
        let back = try Safetensors(parsing: file.encoded())
        #expect(back == file)
        #expect(back.dataTypes == ["count": .i64, "small": .i32])
    }

    @Test func writesIntegerTensorsAsI64() throws {
        let file = Safetensors(tensors: [("steps", Tensor(shape: [], repeating: 12)), ("w", Tensor([0.5, -1]))],
                               dataTypes: ["steps": .i64])
        let bytes = try file.encoded()
        let headerLength = Int(bytes[0]) | Int(bytes[1]) << 8
        let header = String(decoding: bytes[8..<(8 + headerLength)], as: UTF8.self)
        #expect(header.hasPrefix(#"{"steps":{"dtype":"I64","shape":[],"data_offsets":[0,8]},"w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}"#))
        #expect(Array(bytes[(8 + headerLength)..<(16 + headerLength)]) == le64(12))
        #expect(try Safetensors(parsing: bytes) == file)
        let fraction = Safetensors(tensors: [("steps", Tensor([1.5]))], dataTypes: ["steps": .i64])
        let notWhole = #expect(throws: FileFormatError.self) { try fraction.encoded() }
        #expect(notWhole?.reason == .invalidValue)
        #expect(notWhole?.message == "safetensors: tensor 'steps' element 0 is 1.5, not a whole number that I64 holds")
        let half = #expect(throws: FileFormatError.self) { try Safetensors(tensors: [("h", Tensor([1]))], dataTypes: ["h": .f16]).encoded() }
        #expect(half?.reason == .unsupportedType)
        let wide = Safetensors(tensors: [("d", Tensor([0.1, -3]))], dataTypes: ["d": .f64])
        let read = try Safetensors(parsing: wide.encoded())
        #expect(read["d"]?.scalars == [0.1, -3] && read.dataTypes.isEmpty)  // F64 is read back into F32
    }

    @Test func integerOverflowErrorNamesTheTensor() {
        let bytes = safetensorsBytes(#"{"bn.num_batches_tracked":{"dtype":"I64","shape":[],"data_offsets":[0,8]}}"#, data: le64(1 << 40))
        let error = #expect(throws: FileFormatError.self) { try Safetensors(parsing: bytes) }
        #expect(error?.message == "safetensors: tensor 'bn.num_batches_tracked' element 0 is 1099511627776; integers are read into Float only within ±2^24 = 16777216, where each is exact")
    }

    @Test func missingFileIsAnIOError() {
        let error = #expect(throws: FileFormatError.self) { try Safetensors(contentsOf: "/nonexistent/x.safetensors") }
        #expect(error?.reason == .io)
        #expect(error?.message.contains("/nonexistent/x.safetensors") == true)
    }
}

@Suite struct NPYTests {
    @Test(arguments: [[2, 3], [5], [], [2, 0, 3], [1, 2, 3, 4]] as [Shape])
    func roundTrip(shape: Shape) throws {
        let t = randomTensor(shape, seed: 81)
        let bytes = NPY.encode(t)
        #expect(bytes.count == 128 || (bytes.count - 4 * t.count) % 64 == 0)  // header padded to 64
        #expect(try NPY.decode(bytes) == t)
        let path = temporaryPath("t.npy")
        try NPY.write(t, to: path)
        #expect(try NPY.read(path) == t)
    }

    /// `numpy.save(f, np.arange(6, dtype='<f4').reshape(2, 3))` with NumPy 2.4.6: 152 bytes.
    static let numpyArange: [UInt8] = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00] + Array("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }".utf8)
        + [UInt8](repeating: 0x20, count: 58) + [0x0a]
        + [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x40, 0x40, 0x00, 0x00, 0x80, 0x40, 0x00, 0x00, 0xa0, 0x40]

    @Test func byteIdenticalToNumPy() throws {
        #expect(Self.numpyArange.count == 152)
        let t = try NPY.decode(Self.numpyArange)
        #expect(t.shape == [2, 3] && t.scalars == [0, 1, 2, 3, 4, 5])
        #expect(NPY.encode(t) == Self.numpyArange)
    }

    @Test func headerWrittenLikeNumPy() throws {
        let bytes = NPY.encode(try Tensor(shape: [3], scalars: [1, 2, 3]))
        let header = String(decoding: bytes[10..<(10 + Int(bytes[8]))], as: UTF8.self)
        #expect(header.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }"))
        #expect(header.hasSuffix("\n"))
    }

    @Test func readsVersion2AndDoubleQuotes() throws {
        let dict = Array(#"{"descr": "<f4", "fortran_order": False, "shape": (1,)}"#.utf8) + [0x0A]
        let v2 = [0x93] + Array("NUMPY".utf8) + [2, 0] + [UInt8(dict.count), 0, 0, 0] + dict + [0, 0, 0x80, 0x3f]
        #expect(try NPY.decode(v2).scalars == [1])
    }

    static let malformed: [(String, [UInt8], FileFormatError.Reason)] = [
        ("empty file", [], .truncated),
        ("bad magic", Array("\u{7f}NUMPZ".utf8) + [1, 0, 0, 0], .badMagic),
        ("version 4.0", npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", major: 4), .unsupportedVersion),
        ("header past end", [0x93] + Array("NUMPY".utf8) + [1, 0, 0xff, 0x00] + Array("{'descr'".utf8), .truncated),
        ("float64", npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", data: [UInt8](repeating: 0, count: 8)), .unsupportedType),
        ("big-endian float32", npyBytes("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", data: [0, 0, 0, 0]), .unsupportedType),
        ("int32", npyBytes("{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }", data: [0, 0, 0, 0]), .unsupportedType),
        ("fortran order", npyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", data: [UInt8](repeating: 0, count: 16)), .unsupportedLayout),
        ("negative dimension", npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }"), .invalidShape),
        ("dimension overflowing Int", npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }"), .invalidShape),
        ("product overflowing Int", npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }"), .invalidShape),
        ("10^12 elements in a tiny file", npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000), }", data: [0, 0, 0, 0]), .truncated),
        ("data truncated", npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", data: [0, 0, 0, 0]), .truncated),
        ("trailing bytes", npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", data: [UInt8](repeating: 0, count: 8)), .inconsistentSize),
        ("header not a dict", npyBytes("[1, 2, 3]"), .malformedHeader),
        ("shape missing", npyBytes("{'descr': '<f4', 'fortran_order': False, }"), .malformedHeader),
        ("unterminated string", npyBytes("{'descr: <f4}"), .malformedHeader),
    ]

    @Test(arguments: malformed)
    func malformedFilesThrowTheirReason(name: String, bytes: [UInt8], reason: FileFormatError.Reason) {
        let error = #expect(throws: FileFormatError.self, "\(name)") { try NPY.decode(bytes) }
        #expect(error?.reason == reason, "\(name): \(String(describing: error))")
    }
}

@Suite struct IDXTests {
    @Test func roundTripAndMNISTScaling() throws {
        let bytes = try IDXArray.encode(dimensions: [2, 2, 3], bytes: [0, 255, 51, 1, 2, 3, 4, 5, 6, 7, 8, 9])
        let array = try IDXArray(parsing: bytes)
        #expect(array.dimensions == [2, 2, 3])
        let images = try MNIST.images(array, padding: 1)
        #expect(images.shape == [2, 1, 4, 5])
        // Image 0, row 0 lands at padded row 1, columns 1...3: 0, 1, 0.2.
        #expect(images[flat: 5 + 1] == 0 && images[flat: 5 + 2] == 1 && images[flat: 5 + 3] == Float(51.0 / 255.0))
        #expect(images[flat: 0] == 0)
        let labels = try MNIST.labels(IDXArray(parsing: IDXArray.encode(dimensions: [3], bytes: [0, 9, 4])))
        #expect(labels == [0, 9, 4])
    }

    @Test func bundledMNISTSubsetLoads() throws {
        let dir = repositoryRoot + "/Data/mnist-subset"
        let (x, y) = try MNIST.load(images: dir + "/mnist-subset-test-images.idx3-ubyte",
                                    labels: dir + "/mnist-subset-test-labels.idx1-ubyte", padding: 2)
        #expect(x.shape == [1000, 1, 32, 32])
        #expect(y.count == 1000)
        #expect((0..<10).allSatisfy { c in y.filter { $0 == c }.count == 100 })  // 100 per class (README)
    }

    static let malformed: [(String, [UInt8], FileFormatError.Reason)] = [
        ("empty file", [], .truncated),
        ("gzip file cut short", [0x1f, 0x8b, 8, 0, 0, 0], .truncated),
        ("bad magic", [1, 0, 8, 1] + be32(1) + [0], .badMagic),
        ("float elements", [0, 0, 0x0d, 1] + be32(1) + [0, 0, 0, 0], .unsupportedType),
        ("rank 0", [0, 0, 8, 0], .invalidShape),
        ("dimensions truncated", [0, 0, 8, 3] + be32(2) + [0, 0], .truncated),
        ("10^12 bytes announced", [0, 0, 8, 3] + be32(1_000_000) + be32(1_000_000) + be32(1) + [1, 2, 3], .truncated),
        ("product overflows", [0, 0, 8, 4] + be32(.max) + be32(.max) + be32(.max) + be32(.max), .invalidShape),
        ("data truncated", [0, 0, 8, 1] + be32(3) + [1, 2], .truncated),
        ("trailing bytes", [0, 0, 8, 1] + be32(1) + [1, 2], .inconsistentSize),
    ]

    @Test(arguments: malformed)
    func malformedFilesThrowTheirReason(name: String, bytes: [UInt8], reason: FileFormatError.Reason) {
        let error = #expect(throws: FileFormatError.self, "\(name)") { try IDXArray(parsing: bytes) }
        #expect(error?.reason == reason, "\(name): \(String(describing: error))")
    }

    @Test func labelsOutOfRangeAndWrongRanks() throws {
        let bad = #expect(throws: FileFormatError.self) {
            try MNIST.labels(IDXArray(parsing: IDXArray.encode(dimensions: [3], bytes: [0, 12, 4])))
        }
        #expect(bad?.reason == .invalidValue)
        #expect(bad?.message == "label 1 is 12, expected 0..<10")
        let rank = #expect(throws: FileFormatError.self) {
            try MNIST.images(IDXArray(parsing: IDXArray.encode(dimensions: [4], bytes: [0, 1, 2, 3])))
        }
        #expect(rank?.reason == .invalidShape)
    }
}

@Suite struct CheckpointTests {
    @Test func savedThenLoadedGivesIdenticalOutputs() throws {
        var rng = SplitMix64(seed: 91)
        let model = Sequential(try Conv2D(inputChannels: 1, outputChannels: 2, kernelSize: 3, using: &rng), Flatten(),
                               try Dense(inputFeatures: 2 * 4 * 4, outputFeatures: 3, using: &rng))
        let path = temporaryPath("model.safetensors")
        try model.saveCheckpoint(to: path, metadata: ["epoch": "1"])
        var other = Sequential(try Conv2D(inputChannels: 1, outputChannels: 2, kernelSize: 3, initializer: .zeros, using: &rng), Flatten(),
                               try Dense(inputFeatures: 2 * 4 * 4, outputFeatures: 3, initializer: .zeros, using: &rng))
        try other.loadCheckpoint(from: path)
        let x = randomTensor([2, 1, 6, 6], seed: 92)
        #expect(try other(x) == model(x))
        #expect(try Safetensors(contentsOf: path).metadata == ["epoch": "1"])
    }

    @Test func wrongModelIsRejected() throws {
        var rng = SplitMix64(seed: 93)
        let small = try Dense(inputFeatures: 2, outputFeatures: 2, using: &rng)
        var large = try Dense(inputFeatures: 3, outputFeatures: 2, using: &rng)
        let before = large
        let error = #expect(throws: FileFormatError.self) { try large.loadParameters(from: small.checkpoint()) }
        #expect(error?.reason == .modelMismatch)
        #expect(error?.message == "checkpoint tensor 'weight' has shape [2, 2], the model expects [2, 3]")
        #expect(large.parameters == before.parameters)
        let missing = #expect(throws: FileFormatError.self) { try large.loadParameters(from: Safetensors(tensors: [])) }
        #expect(missing?.message == "checkpoint lacks tensor 'weight' (shape [2, 3])")
    }
}
