// Helpers that open `any Layer` / `any MergeLayer` existentials so that containers can call
// the generic requirements (the caches travel as `any Sendable` and are cast back here).

func openForward<L: Layer>(_ layer: L, _ input: Tensor, _ context: ComputeContext)
    throws(ShapeError) -> (output: Tensor, cache: any Sendable) {
    let (y, cache) = try layer.forward(input, context: context)
    return (y, cache)
}

func openBackward<L: Layer>(_ layer: L, _ outputGradient: Tensor, _ cache: any Sendable, _ context: ComputeContext)
    throws(ShapeError) -> (inputGradient: Tensor, parameterGradients: [Tensor]) {
    guard let typed = cache as? L.Cache else {
        throw ShapeError(.invalidValue, "cache of type \(type(of: cache)) does not belong to layer \(L.self)")
    }
    return try layer.backward(outputGradient, cache: typed, context: context)
}

func openUpdate<L: Layer>(_ layer: inout L, offset: Int, _ body: (Int, inout Tensor) -> Void) {
    layer.updateParameters { i, p in body(offset + i, &p) }
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
