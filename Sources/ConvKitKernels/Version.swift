/// The version of the ConvKit package this code belongs to.
///
/// It is the top released entry of `CHANGELOG.md` (a test keeps the two equal) and the git tag of
/// the release (`0.1.0`); depend on it with `.package(url: …, from: "0.1.0")`.
public enum ConvKitVersion {
    /// The semantic version, `"major.minor.patch"`.
    public static let current = "0.1.0"
}
