#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The process's resident memory (Linux `/proc/self/status`), for the networks suite's peak figure.
///
/// `resetPeak()` first hands freed heap pages back to the kernel (`malloc_trim(0)`: otherwise the
/// previous measurement's freed buffers stay resident and count towards the next one), then resets
/// the peak to the current resident size (writing `5` to `/proc/self/clear_refs`, Linux ≥ 4.0).
/// Elsewhere the figures are `nil`.
enum ResidentMemory {
    /// Resets the peak; `false` when the kernel refused (the figure then covers the whole run so far).
    @discardableResult
    static func resetPeak() -> Bool {
        #if os(Linux)
        _ = mallocTrim?(0)
        let fd = open("/proc/self/clear_refs", O_WRONLY)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return write(fd, "5", 1) == 1
        #else
        return false
        #endif
    }

    #if os(Linux)
    /// glibc's `malloc_trim`, looked up at run time (Swift's Glibc module does not declare it).
    private static let mallocTrim: (@convention(c) (Int) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
    }()
    #endif

    /// `VmHWM`: the peak resident size since the last reset, in bytes.
    static var peakBytes: Int? { status("VmHWM") }

    /// `VmRSS`: the resident size now, in bytes.
    static var currentBytes: Int? { status("VmRSS") }

    /// A `kB` field of `/proc/self/status`, in bytes.
    private static func status(_ field: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            let number = line.dropFirst(field.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).first
            return number.flatMap { Int($0) }.map { $0 * 1024 }
        }
        return nil
    }
}
