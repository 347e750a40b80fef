/// An array read from an IDX file (the format of the MNIST distribution), element type
/// unsigned byte.
///
/// Layout (all integers big-endian): bytes 0–1 zero, byte 2 the type code (`0x08` = unsigned
/// byte, the only one supported), byte 3 the rank `r`, then `r` uint32 dimensions, then the
/// elements in row-major order. The file size must be exactly `4 + 4·r + Π dimensions`.
public struct IDXArray: Sendable, Equatable {
    /// Sizes of each axis, outermost first.
    public let dimensions: [Int]
    /// The elements, row-major.
    public let bytes: [UInt8]

    /// Parses an IDX file's contents.
    ///
    /// A gzip-compressed file (`.gz`, magic `1f 8b`) is decompressed first (pure-Swift inflate,
    /// CRC-32 checked, output capped at 1 GiB).
    ///
    /// - Throws: ``FileFormatError``: gzip errors (`.truncated`, `.malformedHeader` for corrupt
    ///   deflate data, `.inconsistentSize` for a CRC or length mismatch, `.tooLarge`), `.badMagic`, `.unsupportedType` for element types other than
    ///   unsigned byte, `.truncated`, `.invalidShape` (rank 0, or a size product that
    ///   overflows), `.inconsistentSize` when the file is longer than announced.
    public init(parsing bytes: [UInt8]) throws(FileFormatError) {
        let raw = Gzip.isGzip(bytes) ? try Gzip.decompress(bytes) : bytes
        (dimensions, self.bytes) = try Self.parseUncompressed(raw)
    }

    private static func parseUncompressed(_ bytes: [UInt8]) throws(FileFormatError) -> (dimensions: [Int], bytes: [UInt8]) {
        var reader = ByteReader(bytes, format: "IDX")
        let magic = try reader.take(4, "magic number")
        if magic[magic.startIndex] != 0 || magic[magic.startIndex + 1] != 0 {
            throw FileFormatError(.badMagic,
                "IDX: magic must start with 00 00, got \(magic.map { String($0, radix: 16) }.joined(separator: " "))")
        }
        let type = magic[magic.startIndex + 2], rank = Int(magic[magic.startIndex + 3])
        if type != 0x08 {
            throw FileFormatError(.unsupportedType,
                "IDX: element type 0x\(String(type, radix: 16)) is not supported (expected 0x08, unsigned byte)")
        }
        if rank < 1 {
            throw FileFormatError(.invalidShape, "IDX: rank must be >= 1, got 0")
        }
        var dimensions: [Int] = []
        var count = 1
        for axis in 0..<rank {
            let d = Int(try reader.uint32BigEndian("dimension \(axis)"))
            let (p, overflow) = count.multipliedReportingOverflow(by: d)
            if overflow { throw FileFormatError(.invalidShape, "IDX: element count of dimensions \(dimensions + [d]) overflows") }
            count = p
            dimensions.append(d)
        }
        // Compare with what is there before touching the data (no allocation from the header).
        if count > reader.remaining {
            throw FileFormatError(.truncated,
                "IDX: dimensions \(dimensions) announce \(count) bytes of data, the file holds \(reader.remaining)")
        }
        if count < reader.remaining {
            throw FileFormatError(.inconsistentSize,
                "IDX: dimensions \(dimensions) announce \(count) bytes of data, the file holds \(reader.remaining) (trailing bytes)")
        }
        return (dimensions, Array(try reader.take(count, "data")))
    }

    /// Reads and parses the IDX file at `path`.
    public init(contentsOf path: String) throws(FileFormatError) {
        let raw = try ByteIO.read(path)
        do { try self.init(parsing: raw) } catch {
            throw FileFormatError(error.reason, "\(path): \(error.message)")
        }
    }

    /// An IDX file holding `bytes` with `dimensions` (unsigned byte elements).
    public static func encode(dimensions: [Int], bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0, 0, 0x08, UInt8(dimensions.count)]
        for d in dimensions {
            let v = UInt32(truncatingIfNeeded: d)
            out += [UInt8(v >> 24), UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)]
        }
        return out + bytes
    }
}
