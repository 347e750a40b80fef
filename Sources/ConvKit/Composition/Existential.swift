// Helpers that open `any Layer` / `any MergeLayer` existentials so that containers can call
// the generic requirements (the caches travel as `any Sendable` and are cast back here).

func openForward<L: Layer>(_ layer: L, _ input: Tensor, _ mode: ForwardMode, _ context: ComputeContext)
    throws(ShapeError) -> (output: Tensor, cache: any Sendable) {
    let (y, cache) = try layer.forward(input, mode: mode, context: context)
    return (y, cache)
}

/// The layer's buffer updates in a cache that travelled as `any Sendable`, with indices shifted
/// by `offset` (the layer's first buffer in its container).
func openBufferUpdates<L: Layer>(_ layer: L, _ cache: any Sendable, offset: Int) -> [BufferUpdate] {
    guard let typed = cache as? L.Cache else { return [] }
    let updates = layer.bufferUpdates(in: typed)
    if offset == 0 { return updates }
    return updates.map { BufferUpdate(index: $0.index + offset, value: $0.value) }
}

func openBackward<L: Layer>(_ layer: L, _ outputGradient: Tensor, _ cache: any Sendable, _ context: ComputeContext)
    throws(ShapeError) -> (inputGradient: Tensor, parameterGradients: [Tensor]) {
    guard let typed = cache as? L.Cache else {
        throw ShapeError(.invalidValue, "cache of type \(type(of: cache)) does not belong to layer \(L.self)")
    }
    return try layer.backward(outputGradient, cache: typed, context: context)
}

func openParameterGradients<L: Layer>(_ layer: L, _ outputGradient: Tensor, _ cache: any Sendable, _ context: ComputeContext)
    throws(ShapeError) -> [Tensor] {
    guard let typed = cache as? L.Cache else {
        throw ShapeError(.invalidValue, "cache of type \(type(of: cache)) does not belong to layer \(L.self)")
    }
    return try layer.parameterGradients(outputGradient, cache: typed, context: context)
}

func openUpdate<L: Layer>(_ layer: inout L, offset: Int, _ body: (Int, inout Tensor) -> Void) {
    layer.updateParameters { i, p in body(offset + i, &p) }
}

func openUpdateBuffers<L: Layer>(_ layer: inout L, offset: Int, _ body: (Int, inout Tensor) -> Void) {
    layer.updateBuffers { i, b in body(offset + i, &b) }
}

/// A child key of a container: not empty and without a `.` (the separator of paths).
func validateChildKey(_ key: String, _ container: String) throws(ShapeError) {
    if key.isEmpty || key.contains(".") {
        throw ShapeError(.invalidValue, "\(container) child key '\(key)' must be non-empty and contain no '.'")
    }
}

func openMergeForward<M: MergeLayer>(_ layer: M, _ inputs: [Tensor], _ context: ComputeContext)
    throws(ShapeError) -> (output: Tensor, cache: any Sendable) {
    let (y, cache) = try layer.forward(inputs, context: context)
    return (y, cache)
}

func openMergeBackward<M: MergeLayer>(_ layer: M, _ outputGradient: Tensor, _ cache: any Sendable, _ context: ComputeContext)
    throws(ShapeError) -> [Tensor] {
    guard let typed = cache as? M.Cache else {
        throw ShapeError(.invalidValue, "cache of type \(type(of: cache)) does not belong to layer \(M.self)")
    }
    return try layer.backward(outputGradient, cache: typed, context: context)
}
