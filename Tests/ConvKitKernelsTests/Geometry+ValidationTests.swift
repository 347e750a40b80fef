import Testing
import _ConvKitTestSupport

/// One test per validation rule of the geometry values, checking reason and message.
@Suite("Geometry validation")
struct GeometryValidationTests {
    /// The ShapeError thrown by `make`, or nil if it succeeded (any other error fails the test).
    static func convError(_ make: () throws -> Conv2DGeometry) -> ShapeError? {
        do {
            _ = try make()
            return nil
        } catch let error as ShapeError {
            return error
        } catch {
            Issue.record("unexpected error type \(error)")
            return nil
        }
    }

    @Test func validGeometryDerivesSizes() throws {
        let g = try Conv2DGeometry(batch: 8, inputChannels: 3, inputHeight: 227, inputWidth: 227, outputChannels: 96,
                                   kernelHeight: 11, kernelWidth: 11, strideHeight: 4, strideWidth: 4)
        #expect(g.outputHeight == 55 && g.outputWidth == 55)       // (227 - 11) / 4 + 1
        #expect(g.columnRows == 363 && g.columnCols == 3025)
        #expect(g.flops == 2 * 8 * 96 * 3025 * 363)
        let d = try Conv2DGeometry(batch: 1, inputChannels: 2, inputHeight: 10, inputWidth: 9, outputChannels: 3,
                                   kernelHeight: 3, kernelWidth: 3, paddingHeight: 2, paddingWidth: 1,
                                   dilationHeight: 2, dilationWidth: 2)
        #expect(d.outputHeight == (10 + 4 - 5) / 1 + 1 && d.outputWidth == (9 + 2 - 5) + 1)
    }

    /// Every size field rejects 0 and negatives, naming the field and the value.
    @Test(arguments: ["batch", "inputChannels", "inputHeight", "inputWidth", "outputChannels",
                      "kernelHeight", "kernelWidth", "strideHeight", "strideWidth", "dilationHeight",
                      "dilationWidth", "groups"], [0, -3])
    func nonPositiveSize(_ field: String, _ value: Int) {
        func v(_ name: String, _ normal: Int) -> Int { name == field ? value : normal }
        let error = Self.convError {
            try Conv2DGeometry(batch: v("batch", 1), inputChannels: v("inputChannels", 2), inputHeight: v("inputHeight", 8),
                               inputWidth: v("inputWidth", 8), outputChannels: v("outputChannels", 2),
                               kernelHeight: v("kernelHeight", 3), kernelWidth: v("kernelWidth", 3),
                               strideHeight: v("strideHeight", 1), strideWidth: v("strideWidth", 1),
                               dilationHeight: v("dilationHeight", 1), dilationWidth: v("dilationWidth", 1),
                               groups: v("groups", 1))
        }
        #expect(error?.reason == .nonPositive)
        #expect(error?.message == "\(field) must be >= 1, got \(value)")
    }

    @Test func negativePadding() {
        let error = Self.convError {
            try Conv2DGeometry(batch: 1, inputChannels: 1, inputHeight: 8, inputWidth: 8, outputChannels: 1,
                               kernelHeight: 3, kernelWidth: 3, paddingHeight: 0, paddingWidth: -1)
        }
        #expect(error?.reason == .nonPositive)
        #expect(error?.message == "paddingWidth must be >= 0, got -1")
    }

    @Test func kernelLargerThanPaddedInput() {
        let tall = Self.convError {
            try Conv2DGeometry(batch: 1, inputChannels: 1, inputHeight: 4, inputWidth: 9, outputChannels: 1,
                               kernelHeight: 7, kernelWidth: 3, paddingHeight: 1, paddingWidth: 0)
        }
        #expect(tall?.reason == .kernelTooLarge)
        #expect(tall?.message == "kernelHeight 7 (dilated extent 7) must be <= padded inputHeight 6 (= 4 + 2 x 1)")
        let wide = Self.convError {
            try Conv2DGeometry(batch: 1, inputChannels: 1, inputHeight: 9, inputWidth: 5, outputChannels: 1,
                               kernelHeight: 3, kernelWidth: 3, dilationHeight: 1, dilationWidth: 3)
        }
        #expect(wide?.reason == .kernelTooLarge)
        #expect(wide?.message == "kernelWidth 3 (dilated extent 7) must be <= padded inputWidth 5 (= 5 + 2 x 0)")
    }

