import Testing
import ConvKitKernels

/// The README's kernel example, verbatim, so that it keeps compiling and running.
@Test func readmeKernelExample() throws {
    // AlexNet conv2: 8 images of 96x27x27, 256 filters of 5x5, padding 2. Throws ShapeError on bad sizes.
    let g = try Conv2DGeometry(batch: 8, inputChannels: 96, inputSize: 27,
                               outputChannels: 256, kernelSize: 5, padding: 2)
    let input = [Float](repeating: 0.5, count: g.inputCount)          // [N, C, H, W]
    let filter = [Float](repeating: 0.01, count: g.filterCount)       // [O, C, KH, KW]
    let bias = [Float](repeating: 0, count: g.outputChannels)         // [O]
    var output = [Float](repeating: 0, count: g.outputCount)          // [N, O, OH, OW], overwritten
    var workspace = [Float](repeating: 0, count:
        Conv2DKernel.workspaceCount(g, algorithm: .im2col, direction: .forward))
    let context = ComputeContext(threads: 2)                          // explicit parallelism
    input.withUnsafeBufferPointer { x in filter.withUnsafeBufferPointer { w in
    bias.withUnsafeBufferPointer { b in output.withUnsafeMutableBufferPointer { y in
    workspace.withUnsafeMutableBufferPointer { ws in
        Conv2DKernel.forward(g, algorithm: .im2col, input: x, filter: w, bias: b,
                             output: y, workspace: ws, context: context)
    }}}}}
    // Centre pixels see the whole 5x5x96 window: 2400 x 0.5 x 0.01 = 12.
    let centre = (0 * g.outputChannels * g.outputPlane) + 13 * g.outputWidth + 13
    #expect(abs(output[centre] - 12) < 1e-3)
    #expect(g.outputHeight == 27 && g.outputWidth == 27)
}
