import Foundation
#if canImport(Glibc)
import Glibc
private let systemRead = Glibc.read
#elseif canImport(Darwin)
import Darwin
private let systemRead = Darwin.read
#endif

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
    /// The whole file. The path is checked with `stat` first and opened non-blocking, so a
    /// directory, FIFO, socket or device is refused with its kind named and never read from.
    ///
    /// - Throws: `.io` naming the path (missing, unreadable, not a regular file), `.truncated`
    ///   for an empty file.
    static func read(_ path: String) throws(FileFormatError) -> [UInt8] {
        var info = stat()
        if stat(path, &info) != 0 {
            throw FileFormatError(.io, "cannot read file '\(path)': \(errorText(errno))")
        }
        try requireRegularFile(info, path)
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        if fd < 0 { throw FileFormatError(.io, "cannot open file '\(path)': \(errorText(errno))") }
        defer { close(fd) }
        if fstat(fd, &info) != 0 {  // the file opened, not the one stat saw (it may have been replaced)
            throw FileFormatError(.io, "cannot read file '\(path)': \(errorText(errno))")
        }
        try requireRegularFile(info, path)
        let size = Int(info.st_size)
        if size == 0 { throw FileFormatError(.truncated, "file '\(path)' is empty (0 bytes)") }
        var failure: Int32 = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            while initialized < size {
                let n = systemRead(fd, buffer.baseAddress! + initialized, size - initialized)
                if n > 0 { initialized += n; continue }
                if n == 0 { break }  // the file shrank while being read: the reader sees it truncated
                if errno == EINTR { continue }
                failure = errno
                break
            }
        }
        if failure != 0 { throw FileFormatError(.io, "cannot read file '\(path)': \(errorText(failure))") }
        return bytes
    }

    private static func requireRegularFile(_ info: stat, _ path: String) throws(FileFormatError) {
        let kind: String
        switch info.st_mode & S_IFMT {
        case S_IFREG: return
        case S_IFDIR: kind = "a directory"
        case S_IFIFO: kind = "a FIFO (named pipe)"
        case S_IFCHR: kind = "a character device"
        case S_IFBLK: kind = "a block device"
        case S_IFSOCK: kind = "a socket"
        default: kind = "of an unknown kind"
        }
        throw FileFormatError(.io, "cannot read '\(path)': it is \(kind), not a regular file")
    }

    private static func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }

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
        require(offset >= 0 && count >= 0 && offset <= bytes.count && count <= (bytes.count - offset) / 4, "internal: float range outside the file")
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
