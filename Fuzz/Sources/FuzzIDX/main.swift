import FuzzChecks

/// libFuzzer entry point: one input, one call of the reader, then the invariants (FuzzChecks).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    checkIDX(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}
