/// Kernel preconditions whose message survives release builds.
///
/// `precondition` prints only "precondition failure" at `-O`; `fatalError` keeps its message, so
/// a caller who passes a short buffer to a raw-buffer kernel learns what was needed and what came.
/// Everything a user calls with data throws instead (geometries, layers, readers).
@inlinable @inline(__always)
package func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                     file: StaticString = #fileID, line: UInt = #line) {
    if _slowPath(!condition()) { requireFailed(message(), file: file, line: line) }
}

/// Always traps with `message` (the release-build form of `preconditionFailure`).
@usableFromInline @inline(never)
package func requireFailed(_ message: String, file: StaticString = #fileID, line: UInt = #line) -> Never {
    fatalError("ConvKit precondition failed: \(message)", file: file, line: line)
}
