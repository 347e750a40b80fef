import Foundation

extension Report {
    /// `{"machine": {...}, "results": [...], "failures": [...]}`, pretty-printed, keys sorted.
    func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(contentsOf: Array("\n".utf8))
        return data
    }
}
