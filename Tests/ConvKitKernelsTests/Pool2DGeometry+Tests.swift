import Testing
import _ConvKitTestSupport

/// One test per validation rule of `Pool2DGeometry`: the reason and the words of the message.
@Suite struct Pool2DGeometryTests {
    /// The `ShapeError` thrown by `make` (nil if it succeeds or throws something else).
    func error(_ make: () throws -> Pool2DGeometry) -> ShapeError? {
        do { _ = try make(); return nil } catch let error as ShapeError { return error } catch { return nil }
    }

    @Test func validGeometryDerivesSizes() throws {
        // AlexNet pool1: 55 → (55 − 3)/2 + 1 = 27.
        let g = try Pool2DGeometry(batch: 8, channels: 96, inputSize: 55, window: 3, stride: 2)
        #expect(g.outputHeight == 27 && g.outputWidth == 27)
        #expect(g.outputCount == 8 * 96 * 27 * 27 && g.inputCount == 8 * 96 * 55 * 55)
        // Padding: (4 + 2 − 2)/2 + 1 = 3.
        let p = try Pool2DGeometry(batch: 1, channels: 1, inputSize: 4, window: 2, stride: 2, padding: 1)
        #expect(p.outputHeight == 3 && p.outputWidth == 3)
    }

    @Test(arguments: ["batch", "channels", "inputHeight", "inputWidth", "windowHeight", "windowWidth", "strideHeight", "strideWidth"])
    func nonPositiveSizeIsRejected(name: String) {
        var sizes = ["batch": 1, "channels": 1, "inputHeight": 4, "inputWidth": 4, "windowHeight": 2, "windowWidth": 2,
                     "strideHeight": 1, "strideWidth": 1]
        sizes[name] = 0
        let e = error {
            try Pool2DGeometry(batch: sizes["batch"]!, channels: sizes["channels"]!,
                               inputHeight: sizes["inputHeight"]!, inputWidth: sizes["inputWidth"]!,
                               windowHeight: sizes["windowHeight"]!, windowWidth: sizes["windowWidth"]!,
                               strideHeight: sizes["strideHeight"]!, strideWidth: sizes["strideWidth"]!)
        }
        #expect(e?.reason == .nonPositive)
        #expect(e?.message == "\(name) must be >= 1, got 0")
    }

    @Test func negativePaddingIsRejected() {
        let e = error { try Pool2DGeometry(batch: 1, channels: 1, inputHeight: 4, inputWidth: 4, windowHeight: 2,
                                           windowWidth: 2, strideHeight: 1, strideWidth: 1, paddingHeight: -1) }
        #expect(e?.reason == .nonPositive)
        #expect(e?.message == "paddingHeight must be >= 0, got -1")
    }

    @Test func paddingNotSmallerThanWindowIsRejected() {
        let h = error { try Pool2DGeometry(batch: 1, channels: 1, inputHeight: 4, inputWidth: 4, windowHeight: 2,
                                           windowWidth: 3, strideHeight: 1, strideWidth: 1, paddingHeight: 2) }
        #expect(h?.reason == .invalidValue)
        #expect(h?.message == "paddingHeight must be < windowHeight (2) so that every window sees the input, got 2")
        let w = error { try Pool2DGeometry(batch: 1, channels: 1, inputHeight: 4, inputWidth: 4, windowHeight: 3,
                                           windowWidth: 2, strideHeight: 1, strideWidth: 1, paddingWidth: 3) }
        #expect(w?.reason == .invalidValue)
        #expect(w?.message == "paddingWidth must be < windowWidth (2) so that every window sees the input, got 3")
    }

    @Test func windowLargerThanPaddedInputIsRejected() {
        let h = error { try Pool2DGeometry(batch: 1, channels: 1, inputHeight: 3, inputWidth: 9, windowHeight: 6,
                                           windowWidth: 2, strideHeight: 1, strideWidth: 1, paddingHeight: 1) }
        #expect(h?.reason == .kernelTooLarge)
        #expect(h?.message == "windowHeight 6 must be <= padded inputHeight 5 (= 3 + 2 x 1)")
        let w = error { try Pool2DGeometry(batch: 1, channels: 1, inputHeight: 9, inputWidth: 2, windowHeight: 2,
                                           windowWidth: 3, strideHeight: 1, strideWidth: 1) }
        #expect(w?.reason == .kernelTooLarge)
        #expect(w?.message == "windowWidth 3 must be <= padded inputWidth 2 (= 2 + 2 x 0)")
    }

    @Test func elementCountOverflowIsRejected() {
        let e = error { try Pool2DGeometry(batch: Int.max / 2, channels: 4, inputSize: 2, window: 2, stride: 2) }
        #expect(e?.reason == .overflow)
        #expect(e?.message.hasPrefix("input element count = \(Int.max / 2) x 4 x 2 x 2 elements of 4 bytes overflows Int") == true)
    }

    @Test func planeBeyondInt32IndicesIsRejected() {
        let e = error { try Pool2DGeometry(batch: 1, channels: 1, inputHeight: 65_536, inputWidth: 65_536,
                                           windowHeight: 2, windowWidth: 2, strideHeight: 2, strideWidth: 2) }
        #expect(e?.reason == .overflow)
        #expect(e?.message == "input plane inputHeight x inputWidth = 4294967296 must be <= 2147483647 (max-pooling indices are Int32)")
    }
}
