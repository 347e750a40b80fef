#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The "cold" figure of a row: the first call after a pause, as an application that does other
/// things between calls sees it (idle worker threads must wake up, caches and clocks may have
/// cooled). Measured with `--cold` on the rows `Conv2DAlgorithm.automatic` picks and on dense rows.
struct ColdSettings: Sendable {
    enum Pause: String, Sendable {
        /// The process sleeps (`usleep`).
        case sleep
        /// The calling thread does serial arithmetic (no memory traffic) and the others idle.
        case busy
    }

    var pause: Pause
    var seconds: Double
    /// Pauses per row; the figure is the median of the first calls after each.
    var samples: Int

    var description: String {
        "first call after \(Format.number(seconds)) s of \(pause == .sleep ? "sleep" : "serial busy work"), "
            + "median of \(samples) pause(s)"
    }

    /// Pauses, then times one call of `body`; `samples` times.
    func time(_ body: () -> Void) -> Timing {
        var perCall: [Double] = []
        for _ in 0..<max(1, samples) {
            wait()
            let t0 = Stopwatch.now()
            body()
            perCall.append(Stopwatch.now() - t0)
        }
        let sorted = perCall.sorted()
        return Timing(median: Stopwatch.median(ofSorted: sorted), minimum: sorted[0], callsPerSample: 1,
                      samples: sorted.count)
    }

    private func wait() {
        switch pause {
        case .sleep:
            let end = Stopwatch.now() + seconds
            while case let left = end - Stopwatch.now(), left > 0 { usleep(UInt32(min(left, 1) * 1e6)) }
        case .busy:
            ColdSettings.spin(seconds)
        }
    }

    /// Serial floating-point work on the calling thread for `seconds`.
    static func spin(_ seconds: Double) {
        let end = Stopwatch.now() + seconds
        var x = 1.0
        while Stopwatch.now() < end {
            for i in 0..<10_000 { x = x * 0.999_999_9 + Double(i & 7) * 1e-9 }
        }
        sink = x
    }

    nonisolated(unsafe) private static var sink = 0.0
}
