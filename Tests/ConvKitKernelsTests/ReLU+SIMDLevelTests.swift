import Testing
import _ConvKitTestSupport

/// ReLU forward at every SIMD level (the AVX-512 C kernel, with its streaming stores for large
/// out-of-place outputs, and the portable Swift loop): bit-identical to naive, including NaN,
/// −0, ±∞, ragged sizes, misaligned outputs and in place.
@Suite struct ReLUSIMDLevelTests {
    static let levels = SIMDLevel.allCases.filter { $0 <= .detected }

    static func input(count: Int, seed: UInt64) -> [Float] {
        var x = [Float].random(count: count, seed: seed, in: -4...4)
        for i in stride(from: 0, to: count, by: 97) { x[i] = .nan }
        for i in stride(from: 5, to: count, by: 89) { x[i] = -0.0 }
        for i in stride(from: 11, to: count, by: 101) { x[i] = -.infinity }
        for i in stride(from: 13, to: count, by: 103) { x[i] = .infinity }
        return x
    }

    /// Sizes around the vector width, one below and one above the 16 MiB streaming threshold
    /// (`ReLUKernel.streamingBytes`); the output starts `offset` floats into its buffer (not
    /// 64-byte aligned).
    @Test(arguments: [1, 15, 16, 17, 33, 1000, 4097, (1 << 20) + 37, (1 << 22) + 37], [0, 3])
    func forwardMatchesNaive(count: Int, offset: Int) {
        let x = Self.input(count: count, seed: UInt64(count + offset))
        let expected = x.map { $0 < 0 ? 0 : $0 }
        for level in Self.levels {
            for context in testContexts.map({ $0.with(simdLevel: level) }) {
                var y = [Float].poisoned(count: count + offset + 5)
                x.withUnsafeBufferPointer { xb in
                    y.withUnsafeMutableBufferPointer { yb in
                        let out = UnsafeMutableBufferPointer(rebasing: yb[offset..<(offset + count)])
                        ReLUKernel.forward(algorithm: .simd, input: xb, output: out, context: context)
                    }
                }
                let body = Array(y[offset..<(offset + count)])
                #expect(body.map(\.bitPattern) == expected.map(\.bitPattern),
                        "\(context) count \(count) offset \(offset): \(firstDifference(body, expected) ?? "")")
                #expect(y[0..<offset].allSatisfy(\.isNaN) && y[(offset + count)...].allSatisfy(\.isNaN),
                        "\(context): wrote outside the output")
            }
        }
    }

    /// In place (no streaming) on a large buffer gives the out-of-place result.
    @Test func inPlaceLarge() {
        let count = (1 << 22) + 9
        let x = Self.input(count: count, seed: 3)
        let expected = x.map { $0 < 0 ? 0 : $0 }
        for level in Self.levels {
            var buffer = x
            buffer.withUnsafeMutableBufferPointer { b in
                ReLUKernel.forward(algorithm: .simd, input: UnsafeBufferPointer(b), output: b,
                                   context: splittingContext.with(simdLevel: level))
            }
            #expect(identical(buffer, expected), "\(level)")
        }
    }
}
