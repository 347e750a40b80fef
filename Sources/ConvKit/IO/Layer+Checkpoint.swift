/// Checkpoints: a layer's parameters as a safetensors file, keyed by ``Layer/parameterNames``
/// (for a ``Sequential`` that mirrors PyTorch's `nn.Sequential`, the `state_dict` keys, so
/// `model.load_state_dict({k: torch.from_numpy(...)})` works on the Python side).
extension Layer {
    /// The parameters as named tensors.
    public func checkpoint(metadata: [String: String] = [:]) -> Safetensors {
        Safetensors(tensors: zip(parameterNames, parameters).map { ($0, $1) }, metadata: metadata)
    }

    /// Writes the parameters to `path` (safetensors), atomically: a temporary file renamed over
    /// `path`, so an existing file is replaced whole or not at all.
    ///
    /// - Throws: ``FileFormatError`` `.invalidValue` naming the first parameter that holds a NaN
    ///   or ±∞, unless `allowNonFinite` (nothing is written then); `.io` when writing fails.
    public func saveCheckpoint(to path: String, metadata: [String: String] = [:],
                               allowNonFinite: Bool = false) throws(FileFormatError) {
        if !allowNonFinite {
            for (name, parameter) in zip(parameterNames, parameters) where !parameter.isFinite {
                let bad = parameter.nonFiniteCount
                throw FileFormatError(.invalidValue,
                    "parameter '\(name)' has \(bad) non-finite value\(bad == 1 ? "" : "s") of \(parameter.count); "
                    + "not saved to '\(path)' (pass allowNonFinite: true to save it anyway)")
            }
        }
        try checkpoint(metadata: metadata).write(to: path)
    }

    /// Replaces the parameters by the tensors of the same names in `archive`. Extra tensors
    /// are ignored.
    ///
    /// - Throws: ``FileFormatError`` `.modelMismatch` when a parameter is missing or has
    ///   another shape (the layer is left unchanged then).
    public mutating func loadParameters(from archive: Safetensors) throws(FileFormatError) {
        let names = parameterNames, current = parameters
        var values: [Tensor] = []
        for (name, parameter) in zip(names, current) {
            guard let t = archive[name] else {
                throw FileFormatError(.modelMismatch, "checkpoint lacks tensor '\(name)' (shape \(parameter.shape))")
            }
            if t.shape != parameter.shape {
                throw FileFormatError(.modelMismatch, "checkpoint tensor '\(name)' has shape \(t.shape), the model expects \(parameter.shape)")
            }
            values.append(t)
        }
        updateParameters { i, p in p = values[i] }
    }

    /// Reads `path` (safetensors) and loads the parameters from it.
    public mutating func loadCheckpoint(from path: String) throws(FileFormatError) {
        try loadParameters(from: Safetensors(contentsOf: path))
    }
}
