import Testing
import Foundation
import _ConvKitTestSupport

/// Opt-in timing of `.depthwise` on MobileNetV2/EfficientNet depthwise shapes at every SIMD level
/// (portable = the Swift loops), interleaved in one run: `CONVKIT_DEPTHWISE_TIMING=all` (or
/// comma-separated names) `swift test -c release --filter DepthwiseTiming`. Prints one line per
/// shape, direction and thread count: medians of 9 samples of at least 20 ms, ms per call; thread
/// CPU time at 1 thread, wall time at 2. Does nothing without the variable.
@Suite struct DepthwiseTiming {
    @Test func timing() throws {
        guard let spec = ProcessInfo.processInfo.environment["CONVKIT_DEPTHWISE_TIMING"] else { return }
        let shapes: [(String, Conv2DGeometry)] = [
            ("dw3x3_144_56_s1", try Conv2DGeometry(batch: 8, inputChannels: 144, inputHeight: 56, inputWidth: 56, outputChannels: 144, kernelHeight: 3, kernelWidth: 3, paddingHeight: 1, paddingWidth: 1, groups: 144)),
            ("dw3x3_144_56_s2", try Conv2DGeometry(batch: 8, inputChannels: 144, inputHeight: 56, inputWidth: 56, outputChannels: 144, kernelHeight: 3, kernelWidth: 3, strideHeight: 2, strideWidth: 2, paddingHeight: 1, paddingWidth: 1, groups: 144)),
            ("dw3x3_32_112_s1", try Conv2DGeometry(batch: 8, inputChannels: 32, inputHeight: 112, inputWidth: 112, outputChannels: 32, kernelHeight: 3, kernelWidth: 3, paddingHeight: 1, paddingWidth: 1, groups: 32)),
            ("dw3x3_960_7_s1", try Conv2DGeometry(batch: 8, inputChannels: 960, inputHeight: 7, inputWidth: 7, outputChannels: 960, kernelHeight: 3, kernelWidth: 3, paddingHeight: 1, paddingWidth: 1, groups: 960)),
            ("dw5x5_240_14_s1", try Conv2DGeometry(batch: 8, inputChannels: 240, inputHeight: 14, inputWidth: 14, outputChannels: 240, kernelHeight: 5, kernelWidth: 5, paddingHeight: 2, paddingWidth: 2, groups: 240)),
            ("dw5x5_144_56_s2", try Conv2DGeometry(batch: 8, inputChannels: 144, inputHeight: 56, inputWidth: 56, outputChannels: 144, kernelHeight: 5, kernelWidth: 5, strideHeight: 2, strideWidth: 2, paddingHeight: 2, paddingWidth: 2, groups: 144)),
        ].filter { spec == "all" || spec.split(separator: ",").contains(Substring($0.0)) }
        let levels = SIMDLevel.allCases.filter { $0 <= .detected }
        for (name, g) in shapes {
            let x = UnsafeMutableBufferPointer<Float>.allocate(capacity: g.inputCount)
            let dx = UnsafeMutableBufferPointer<Float>.allocate(capacity: g.inputCount)
            let y = UnsafeMutableBufferPointer<Float>.allocate(capacity: g.outputCount)
            let dy = UnsafeMutableBufferPointer<Float>.allocate(capacity: g.outputCount)
            let w = UnsafeMutableBufferPointer<Float>.allocate(capacity: g.filterCount)
            let dw = UnsafeMutableBufferPointer<Float>.allocate(capacity: g.filterCount)
            let b = UnsafeMutableBufferPointer<Float>.allocate(capacity: g.outputChannels)
            let db = UnsafeMutableBufferPointer<Float>.allocate(capacity: g.outputChannels)
            let ws = UnsafeMutableBufferPointer<Float>.allocate(capacity: 1)
            for i in 0..<g.inputCount { x[i] = Float(i % 17) * 0.1 - 0.8 }
            for i in 0..<g.outputCount { dy[i] = Float(i % 13) * 0.1 - 0.6 }
            for i in 0..<g.filterCount { w[i] = Float(i % 7) * 0.1 - 0.3 }
            for i in 0..<g.outputChannels { b[i] = 0.1 }
            for threads in [1, 2] {
                for dir in Conv2DDirection.allCases {
                    func run(_ level: SIMDLevel) {
                        let ctx = ComputeContext(threads: threads).with(simdLevel: level)
                        switch dir {
                        case .forward: Conv2DKernel.forward(g, algorithm: .depthwise, input: UnsafeBufferPointer(x), filter: UnsafeBufferPointer(w), bias: UnsafeBufferPointer(b), activation: .relu, output: y, workspace: ws, context: ctx)
                        case .backwardData: Conv2DKernel.backwardData(g, algorithm: .depthwise, outputGradient: UnsafeBufferPointer(dy), filter: UnsafeBufferPointer(w), inputGradient: dx, workspace: ws, context: ctx)
                        case .backwardFilter: Conv2DKernel.backwardFilter(g, algorithm: .depthwise, input: UnsafeBufferPointer(x), outputGradient: UnsafeBufferPointer(dy), filterGradient: dw, biasGradient: db, workspace: ws, context: ctx)
                        }
                    }
                    var samples = [SIMDLevel: [Double]]()
                    for l in levels { run(l); run(l) }
                    for _ in 0..<9 {
                        for l in levels {
                            func now() -> UInt64 {
                                var ts = timespec()
                                clock_gettime(threads == 1 ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &ts)
                                return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
                            }
                            let t0 = now()
                            var k = 0
                            repeat { run(l); k += 1 } while now() - t0 < 20_000_000
                            samples[l, default: []].append(Double(now() - t0) / Double(k) / 1e6)
                        }
                    }
                    let med = levels.map { l -> String in let s = samples[l]!.sorted(); return String(format: "%@=%.3f", l.description, s[s.count / 2]) }
                    print("depthwise \(name) \(dir) t\(threads) " + med.joined(separator: " "))
                }
            }
        }
    }
}
