import ConvKit
import Testing

/// Gzip-compressed IDX files. Fixtures made with Python's `gzip.compress(data, compresslevel, mtime=0)`:
/// `small` = IDX labels [3, 1, 4, 1, 5, 9, 2, 6] (level 0 → a stored block; level 9 → fixed Huffman),
/// `big` = IDX labels [(i·i + i/7) % 10 for i < 3000] (level 9 → dynamic Huffman).
@Suite struct GzipTests {
    static let stored: [UInt8] = [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x03, 0x01, 0x10, 0x00, 0xef, 0xff, 0x00, 0x00, 0x08, 0x01, 0x00, 0x00, 0x00, 0x08, 0x03, 0x01, 0x04, 0x01, 0x05, 0x09, 0x02, 0x06, 0x05, 0x45, 0xff, 0xd4, 0x10, 0x00, 0x00, 0x00]
    static let fixed: [UInt8] = [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x63, 0x60, 0xe0, 0x60, 0x64, 0x60, 0x60, 0xe0, 0x60, 0x66, 0x64, 0x61, 0x64, 0xe5, 0x64, 0x62, 0x03, 0x00, 0x05, 0x45, 0xff, 0xd4, 0x10, 0x00, 0x00, 0x00]
    static let dynamic: [UInt8] = [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xed, 0xca, 0xb1, 0x11, 0xc0, 0x30, 0x08, 0x04, 0xc1, 0x07, 0x01, 0x7a, 0xc6, 0xfd, 0xf7, 0xe2, 0xf2, 0x5c, 0x86, 0x93, 0xdb, 0x78, 0x25, 0x87, 0xf4, 0xbc, 0x8a, 0xda, 0xe9, 0x51, 0x67, 0x64, 0xcb, 0xd7, 0x31, 0x27, 0xeb, 0xe6, 0x7a, 0xd3, 0x5d, 0xed, 0x23, 0x0a, 0x85, 0x42, 0xa1, 0x50, 0x28, 0x14, 0x0a, 0x85, 0xf2, 0x73, 0xf9, 0x00, 0xd2, 0x4d, 0xeb, 0x7d, 0xc0, 0x0b, 0x00, 0x00]

    @Test func storedAndFixedBlocks() throws {
        for bytes in [Self.stored, Self.fixed] {
            let array = try IDXArray(parsing: bytes)
            #expect(array.dimensions == [8])
            #expect(array.bytes == [3, 1, 4, 1, 5, 9, 2, 6])
        }
    }

    @Test func dynamicBlockAndConcatenatedMembers() throws {
        let expected = (0..<3000).map { UInt8((($0 * $0) + $0 / 7) % 10) }
        #expect(try IDXArray(parsing: Self.dynamic).bytes == expected)
        // Two members decode to the concatenation: here the second member's IDX bytes follow the
        // first's, which the IDX parser then rejects as trailing data.
        let error = #expect(throws: FileFormatError.self) { try IDXArray(parsing: Self.fixed + Self.stored) }
        #expect(error?.reason == .inconsistentSize)
    }

    static let corrupt: [(String, [UInt8], FileFormatError.Reason)] = [
        ("truncated header", Array(fixed.prefix(6)), .truncated),
        ("truncated deflate data", Array(dynamic.prefix(30)), .truncated),
        ("truncated trailer", Array(fixed.dropLast(3)), .truncated),
        ("method 7", [0x1f, 0x8b, 0x07] + Array(fixed.dropFirst(3)), .unsupportedType),
        ("reserved flags", [0x1f, 0x8b, 0x08, 0xe0] + Array(fixed.dropFirst(4)), .malformedHeader),
        ("reserved block type 3", Array(fixed.prefix(10)) + [0x07, 0, 0, 0, 0, 0, 0, 0, 0], .malformedHeader),
        ("stored length complement wrong", Array(stored.prefix(13)) + [0x00, 0x00] + Array(stored.dropFirst(15)), .malformedHeader),
        ("CRC mismatch", Array(stored.prefix(31)) + [0x06] + Array(stored.dropFirst(32)), .inconsistentSize),
        ("length mismatch", Array(stored.dropLast(4)) + [0x11, 0, 0, 0], .inconsistentSize),
    ]

    @Test(arguments: corrupt)
    func corruptFilesThrow(name: String, bytes: [UInt8], reason: FileFormatError.Reason) {
        let error = #expect(throws: FileFormatError.self, "\(name)") { try IDXArray(parsing: bytes) }
        #expect(error?.reason == reason, "\(name): \(String(describing: error))")
        #expect(error?.message.hasPrefix("gzip: ") == true)
    }

    @Test func everySingleByteCorruptionThrowsOrDecodes() {
        // Robustness: flipping any byte of the dynamic fixture never traps; it throws, or (rarely,
        // in the unchecked header bytes) still decodes to the same data.
        for i in Self.dynamic.indices {
            var bytes = Self.dynamic
            bytes[i] ^= 0x5a
            if let array = try? IDXArray(parsing: bytes) { #expect(array.bytes.count == 3000, "byte \(i)") }
        }
    }
}
