/// How the im2col algorithm cuts a convolution into GEMMs, within a bounded workspace.
///
/// The column matrix of a whole batch is `(C/G)·KH·KW × N·OH·OW` floats, which explodes for large
/// images (VGG's first layers: 115 MB per image). The plan lowers **chunks**:
///
/// - *several images per chunk* when one image gives a small GEMM (`OH·OW` small, e.g. LeNet's
///   10×10 maps): their columns sit side by side in one matrix, so one GEMM of `b·OH·OW` columns
///   replaces `b` tiny ones (and becomes large enough for OpenBLAS to thread it);
/// - *one image*, the classic Caffe scheme, when an image's GEMM is already large;
/// - *a band of output rows of one image* when one image's columns exceed the workspace cap.
///
/// The plan depends only on the geometry and the cap, never on the thread count, so results are
/// the same whatever the parallelism.
public struct Conv2DLoweringPlan: Hashable, Sendable, CustomStringConvertible {
    /// Images lowered together (`b`); `> 1` only when ``rowsPerChunk`` is the whole output height.
    public let imagesPerChunk: Int
    /// Output rows lowered together (`R`); equals `outputHeight` unless one image is too large.
    public let rowsPerChunk: Int
    /// GEMM columns per chunk: `b · R · outputWidth`.
    public let columnsPerChunk: Int
    /// Floats of the column matrix: `(C/G)·KH·KW · columnsPerChunk` (0 for pointwise convolutions).
    public let columnCount: Int
    /// Floats of the staging matrix that holds a chunk's `[O/G × columnsPerChunk]` output (or output
    /// gradient) when several images share a GEMM (their planes are not adjacent in NCHW); else 0.
    public let stagingCount: Int

    /// Default cap on the workspace of one convolution call: 32 MiB.
    public static let defaultWorkspaceCapBytes = 32 << 20

    /// GEMM columns a chunk aims for when images are small: enough for a GEMM that OpenBLAS
    /// runs at full speed and threads (its threading threshold is M·N·K > 64³).
    public static let targetColumns = 4096

    /// Images are batched into one GEMM only when one image gives fewer columns than this: above
    /// it, the staging scatter costs more than the larger GEMM gains (figures:
    /// docs/decisions/Decisions.md, "im2col batching").
    public static let batchingThreshold = 512

    /// The plan for `g` under a workspace cap of `capBytes`.
    ///
    /// The cap holds whenever one output row's columns fit in it (`(C/G)·KH·KW·outputWidth` floats);
    /// otherwise a chunk is one output row and the workspace is that row's columns.
    public init(_ g: Conv2DGeometry, capBytes: Int = Conv2DLoweringPlan.defaultWorkspaceCapBytes) {
        let capFloats = max(1, capBytes / MemoryLayout<Float>.stride)
        let K = g.columnRows, P = g.outputPlane, OW = g.outputWidth, Og = g.outputChannelsPerGroup
        if g.isPointwise {
            // The input is the column matrix: one image per GEMM, nothing to copy.
            imagesPerChunk = 1; rowsPerChunk = g.outputHeight; columnsPerChunk = P
            columnCount = 0; stagingCount = 0
            return
        }
        let perImage = K * P
        if perImage > capFloats {
            let rows = max(1, min(g.outputHeight, capFloats / max(1, K * OW)))
            imagesPerChunk = 1; rowsPerChunk = rows; columnsPerChunk = rows * OW
            columnCount = K * rows * OW; stagingCount = 0
            return
        }
        var images = 1
        if P < Self.batchingThreshold {
            images = min(g.batch, (Self.targetColumns + P - 1) / P)
            // Columns and staging of `images` images must fit in the cap.
            let perImageWithStaging = (K + Og) * P
            images = max(1, min(images, capFloats / perImageWithStaging))
        }
        imagesPerChunk = images
        rowsPerChunk = g.outputHeight
        columnsPerChunk = images * P
        columnCount = K * images * P
        stagingCount = images > 1 ? Og * images * P : 0
    }

    /// The plan that the kernels use for a workspace of `workspaceFloats` floats: the largest chunks
    /// that fit in it.
    public init(_ g: Conv2DGeometry, workspaceFloats: Int) {
        self.init(g, capBytes: max(1, workspaceFloats) * MemoryLayout<Float>.stride)
    }

    /// Workspace floats: columns plus staging.
    public var workspaceCount: Int { columnCount + stagingCount }

    public var description: String {
        "\(imagesPerChunk) image(s) x \(rowsPerChunk) row(s) per chunk, \(columnsPerChunk) GEMM columns, workspace \(workspaceCount) floats"
    }
}

/// One kind of `cblas_sgemm` call an algorithm issues, and how many times (for the benchmark's
/// BLAS ceiling: the same GEMMs timed bare).
public struct GEMMCall: Hashable, Sendable, CustomStringConvertible {
    public let transA: Bool, transB: Bool
    public let m: Int, n: Int, k: Int
    public let count: Int
    public init(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, count: Int) {
        self.transA = transA; self.transB = transB; self.m = m; self.n = n; self.k = k; self.count = count
    }
    public var flops: Double { 2 * Double(m) * Double(n) * Double(k) * Double(count) }
    public var description: String {
        "\(count) x sgemm(\(transA ? "T" : "N")\(transB ? "T" : "N") M=\(m) N=\(n) K=\(k))"
    }
}
