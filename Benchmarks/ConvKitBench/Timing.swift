#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Wall-clock timing of a closure: warm-up, calibration, then `repeats` samples.
///
/// A sample is `callsPerSample` back-to-back calls, with `callsPerSample` chosen so that one
/// sample lasts at least `minTime` seconds (at least one call); the figure of a sample is its
/// duration divided by `callsPerSample`. We report the median and the minimum over the samples.
struct Timing: Sendable {
    /// Seconds per call: median and minimum over the samples.
    let median: Double
    let minimum: Double
    let callsPerSample: Int
    let samples: Int

    var medianMilliseconds: Double { median * 1e3 }
    var minimumMilliseconds: Double { minimum * 1e3 }

    /// `self` scaled by `factor` (naive rows timed on a reduced batch and scaled to the full one).
    func scaled(by factor: Double) -> Timing {
        Timing(median: median * factor, minimum: minimum * factor, callsPerSample: callsPerSample, samples: samples)
    }
}

enum Stopwatch {
    /// Monotonic clock, seconds.
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// The first measurement of a process warms up for at least this long: the first calls run
    /// slow (page faults on fresh buffers, OpenBLAS spawning its threads, CPU clock ramp-up).
    static let firstWarmUpSeconds = 0.3
    /// Later measurements warm up for at least this long (and at least one call).
    static let warmUpSeconds = 0.02

    nonisolated(unsafe) private static var processIsWarm = false

    /// Times `body`.
    ///
    /// - Parameters:
    ///   - minTime: minimum seconds per sample.
    ///   - repeats: number of samples (>= 1).
    ///   - warmUp: `false` skips the warm-up (the caller has just run `body` on the same data);
    ///     the first measurement of the process always warms up.
    static func measure(minTime: Double, repeats: Int, warmUp: Bool = true, _ body: () -> Void) -> Timing {
        let calls = calibrate(minTime: minTime, warmUp: warmUp, body)
        var perSample: [Double] = []
        for _ in 0..<max(1, repeats) { perSample.append(sample(calls, body)) }
        return timing(perSample, calls: calls)
    }

    /// Times `first` and `second` with their samples interleaved (first, second, first, ...), so
    /// that load from other processes hits both alike: for ratios such as "fraction of the BLAS
    /// ceiling" on a shared machine.
    static func measurePair(minTime: Double, repeats: Int, _ first: () -> Void, _ second: () -> Void) -> (Timing, Timing) {
        let callsFirst = calibrate(minTime: minTime, warmUp: true, first)
        let callsSecond = calibrate(minTime: minTime, warmUp: true, second)
        var a: [Double] = [], b: [Double] = []
        for _ in 0..<max(1, repeats) {
            a.append(sample(callsFirst, first))
            b.append(sample(callsSecond, second))
        }
        return (timing(a, calls: callsFirst), timing(b, calls: callsSecond))
    }

    /// Warm-up; its last call gives the number of calls per sample.
    private static func calibrate(minTime: Double, warmUp: Bool, _ body: () -> Void) -> Int {
        let warmUpBudget = processIsWarm ? (warmUp ? warmUpSeconds : 0) : firstWarmUpSeconds
        processIsWarm = true
        let warmStart = now()
        var start = warmStart
        body()
        var end = now()
        var perCall = end - start
        while end - warmStart < warmUpBudget {
            start = now()
            body()
            end = now()
            perCall = end - start
        }
        return max(1, Int((minTime / max(perCall, 1e-9)).rounded(.up)))
    }

    /// Seconds per call over `calls` back-to-back calls.
    private static func sample(_ calls: Int, _ body: () -> Void) -> Double {
        let t0 = now()
        for _ in 0..<calls { body() }
        return (now() - t0) / Double(calls)
    }

    private static func timing(_ perSample: [Double], calls: Int) -> Timing {
        let sorted = perSample.sorted()
        return Timing(median: median(ofSorted: sorted), minimum: sorted[0], callsPerSample: calls, samples: sorted.count)
    }

    static func median(ofSorted values: [Double]) -> Double {
        let n = values.count
        return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2])
    }
}
