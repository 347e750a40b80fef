import Testing
@testable import ConvKitBench

/// The networks suite's selection and sampling rules (the measurements themselves run in
/// `make bench-networks` and `make compare`).
@Suite struct NetworkSuiteTests {
    @Test func everyRowIsUniqueAndComplete() {
        let ids = NetworkCatalogue.all.map(\.id)
        #expect(Set(ids).count == ids.count)
        for spec in NetworkCatalogue.all + NetworkCatalogue.quick {
            #expect(spec.batch >= 1 && spec.channels >= 1 && spec.height >= 1 && spec.width >= 1 && spec.classes >= 1)
            #expect(["cross_entropy", "mse"].contains(spec.loss))
        }
    }

    @Test func filterTakesNamesAndNameSlashBatch() throws {
        let all = NetworkCatalogue.all
        #expect(try NetworkCatalogue.filter(all, tokens: []).count == all.count)
        let resnet18 = try NetworkCatalogue.filter(all, tokens: ["resnet18"])
        #expect(resnet18.map(\.batch) == [1, 16])
        let one = try NetworkCatalogue.filter(all, tokens: ["resnet18/16", "lenet5/256"])
        #expect(one.map(\.id) == ["lenet5/256", "resnet18/16"])
        #expect(try NetworkCatalogue.filter(all, tokens: ["resnet18_cifar"]).map(\.id) == ["resnet18_cifar/64"])
    }

    @Test func filterNamesUnknownTokens() {
        #expect(throws: SuiteError.self) { try NetworkCatalogue.filter(NetworkCatalogue.all, tokens: ["resnet18/3"]) }
        do {
            _ = try NetworkCatalogue.filter(NetworkCatalogue.all, tokens: ["lenet5", "vgg19"])
            Issue.record("vgg19 should not match")
        } catch {
            #expect("\(error)".contains("vgg19"))
            #expect(!"\(error)".contains("no network named lenet5"))
        }
    }

    @Test func samplingPlanKeepsBigNetworksShort() {
        // A 2 s step: one call per sample, the minimum of 3 samples.
        #expect(NetworkTimer.plan(secondsPerCall: 2, minTime: 0.05, repeats: 5) == (1, 3))
        // A 25 ms step: 2 calls per sample of >= 50 ms, all 5 samples.
        #expect(NetworkTimer.plan(secondsPerCall: 0.025, minTime: 0.05, repeats: 5) == (2, 5))
        // --repeats 1 is respected even below the minimum.
        #expect(NetworkTimer.plan(secondsPerCall: 2, minTime: 0.05, repeats: 1) == (1, 1))
        // A 1.5 s step: 3 samples fit the 5 s budget, not 5.
        #expect(NetworkTimer.plan(secondsPerCall: 1.5, minTime: 0.05, repeats: 5).samples == 3)
    }
}
