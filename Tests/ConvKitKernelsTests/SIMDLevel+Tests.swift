import XCTest
import ConvKitKernels

final class SIMDLevelTests: XCTestCase {
    /// The detected level agrees with the CPU flags Linux reports in /proc/cpuinfo.
    func testDetectedLevelMatchesProcCpuinfo() throws {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flagsLine = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else {
            throw XCTSkip("no /proc/cpuinfo flags on this system")
        }
        let flags = Set(flagsLine.split(whereSeparator: { $0 == " " || $0 == ":" || $0 == "\t" }).map(String.init))
        let avx2 = flags.contains("avx2") && flags.contains("fma")
        let avx512 = avx2 && ["avx512f", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains)
        let expected: SIMDLevel = avx512 ? .avx512 : (avx2 ? .avx2 : .portable)
        XCTAssertEqual(SIMDLevel.detected, expected, "flags: avx2+fma \(avx2), avx512 f/bw/dq/vl \(avx512)")
    }

    /// A context never claims more than the CPU has, and can be lowered to the portable paths.
    func testContextClampsToDetectedLevel() {
        XCTAssertEqual(ComputeContext(threads: 1, simdLevel: .avx512).simdLevel, min(.avx512, SIMDLevel.detected))
        XCTAssertEqual(ComputeContext(threads: 2).with(simdLevel: .portable).simdLevel, .portable)
        XCTAssertEqual(ComputeContext.serial.simdLevel, SIMDLevel.detected)
    }
}
