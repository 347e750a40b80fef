import ConvKit
import Dispatch
import Testing
import _ConvKitTestSupport

/// One model shared (as a value: copies share storage until written) by many threads for
/// inference gives exactly the serial results.
@Suite struct ConcurrentInferenceTests {
    @Test func sharedLeNetMatchesSerial() throws {
        var rng = SplitMix64(seed: 97)
        let model = try LeNet5.make(using: &rng)
        let callers = 12
        let inputs = (0..<callers).map { randomTensor([2, 1, 32, 32], seed: 200 + UInt64($0), in: 0...1) }
        let expected = try inputs.map { try model($0, context: .serial) }
        var results = [Tensor?](repeating: nil, count: callers)
        results.withUnsafeMutableBufferPointer { slots in
            let shared = SharedBuffer(slots)
            DispatchQueue.concurrentPerform(iterations: callers) { i in
                // Half the callers use two threads: the BLAS gate keeps each GEMM at its caller's count.
                let context = i % 2 == 0 ? ComputeContext.serial : ComputeContext(threads: 2)
                shared[i] = try? model(inputs[i], context: context)
            }
        }
        for i in 0..<callers {
            let result = try #require(results[i], "caller \(i) threw")
            #expect(result.shape == expected[i].shape)
            let a = result.scalars, b = expected[i].scalars
            // Serial callers are bit-identical; 2-thread callers may round differently in OpenBLAS.
            if i % 2 == 0 {
                #expect(a == b, "caller \(i)")
            } else {
                #expect(zip(a, b).allSatisfy { abs($0 - $1) <= 1e-5 * (1 + abs($1)) }, "caller \(i)")
            }
        }
    }
}
