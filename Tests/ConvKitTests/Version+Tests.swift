import Foundation
import Testing
import ConvKit

@Suite("Version")
struct VersionTests {
    /// `ConvKitVersion.current` is the first released entry of CHANGELOG.md (`## [x.y.z] - date`;
    /// an `## [Unreleased]` section above it is skipped).
    @Test func versionMatchesTheChangelog() throws {
        let text = try String(contentsOfFile: repositoryRoot + "/CHANGELOG.md", encoding: .utf8)
        let released = text.split(separator: "\n").first { line in
            line.hasPrefix("## [") && !line.hasPrefix("## [Unreleased]")
        }
        let heading = try #require(released, "CHANGELOG.md has no released entry")
        let version = heading.dropFirst(4).prefix { $0 != "]" }
        #expect(String(version) == ConvKitVersion.current, "CHANGELOG.md's top entry: \(heading)")
    }

    @Test func versionIsSemantic() {
        let parts = ConvKitVersion.current.split(separator: ".")
        #expect(parts.count == 3 && parts.allSatisfy { Int($0) != nil }, "\(ConvKitVersion.current)")
    }
}
