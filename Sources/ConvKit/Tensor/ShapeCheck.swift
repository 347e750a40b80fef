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

/// An array of `count` floats whose contents the caller overwrites (kernels' outputs and
/// workspaces). Zero-filled: the cost is small next to the kernels and the result is never
/// uninitialised memory.
@inline(__always)
func scratch(_ count: Int) -> [Float] { [Float](repeating: 0, count: count) }
