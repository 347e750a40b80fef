import FuzzChecks

/// A fixed 10-byte gzip member header (deflate, no flags, no time, OS unknown). The fuzzer's
/// bytes follow it, so every input reaches the inflater: mutations land in the deflate stream
/// and the CRC-32/length trailer rather than in the magic. (Header flags are fuzzed by
/// fuzz-idx, whose corpus also holds .gz files.)
let header: [UInt8] = [0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff]

/// libFuzzer entry point: the input is a deflate stream plus trailer (plus optional further
/// gzip members); the decompressed bytes are parsed as IDX and checked like fuzz-idx's.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    checkIDX(header + (data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []))
    return 0
}
