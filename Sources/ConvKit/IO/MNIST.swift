/// MNIST-style image and label files (IDX) as tensors.
public enum MNIST {
    /// Images `[count, rows, columns]` as a tensor `[count, 1, rows + 2·padding, columns + 2·padding]`,
    /// pixels scaled to `[0, 1]` (`p / 255`), zero padding around each image (LeNet-5 reads
    /// MNIST's 28×28 digits padded by 2 to 32×32).
    ///
    /// - Throws: ``FileFormatError`` `.invalidShape` unless the array has rank 3 with rows and
    ///   columns >= 1, for a negative padding, or when the padded size overflows.
    public static func images(_ array: IDXArray, padding: Int = 0) throws(FileFormatError) -> Tensor {
        if array.dimensions.count != 3 {
            throw FileFormatError(.invalidShape, "MNIST images must have 3 dimensions [count, rows, columns], got \(array.dimensions)")
        }
        if padding < 0 { throw FileFormatError(.invalidShape, "padding must be >= 0, got \(padding)") }
        if array.dimensions[1] < 1 || array.dimensions[2] < 1 {  // else a tiny file of empty images announces any count
            throw FileFormatError(.invalidShape, "MNIST images must have rows and columns >= 1, got \(array.dimensions)")
        }
        let n = array.dimensions[0], rows = array.dimensions[1], columns = array.dimensions[2]
        let (twice, o1) = padding.multipliedReportingOverflow(by: 2)
        let (h, o2) = rows.addingReportingOverflow(twice), (w, o3) = columns.addingReportingOverflow(twice)
        let (hw, o4) = h.multipliedReportingOverflow(by: w), (count, o5) = n.multipliedReportingOverflow(by: hw)
        if o1 || o2 || o3 || o4 || o5 || count > Int.max / MemoryLayout<Float>.stride {
            throw FileFormatError(.invalidShape,
                "MNIST images: \(n) images of \(rows)×\(columns) with padding \(padding) overflow Int")
        }
        var values = [Float](repeating: 0, count: count)
        // p / 255 rounded once from Double, as NumPy's `x / 255.0` then `float32` does.
        let scale = (0..<256).map { Float(Double($0) / 255) }
        array.bytes.withUnsafeBufferPointer { src in
            values.withUnsafeMutableBufferPointer { dst in
                for i in 0..<n {
                    for r in 0..<rows {
                        let from = (i * rows + r) * columns, to = (i * h + r + padding) * w + padding
                        for c in 0..<columns { dst[to + c] = scale[Int(src[from + c])] }
                    }
                }
            }
        }
        do {
            return try Tensor(shape: Shape([n, 1, h, w]), scalars: values)
        } catch {
            throw FileFormatError(.invalidShape, "MNIST images: \(error.message)")
        }
    }

    /// Labels `[count]` as integers, each checked to be `< classes`.
    ///
    /// - Throws: ``FileFormatError`` `.invalidShape` unless rank 1, `.invalidValue` for a label `>= classes`.
    public static func labels(_ array: IDXArray, classes: Int = 10) throws(FileFormatError) -> [Int] {
        if array.dimensions.count != 1 {
            throw FileFormatError(.invalidShape, "MNIST labels must have 1 dimension [count], got \(array.dimensions)")
        }
        var labels = [Int](repeating: 0, count: array.bytes.count)
        for (i, b) in array.bytes.enumerated() {
            if Int(b) >= classes {
                throw FileFormatError(.invalidValue, "label \(i) is \(b), expected 0..<\(classes)")
            }
            labels[i] = Int(b)
        }
        return labels
    }

    /// Images and labels from two IDX files, checked to hold the same number of samples.
    public static func load(images imagesPath: String, labels labelsPath: String, padding: Int = 0, classes: Int = 10)
        throws(FileFormatError) -> (images: Tensor, labels: [Int]) {
        let x = try images(IDXArray(contentsOf: imagesPath), padding: padding)
        let y = try labels(IDXArray(contentsOf: labelsPath), classes: classes)
        if x.shape[0] != y.count {
            throw FileFormatError(.inconsistentSize,
                "\(imagesPath) holds \(x.shape[0]) images but \(labelsPath) holds \(y.count) labels")
        }
        return (x, y)
    }
}
