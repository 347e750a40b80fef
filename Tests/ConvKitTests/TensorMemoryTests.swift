import ConvKit
import Glibc
import Testing
import _ConvKitTestSupport

@Suite struct TensorMemoryTests {
    /// After the first steps, a training step and an inference call take every large tensor
    /// (activations, gradients, workspaces) from the cache: no block from the system. In a
    /// process of its own, so that tests running meanwhile take no cached block.
    @Test func steadyStateStepsTakeNoMemoryFromTheSystem() async {
        await #expect(processExitsWith: .success) {
            for threads in [1, 2] {
                var rng = SplitMix64(seed: 41)
                var model = try ResNet.make(block: .basic, blocks: [1, 1, 1, 1], classes: 7, stem: .smallImage, width: 24,
                                            using: &rng)
                let x = Tensor(shape: [3, 3, 37, 41], uniformIn: -1...1, using: &rng)
                var optimizer = SGD(learningRate: 0.01, momentum: 0.9)
                let context = ComputeContext(threads: threads)
                for step in 0..<5 {
                    let before = TensorMemory.systemAllocationsOnThisThread
                    let loss = try model.trainStep(input: x, labels: [1, 5, 6], optimizer: &optimizer, context: context,
                                                   seed: UInt64(step))
                    _ = try model(x, context: context)
                    let taken = TensorMemory.systemAllocationsOnThisThread - before
                    if !loss.isFinite || (step >= 2 && taken != 0) {
                        print("threads \(threads) step \(step): loss \(loss), \(taken) blocks from the system")
                        exit(1)
                    }
                }
            }
        }
    }

    @Test func blocksAreAlignedAndReused() {
        let count = 50_021  // 200 kB: above the cached size; an odd size no other test uses
        var first = Tensor(shape: [count], repeating: 1)
        let address = first.withUnsafeMutableBufferPointer { UInt(bitPattern: $0.baseAddress) }
        #expect(address % 64 == 0)
        first = Tensor(shape: [1])  // frees the block into the cache
        let before = TensorMemory.systemAllocationsOnThisThread
        let second = Tensor(shape: [count], repeating: 2)
        #expect(TensorMemory.systemAllocationsOnThisThread == before)
        #expect(second[flat: count - 1] == 2 && first[flat: 0] == 0)
    }

    @Test func copyOnWriteKeepsValueSemantics() throws {
        let a = Tensor(shape: [40_000], repeating: 3)
        var b = a
        b[flat: 7] = -1
        b.withUnsafeMutableBufferPointer { $0[8] = -2 }
        #expect(a[flat: 7] == 3 && a[flat: 8] == 3 && b[flat: 7] == -1 && b[flat: 8] == -2)
        #expect(a.scalars.allSatisfy { $0 == 3 })
        #expect(a != b && a == Tensor(shape: [40_000], repeating: 3))
    }
}
