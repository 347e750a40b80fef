/// Checkpoints: a layer's parameters and buffers as a safetensors file, keyed by
/// ``Layer/parameterNames`` and ``Layer/bufferNames`` (for a model whose containers mirror the
/// PyTorch module, the `state_dict` keys, so `model.load_state_dict(load_file(path))` works on the
/// Python side and a `save_file(model.state_dict(), path)` loads here).
extension Layer {
    /// Every parameter and buffer by name: the parameters first, then the buffers.
    public var stateNames: [String] { parameterNames + bufferNames }

    /// The parameters and buffers as named tensors; `.integer` buffers (``bufferKinds``) are
    /// listed as `I64` in ``Safetensors/dataTypes``, like PyTorch's `num_batches_tracked`.
    public func checkpoint(metadata: [String: String] = [:]) -> Safetensors {
        var dataTypes: [String: Safetensors.DataType] = [:]
        for (name, kind) in zip(bufferNames, bufferKinds) where kind == .integer { dataTypes[name] = .i64 }
        let tensors = zip(parameterNames, parameters).map { ($0, $1) } + zip(bufferNames, buffers).map { ($0, $1) }
        return Safetensors(tensors: tensors, metadata: metadata, dataTypes: dataTypes)
    }

    /// Writes the parameters and buffers to `path` (safetensors), atomically: a temporary file
    /// renamed over `path`, so an existing file is replaced whole or not at all.
    ///
    /// - Throws: ``FileFormatError`` `.invalidValue` naming the first parameter or buffer that
    ///   holds a NaN or ±∞, unless `allowNonFinite` (nothing is written then); `.io` when writing
    ///   fails.
    public func saveCheckpoint(to path: String, metadata: [String: String] = [:],
                               allowNonFinite: Bool = false) throws(FileFormatError) {
        if !allowNonFinite {
            let named = zip(parameterNames, parameters).map { ("parameter", $0, $1) } + zip(bufferNames, buffers).map { ("buffer", $0, $1) }
            for (what, name, tensor) in named where !tensor.isFinite {
                let bad = tensor.nonFiniteCount
                throw FileFormatError(.invalidValue,
                    "\(what) '\(name)' has \(bad) non-finite value\(bad == 1 ? "" : "s") of \(tensor.count); "
                    + "not saved to '\(path)' (pass allowNonFinite: true to save it anyway)")
            }
        }
        try checkpoint(metadata: metadata).write(to: path)
    }

    /// Replaces the parameters and buffers by the tensors of the same names in `archive`
    /// (PyTorch's `load_state_dict`).
    ///
    /// - Parameter strict: when `true` (the default), a tensor of `archive` that the layer does
    ///   not have is an error; when `false`, such tensors are ignored.
    /// - Throws: ``FileFormatError`` `.modelMismatch` naming the key when a parameter or buffer
    ///   is missing or has another shape, or (strict) when the archive holds an extra tensor;
    ///   `.invalidValue` when an `.integer` buffer receives a value that is not a whole number.
    ///   The layer is left unchanged then.
    public mutating func loadParameters(from archive: Safetensors, strict: Bool = true) throws(FileFormatError) {
        var byName: [String: Tensor] = [:]
        for (name, tensor) in archive.tensors where byName[name] == nil { byName[name] = tensor }
        func take(_ names: [String], _ current: [Tensor]) throws(FileFormatError) -> [Tensor] {
            var values: [Tensor] = []
            for (name, tensor) in zip(names, current) {
                guard let t = byName[name] else {
                    throw FileFormatError(.modelMismatch, "checkpoint lacks tensor '\(name)' (shape \(tensor.shape))")
                }
                if t.shape != tensor.shape {
                    throw FileFormatError(.modelMismatch, "checkpoint tensor '\(name)' has shape \(t.shape), the model expects \(tensor.shape)")
                }
                values.append(t)
            }
            return values
        }
        let parameterValues = try take(parameterNames, parameters)
        let names = bufferNames
        let bufferValues = try take(names, buffers)
        for (k, kind) in bufferKinds.enumerated() where kind == .integer && k < bufferValues.count {
            if let bad = bufferValues[k].scalars.first(where: { !($0.isFinite && $0.rounded(.towardZero) == $0) }) {
                throw FileFormatError(.invalidValue, "checkpoint tensor '\(names[k])' holds \(bad), the model expects whole numbers")
            }
        }
        if strict {
            let known = Set(stateNames)
            let extra = archive.tensors.map(\.name).filter { !known.contains($0) }
            if let first = extra.first {
                let others = extra.count > 1 ? " (and \(extra.count - 1) more)" : ""
                throw FileFormatError(.modelMismatch,
                    "checkpoint holds tensor '\(first)'\(others) that the model does not have (pass strict: false to ignore)")
            }
        }
        updateParameters { i, p in p = parameterValues[i] }
        updateBuffers { i, b in b = bufferValues[i] }
    }

    /// Reads `path` (safetensors) and loads the parameters and buffers from it
    /// (``loadParameters(from:strict:)``).
    public mutating func loadCheckpoint(from path: String, strict: Bool = true) throws(FileFormatError) {
        try loadParameters(from: Safetensors(contentsOf: path), strict: strict)
    }
}
