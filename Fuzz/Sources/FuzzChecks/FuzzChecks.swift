import ConvKit

// Every fuzzer feeds one input to one reader. The invariant: the reader returns a value or
// throws a typed `FileFormatError` with a non-empty message; it never traps, hangs or
// allocates more than the input justifies (libFuzzer's -timeout and -malloc_limit_mb enforce
// the last two). When a value comes back, the checks below test it for cheap consistency;
// a violated check calls `violation`, which aborts, so libFuzzer records a crash.

/// Stops the process with a message; libFuzzer saves the input as `crash-*`.
public func violation(_ message: String) -> Never {
    fatalError("fuzz invariant violated: \(message)")
}

/// The typed error must say something.
public func checkError(_ error: FileFormatError) {
    if error.message.isEmpty { violation("FileFormatError.\(error.reason) with an empty message") }
}

/// Π dimensions, or nil on overflow or a negative dimension.
public func product(_ dimensions: [Int]) -> Int? {
    var count = 1
    for d in dimensions {
        if d < 0 { return nil }
        let (p, overflow) = count.multipliedReportingOverflow(by: d)
        if overflow { return nil }
        count = p
    }
    return count
}

/// Shape and element count agree, and both tensors hold the same bits (NaN payloads included).
public func checkSame(_ a: Tensor, _ b: Tensor, _ what: String) {
    if a.shape != b.shape { violation("\(what): shape \(a.shape) became \(b.shape)") }
    if a.scalars.map(\.bitPattern) != b.scalars.map(\.bitPattern) { violation("\(what): scalars differ") }
}

/// A tensor's element count is the product of its shape.
public func checkTensor(_ t: Tensor, _ what: String) {
    guard let n = product(t.shape.dimensions) else { violation("\(what): shape \(t.shape) has no valid product") }
    if n != t.count || n != t.shape.count { violation("\(what): shape \(t.shape) but \(t.count) scalars") }
}

// MARK: Per reader

/// IDX (plain or gzip): element count = Π dimensions; re-encoding and re-parsing gives the same
/// array; for a plain file the re-encoding is the input itself. MNIST conversion of the result
/// throws or gives a consistent tensor / label list.
public func checkIDX(_ input: [UInt8]) {
    let array: IDXArray
    do { array = try IDXArray(parsing: input) } catch { checkError(error); return }
    guard let n = product(array.dimensions), n == array.bytes.count else {
        violation("IDX: dimensions \(array.dimensions) but \(array.bytes.count) bytes")
    }
    if array.dimensions.isEmpty || array.dimensions.count > 255 || array.dimensions.contains(where: { $0 > Int(UInt32.max) }) {
        violation("IDX: dimensions \(array.dimensions) outside what the header can hold")
    }
    let encoded: [UInt8]
    do { encoded = try IDXArray.encode(dimensions: array.dimensions, bytes: array.bytes) } catch {
        violation("IDX: a parsed array does not encode: \(error)")
    }
    let isGzip = input.count >= 2 && input[0] == 0x1f && input[1] == 0x8b
    if !isGzip && encoded != input { violation("IDX: re-encoding differs from the input") }
    do {
        let again = try IDXArray(parsing: encoded)
        if again != array { violation("IDX: re-parsed array differs") }
    } catch { violation("IDX: re-encoded array does not parse: \(error)") }

    switch array.dimensions.count {
    case 3:
        for padding in [0, 2] {
            do {
                let images = try MNIST.images(array, padding: padding)
                let d = array.dimensions
                let expected = [d[0], 1, d[1] + 2 * padding, d[2] + 2 * padding]
                if images.shape.dimensions != expected { violation("MNIST.images: shape \(images.shape), expected \(expected)") }
                checkTensor(images, "MNIST.images")
                if images.scalars.contains(where: { !($0 >= 0 && $0 <= 1) }) { violation("MNIST.images: pixel outside [0, 1]") }
            } catch { checkError(error) }
        }
    case 1:
        do {
            let labels = try MNIST.labels(array, classes: 10)
            if labels.count != array.bytes.count || labels.contains(where: { !(0..<10).contains($0) }) {
                violation("MNIST.labels: \(labels.count) labels for \(array.bytes.count) bytes, or one outside 0..<10")
            }
        } catch { checkError(error) }
    default: break
    }
}

/// .npy: count = Π shape; encode → decode gives the same tensor, bit for bit.
public func checkNPY(_ input: [UInt8]) {
    let tensor: Tensor
    do { tensor = try NPY.decode(input) } catch { checkError(error); return }
    checkTensor(tensor, "npy")
    if input.count < 4 * tensor.count { violation("npy: \(tensor.count) scalars from \(input.count) bytes") }
    do { checkSame(tensor, try NPY.decode(NPY.encode(tensor)), "npy round trip") } catch {
        violation("npy: re-encoded tensor does not decode: \(error)")
    }
}

/// safetensors: counts = Π shapes, total data within the file (at least 2 bytes per element:
/// F16 and BF16 are the narrowest dtypes); encode → parse gives the same names, order, shapes,
/// bits and metadata.
public func checkSafetensors(_ input: [UInt8]) {
    let file: Safetensors
    do { file = try Safetensors(parsing: input) } catch { checkError(error); return }
    var total = 0
    for (name, tensor) in file.tensors {
        checkTensor(tensor, "safetensors '\(name)'")
        total += 2 * tensor.count
    }
    if total > input.count { violation("safetensors: \(total) bytes of data from a \(input.count)-byte file") }
    let encoded: [UInt8]
    do { encoded = try file.encoded() } catch { violation("safetensors: a parsed file does not encode: \(error)") }
    let again: Safetensors
    do { again = try Safetensors(parsing: encoded) } catch { violation("safetensors: re-encoded file does not parse: \(error)") }
    if again.metadata != file.metadata { violation("safetensors round trip: metadata differs") }
    if again.tensors.map(\.name) != file.tensors.map(\.name) {
        violation("safetensors round trip: names \(file.tensors.map(\.name)) became \(again.tensors.map(\.name))")
    }
    for (a, b) in zip(file.tensors, again.tensors) { checkSame(a.tensor, b.tensor, "safetensors round trip '\(a.name)'") }
}
