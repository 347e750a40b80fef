/// Array-in, array-out wrappers around the raw-buffer convolution kernels, for tests and
/// benchmarks. Outputs start poisoned with NaN (or given values, for accumulation), so an
/// element a kernel forgets to write shows up.
public enum Conv2DRunner {
    public static func forward(
        _ g: Conv2DGeometry, _ algorithm: Conv2DAlgorithm,
        input: [Float], filter: [Float], bias: [Float]?, activation: FusedActivation = .identity,
        context: ComputeContext = .serial, workspaceCount: Int? = nil
    ) -> [Float] {
        var output = [Float].poisoned(count: g.outputCount)
        var workspace = [Float].poisoned(count: workspaceCount ?? Conv2DKernel.workspaceCount(g, algorithm: algorithm, direction: .forward))
        input.withUnsafeBufferPointer { x in
            filter.withUnsafeBufferPointer { w in
                output.withUnsafeMutableBufferPointer { y in
                    workspace.withUnsafeMutableBufferPointer { ws in
                        if let bias {
                            bias.withUnsafeBufferPointer { b in
                                Conv2DKernel.forward(g, algorithm: algorithm, input: x, filter: w, bias: b,
                                                     activation: activation, output: y, workspace: ws, context: context)
                            }
                        } else {
                            Conv2DKernel.forward(g, algorithm: algorithm, input: x, filter: w, bias: nil,
                                                 activation: activation, output: y, workspace: ws, context: context)
                        }
                    }
                }
            }
        }
        return output
    }

    public static func backwardData(
        _ g: Conv2DGeometry, _ algorithm: Conv2DAlgorithm,
        outputGradient: [Float], filter: [Float], context: ComputeContext = .serial, workspaceCount: Int? = nil
    ) -> [Float] {
        var inputGradient = [Float].poisoned(count: g.inputCount)
        var workspace = [Float].poisoned(count: workspaceCount ?? Conv2DKernel.workspaceCount(g, algorithm: algorithm, direction: .backwardData))
        outputGradient.withUnsafeBufferPointer { dy in
            filter.withUnsafeBufferPointer { w in
                inputGradient.withUnsafeMutableBufferPointer { dx in
                    workspace.withUnsafeMutableBufferPointer { ws in
                        Conv2DKernel.backwardData(g, algorithm: algorithm, outputGradient: dy, filter: w,
                                                  inputGradient: dx, workspace: ws, context: context)
                    }
                }
            }
        }
        return inputGradient
    }

    /// Returns (filterGradient, biasGradient). With `initial` given, the kernel runs with
    /// `accumulate: true` on top of those values; otherwise outputs start as NaN and are overwritten.
    public static func backwardFilter(
        _ g: Conv2DGeometry, _ algorithm: Conv2DAlgorithm,
        input: [Float], outputGradient: [Float],
        initial: (filter: [Float], bias: [Float])? = nil, context: ComputeContext = .serial, workspaceCount: Int? = nil
    ) -> (filter: [Float], bias: [Float]) {
        var dw = initial?.filter ?? .poisoned(count: g.filterCount)
        var db = initial?.bias ?? .poisoned(count: g.outputChannels)
        var workspace = [Float].poisoned(count: workspaceCount ?? Conv2DKernel.workspaceCount(g, algorithm: algorithm, direction: .backwardFilter))
        input.withUnsafeBufferPointer { x in
            outputGradient.withUnsafeBufferPointer { dy in
                dw.withUnsafeMutableBufferPointer { dwp in
                    db.withUnsafeMutableBufferPointer { dbp in
                        workspace.withUnsafeMutableBufferPointer { ws in
                            Conv2DKernel.backwardFilter(g, algorithm: algorithm, input: x, outputGradient: dy,
                                                        filterGradient: dwp, biasGradient: dbp,
                                                        accumulate: initial != nil, workspace: ws, context: context)
                        }
                    }
                }
            }
        }
        return (dw, db)
    }
}

/// Array wrappers for the dense kernels (same conventions as ``Conv2DRunner``).
public enum DenseRunner {
    public static func forward(_ g: DenseGeometry, _ algorithm: DenseAlgorithm,
                               input: [Float], weight: [Float], bias: [Float]?, context: ComputeContext = .serial) -> [Float] {
        var y = [Float].poisoned(count: g.outputCount)
        input.withUnsafeBufferPointer { x in
            weight.withUnsafeBufferPointer { w in
                y.withUnsafeMutableBufferPointer { yp in
                    if let bias {
                        bias.withUnsafeBufferPointer { b in
                            DenseKernel.forward(g, algorithm: algorithm, input: x, weight: w, bias: b, output: yp, context: context)
                        }
                    } else {
                        DenseKernel.forward(g, algorithm: algorithm, input: x, weight: w, bias: nil, output: yp, context: context)
                    }
                }
            }
        }
        return y
    }

    public static func backwardData(_ g: DenseGeometry, _ algorithm: DenseAlgorithm,
                                    outputGradient: [Float], weight: [Float], context: ComputeContext = .serial) -> [Float] {
        var dx = [Float].poisoned(count: g.inputCount)
        outputGradient.withUnsafeBufferPointer { dy in
            weight.withUnsafeBufferPointer { w in
                dx.withUnsafeMutableBufferPointer { dxp in
                    DenseKernel.backwardData(g, algorithm: algorithm, outputGradient: dy, weight: w, inputGradient: dxp, context: context)
                }
            }
        }
        return dx
    }

    public static func backwardWeights(_ g: DenseGeometry, _ algorithm: DenseAlgorithm,
                                       input: [Float], outputGradient: [Float],
                                       initial: (weight: [Float], bias: [Float])? = nil,
                                       context: ComputeContext = .serial) -> (weight: [Float], bias: [Float]) {
        var dw = initial?.weight ?? .poisoned(count: g.weightCount)
        var db = initial?.bias ?? .poisoned(count: g.outputFeatures)
        input.withUnsafeBufferPointer { x in
            outputGradient.withUnsafeBufferPointer { dy in
                dw.withUnsafeMutableBufferPointer { dwp in
                    db.withUnsafeMutableBufferPointer { dbp in
                        DenseKernel.backwardWeights(g, algorithm: algorithm, input: x, outputGradient: dy,
                                                    weightGradient: dwp, biasGradient: dbp,
                                                    accumulate: initial != nil, context: context)
                    }
                }
            }
        }
        return (dw, db)
    }
}

extension Array where Element == Float {
    /// Element-wise absolute values (used to compute Σ|a·b| error magnitudes with the naive kernels).
    public var magnitudes: [Float] { map { abs($0) } }
}
