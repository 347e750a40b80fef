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

    /// Largest rank the header can hold (one byte).
    public static let maximumRank = 255

    /// Parses an IDX file's contents.
    ///
    /// A gzip-compressed file (`.gz`, magic `1f 8b`) is decompressed first (pure-Swift inflate,
    /// CRC-32 checked, output capped at 1 GiB). The IDX header is checked as soon as it has been
    /// decompressed: inflating stops once the output passes the size it announces, and the
    /// output buffer never grows past that size.
    ///
    /// - Throws: ``FileFormatError``: gzip errors (`.truncated`, `.malformedHeader` for corrupt
    ///   deflate data, `.inconsistentSize` for a CRC or length mismatch or more data than the IDX
    ///   header announces, `.tooLarge`), `.badMagic`, `.unsupportedType` for element types other
    ///   than unsigned byte, `.truncated`, `.invalidShape` (rank 0, or a size product that
    ///   overflows), `.inconsistentSize` when the file is longer than announced.
    public init(parsing bytes: consuming [UInt8]) throws(FileFormatError) {
        var raw = consume bytes  // no copy when the caller gives the array up
        if Gzip.isGzip(raw) { raw = try Gzip.decompress(raw, announcedSize: Self.announcedSize) }
        dimensions = try Self.parseUncompressed(&raw)
        self.bytes = raw
    }

    /// The dimensions and the offset of the data; throws `.truncated` if `bytes` ends inside the header.
    private static func header(_ bytes: [UInt8]) throws(FileFormatError) -> (dimensions: [Int], count: Int, dataStart: Int) {
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
        return (dimensions, count, reader.offset)
    }

    /// The file size the header at the start of `prefix` announces; nil while the header is incomplete.
    static func announcedSize(_ prefix: [UInt8]) throws(FileFormatError) -> Int? {
        if prefix.count < 4 || prefix.count < 4 + 4 * Int(prefix[3]) { return nil }
        let h = try header(prefix)
        let (total, overflow) = h.dataStart.addingReportingOverflow(h.count)
        if overflow { throw FileFormatError(.invalidShape, "IDX: dimensions \(h.dimensions) announce more than Int.max bytes") }
        return total
    }

    /// Checks `bytes` against its header and leaves only the data in it (moved in place).
    private static func parseUncompressed(_ bytes: inout [UInt8]) throws(FileFormatError) -> [Int] {
        let (dimensions, count, dataStart) = try header(bytes)
        let remaining = bytes.count - dataStart
        // Compare with what is there before touching the data (no allocation from the header).
        if count > remaining {
            throw FileFormatError(.truncated,
                "IDX: dimensions \(dimensions) announce \(count) bytes of data, the file holds \(remaining)")
        }
        if count < remaining {
            throw FileFormatError(.inconsistentSize,
                "IDX: dimensions \(dimensions) announce \(count) bytes of data, the file holds \(remaining) (trailing bytes)")
        }
        bytes.withUnsafeMutableBufferPointer { p in
            guard let base = p.baseAddress else { return }
            UnsafeMutableRawPointer(base).copyMemory(from: base + dataStart, byteCount: count)  // memmove
        }
        bytes.removeLast(dataStart)
        return dimensions
    }

    /// Reads and parses the IDX file at `path`.
    public init(contentsOf path: String) throws(FileFormatError) {
        let raw = try ByteIO.read(path)
        do { try self.init(parsing: consume raw) } catch {
            throw FileFormatError(error.reason, "\(path): \(error.message)")
        }
    }

    /// An IDX file holding `bytes` with `dimensions` (unsigned byte elements).
    ///
    /// - Throws: ``FileFormatError`` `.invalidShape` for a rank outside 1...255 or a dimension
    ///   outside 0...2³²−1 (what the header can hold), `.inconsistentSize` unless `bytes.count`
    ///   is the product of the dimensions.
    public static func encode(dimensions: [Int], bytes: [UInt8]) throws(FileFormatError) -> [UInt8] {
        if dimensions.isEmpty || dimensions.count > maximumRank {
            throw FileFormatError(.invalidShape, "IDX: rank must be 1...\(maximumRank), got \(dimensions.count)")
        }
        var count = 1
        for d in dimensions {
            if d < 0 || d > Int(UInt32.max) {
                throw FileFormatError(.invalidShape, "IDX: dimension \(d) does not fit in the header's uint32 (dimensions \(dimensions))")
            }
            let (p, overflow) = count.multipliedReportingOverflow(by: d)
            if overflow { throw FileFormatError(.invalidShape, "IDX: element count of dimensions \(dimensions) overflows") }
            count = p
        }
        if count != bytes.count {
            throw FileFormatError(.inconsistentSize, "IDX: dimensions \(dimensions) need \(count) bytes, got \(bytes.count)")
        }
        var out: [UInt8] = [0, 0, 0x08, UInt8(dimensions.count)]
        out.reserveCapacity(4 + 4 * dimensions.count + bytes.count)
        for d in dimensions {
            let v = UInt32(d)
            out += [UInt8(v >> 24), UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)]
        }
        return out + bytes
    }
}
