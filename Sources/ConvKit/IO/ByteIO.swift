import Foundation

/// Bounds-checked reading of integers and floats from a byte array (internal).
struct ByteReader {
    let bytes: [UInt8]
    private(set) var offset = 0
    /// Names the file format in error messages.
    let format: String

    init(_ bytes: [UInt8], format: String) {
        self.bytes = bytes
        self.format = format
    }

    var remaining: Int { bytes.count - offset }

    mutating func take(_ count: Int, _ what: String) throws(FileFormatError) -> ArraySlice<UInt8> {
        if count < 0 || count > remaining {
            throw FileFormatError(.truncated,
                "\(format): \(what) needs \(count) bytes at offset \(offset), but the file has \(bytes.count) bytes")
        }
        defer { offset += count }
        return bytes[offset ..< offset + count]
    }

    mutating func uint32BigEndian(_ what: String) throws(FileFormatError) -> UInt32 {
        let b = try take(4, what)
        return b.reduce(0) { $0 << 8 | UInt32($1) }
    }

    mutating func uintLittleEndian(_ size: Int, _ what: String) throws(FileFormatError) -> UInt64 {
        let b = try take(size, what)
        return b.reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }
}

enum ByteIO {
    /// The whole file, or a `.io` error naming the path.
    static func read(_ path: String) throws(FileFormatError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FileFormatError(.io, "cannot read file '\(path)' (missing or unreadable)")
        }
        return [UInt8](data)
    }

    static func write(_ bytes: [UInt8], to path: String) throws(FileFormatError) {
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw FileFormatError(.io, "cannot write file '\(path)': \(error)")
        }
    }

    /// Little-endian IEEE-754 binary32 of `values`.
    static func float32LittleEndian(_ values: [Float]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: values.count * 4)
        for (i, v) in values.enumerated() {
            let bits = v.bitPattern
            out[4 * i] = UInt8(truncatingIfNeeded: bits)
            out[4 * i + 1] = UInt8(truncatingIfNeeded: bits >> 8)
            out[4 * i + 2] = UInt8(truncatingIfNeeded: bits >> 16)
            out[4 * i + 3] = UInt8(truncatingIfNeeded: bits >> 24)
        }
        return out
    }

    /// Floats from `count` little-endian binary32 values starting at `offset` (bounds checked by the caller).
    static func floats(_ bytes: [UInt8], offset: Int, count: Int) -> [Float] {
        precondition(offset >= 0 && count >= 0 && offset + 4 * count <= bytes.count, "internal: float range outside the file")
        var out = [Float](repeating: 0, count: count)
        for i in 0..<count {
            let p = offset + 4 * i
            let bits = UInt32(bytes[p]) | UInt32(bytes[p + 1]) << 8 | UInt32(bytes[p + 2]) << 16 | UInt32(bytes[p + 3]) << 24
            out[i] = Float(bitPattern: bits)
        }
        return out
    }

    static func littleEndian(_ value: UInt64, size: Int) -> [UInt8] {
        (0..<size).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
    }
}