    @Test func channelsNotDivisibleByGroups() {
        let input = Self.convError {
            try Conv2DGeometry(batch: 1, inputChannels: 6, inputSize: 8, outputChannels: 4, kernelSize: 3, groups: 4)
        }
        #expect(input?.reason == .invalidValue)
        #expect(input?.message == "inputChannels (6) must be divisible by groups (4)")
        let output = Self.convError {
            try Conv2DGeometry(batch: 1, inputChannels: 4, inputSize: 8, outputChannels: 6, kernelSize: 3, groups: 4)
        }
        #expect(output?.message == "outputChannels (6) must be divisible by groups (4)")
    }

    @Test func elementCountOverflowsInt() {
        // The byte size (count × 4) is what must fit.
        let error = Self.convError {
            try Conv2DGeometry(batch: Int.max / 2, inputChannels: 4, inputSize: 8, outputChannels: 4, kernelSize: 3)
        }
        #expect(error?.reason == .overflow)
        #expect(error?.message.hasPrefix("input element count = \(Int.max / 2) x 4 x 8 x 8 elements of 4 bytes overflows Int") == true)
    }

    @Test func paddingOverflowsInt() {
        let error = Self.convError {
            try Conv2DGeometry(batch: 1, inputChannels: 1, inputHeight: 8, inputWidth: 8, outputChannels: 1,
                               kernelHeight: 3, kernelWidth: 3, paddingHeight: Int.max / 2 + 1, paddingWidth: 0)
        }
        #expect(error?.reason == .overflow)
    }

    /// A 50,000 x 50,000 single-channel image: 2.5e9 elements fit in Int, but the GEMM's N
    /// (outputHeight x outputWidth) does not fit OpenBLAS's 32-bit integers.
    @Test func gemmDimensionOverflowsInt32() {
        let error = Self.convError {
            try Conv2DGeometry(batch: 1, inputChannels: 1, inputSize: 50_000, outputChannels: 1, kernelSize: 1)
        }
        #expect(error?.reason == .overflow)
        #expect(error?.message == "GEMM N (outputHeight x outputWidth) = 2500000000 exceeds OpenBLAS's 32-bit limit of 2147483647")
    }

    @Test func gemmReductionOverflowsInt32() {
        // K = C x KH x KW = 70,000 x 200 x 200 = 2.8e9 > Int32.max.
        let error = Self.convError {
            try Conv2DGeometry(batch: 1, inputChannels: 70_000, inputSize: 200, outputChannels: 1, kernelSize: 200)
        }
        #expect(error?.reason == .overflow)
        #expect(error?.message.hasPrefix("GEMM K (inputChannels/groups x kernelHeight x kernelWidth) = 2800000000") == true)
    }

    @Test func denseRules() {
        func denseError(_ b: Int, _ i: Int, _ o: Int) -> ShapeError? {
            do { _ = try DenseGeometry(batch: b, inputFeatures: i, outputFeatures: o); return nil } catch { return error }
        }
        #expect(denseError(0, 4, 4)?.message == "batch must be >= 1, got 0")
        #expect(denseError(2, -1, 4)?.message == "inputFeatures must be >= 1, got -1")
        #expect(denseError(2, 4, 0)?.message == "outputFeatures must be >= 1, got 0")
        #expect(denseError(Int.max / 2, 4, 4)?.reason == .overflow)
        #expect(denseError(3_000_000_000, 1, 1)?.message == "GEMM M (batch) = 3000000000 exceeds OpenBLAS's 32-bit limit of 2147483647")
        #expect(denseError(1, 3_000_000_000, 1)?.reason == .overflow)
        #expect(denseError(1, 1, 3_000_000_000)?.reason == .overflow)
    }

    @Test func descriptionsNameTheRule() {
        let e = ShapeError(.mismatch, "expected [2, 3], got [3, 2]")
        #expect(e.description == "ShapeError.mismatch: expected [2, 3], got [3, 2]")
    }
}
