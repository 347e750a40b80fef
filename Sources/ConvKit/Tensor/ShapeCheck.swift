/// Shape validation shared by the layers: every check throws a ``ShapeError`` naming what came
/// and what was expected.
enum ShapeCheck {
    /// Throws `.mismatch` unless `shape` has rank `rank`.
    static func rank(_ shape: Shape, _ rank: Int, _ what: String, layout: String) throws(ShapeError) {
        if shape.rank != rank {
            throw ShapeError(.mismatch, "\(what) must have rank \(rank) (\(layout)), got shape \(shape)")
        }
    }

    /// Throws `.mismatch` unless `actual == expected`, naming both shapes.
    static func equal(_ actual: Shape, _ expected: Shape, _ what: String) throws(ShapeError) {
        if actual != expected {
            throw ShapeError(.mismatch, "\(what) has shape \(actual), expected \(expected)")
        }
    }

    /// Throws `.mismatch` unless axis `axis` of `shape` equals `expected`.
    static func axis(_ shape: Shape, _ axis: Int, _ expected: Int, _ what: String, _ axisName: String) throws(ShapeError) {
        if shape[axis] != expected {
            throw ShapeError(.mismatch,
                "\(what) of shape \(shape) has \(axisName) = \(shape[axis]), expected \(expected)")
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ShapeCheck {
    /// The machine's physical memory in bytes (`sysconf`), read once.
    static let physicalMemoryBytes: Int = {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), size = sysconf(Int32(_SC_PAGESIZE))
        guard pages > 0, size > 0 else { return Int.max }
        return pages.multipliedReportingOverflow(by: size).overflow ? Int.max : pages * size
    }()

    /// Throws `.overflow` when `floats` floats (the buffers one call is about to allocate) exceed
    /// the machine's physical memory: such a call could never finish, and a failed allocation
    /// would end the process instead of throwing. Layers whose outputs can outgrow their inputs
    /// (padding) check before they allocate.
    static func fitsInMemory(_ floats: [Int], _ what: @autoclosure () -> String) throws(ShapeError) {
        var bytes = 0
        for f in floats {
            let (b, o1) = f.multipliedReportingOverflow(by: MemoryLayout<Float>.stride)
            let (t, o2) = bytes.addingReportingOverflow(b)
            if o1 || o2 || t > physicalMemoryBytes {
                throw ShapeError(.overflow,
                    "\(what()) needs \(floats.map(String.init).joined(separator: " + ")) floats, more than this machine's \(physicalMemoryBytes) bytes of memory")
            }
            bytes = t
        }
    }
}

/// `count` floats whose contents the caller overwrites (kernels' outputs and workspaces), in a
/// ``TensorMemory`` block. Zero-filled: the cost is small next to the kernels and the result is
/// never uninitialised memory.
@inline(__always)
func scratch(_ count: Int) -> Scratch { Scratch(count: count) }
