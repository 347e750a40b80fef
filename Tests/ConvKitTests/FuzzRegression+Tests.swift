import ConvKit
import Testing

/// Inputs the libFuzzer targets in Fuzz/ found (docs/Fuzzing.md), each asserting the typed
/// error that the reader now throws. The same bytes are in Tests/FuzzCorpus/<reader>/ so that
/// the fuzzers start from them.
@Suite struct FuzzRegressionTests {
    /// fuzz-idx, crash-mnist-empty-images.idx (base64 `AAAIAwADAAAAAAAAALwAvQ==`): a valid,
    /// empty IDX array of shape [196608, 0, 12320957]. `MNIST.images(padding: 2)` used to
    /// allocate 196608·4·12320961 ≈ 9.7·10¹² floats (and a larger count overflowed Int) from
    /// a 16-byte file; images with 0 rows or columns are now refused before allocating.
    @Test func mnistImagesRefuseEmptyImagesWhateverTheCount() throws {
        let bytes: [UInt8] = [0, 0, 8, 3, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0xbc, 0, 0xbd]
        let array = try IDXArray(parsing: bytes)
        #expect(array.dimensions == [196608, 0, 12320957])
        #expect(array.bytes.isEmpty)
        for padding in [0, 2] {
            let error = #expect(throws: FileFormatError.self) { try MNIST.images(array, padding: padding) }
            #expect(error?.reason == .invalidShape, "padding \(padding): \(String(describing: error))")
        }
        // The Int-overflowing variant: 2^32−1 images of 0 × (2^32−1) pixels.
        let huge = try IDXArray(parsing: IDXArray.encode(dimensions: [0xFFFF_FFFF, 0, 0xFFFF_FFFF], bytes: []))
        let error = #expect(throws: FileFormatError.self) { try MNIST.images(huge, padding: 2) }
        #expect(error?.reason == .invalidShape)
        // Columns 0 as well as rows 0.
        let noColumns = try IDXArray(parsing: IDXArray.encode(dimensions: [5, 28, 0], bytes: []))
        #expect(throws: FileFormatError.self) { try MNIST.images(noColumns, padding: 2) }
    }
}

/// A `.npy` header longer than 64 KiB is rejected before it is parsed.
@Test func npyRejectsHugeHeaders() throws {
    var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [2, 0]
    let length = NPY.maximumHeaderLength + 1
    bytes += [UInt8(length & 0xff), UInt8((length >> 8) & 0xff), UInt8((length >> 16) & 0xff), 0]
    bytes += [UInt8](repeating: 0x20, count: length)
    do {
        _ = try NPY.decode(bytes)
        Issue.record("a 64 KiB + 1 header was accepted")
    } catch {
        #expect(error.reason == .tooLarge)
        #expect(error.message == "npy: header length 65537 exceeds the limit of 65536 bytes")
    }
}
