// swift-tools-version:5.4
//
// libFuzzer targets for ConvKit's file readers (IDX, gzip-compressed IDX, NumPy .npy,
// safetensors). A separate package so that the root package stays free of sanitizer flags
// and CI does not build it. Build and run with `bash Fuzz/run.sh` (see docs/Fuzzing.md):
//
//   swift build -c release --package-path Fuzz --scratch-path .build-fuzz \
//       -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
//
// `-sanitize=fuzzer` links libFuzzer's `main`, which calls each target's
// `LLVMFuzzerTestOneInput`; `-parse-as-library` stops the Swift compiler from emitting a
// `main` of its own for the `main.swift` files.
//
// Tools version 5.4 on purpose: from 5.5 on, SwiftPM renames each executable's entry point to
// `<Target>_main` and links with `--defsym main=<Target>_main`; with `-parse-as-library` there
// is no such symbol and the link fails ("undefined symbol 'FuzzNPY_main'"). Under 5.4 SwiftPM
// leaves `main` alone and libFuzzer's `main` is used.
import PackageDescription

let package = Package(
    name: "ConvKitFuzz",
    products: [
        .executable(name: "fuzz-idx", targets: ["FuzzIDX"]),
        .executable(name: "fuzz-idx-gzip", targets: ["FuzzIDXGzip"]),
        .executable(name: "fuzz-npy", targets: ["FuzzNPY"]),
        .executable(name: "fuzz-safetensors", targets: ["FuzzSafetensors"]),
    ],
    dependencies: [
        .package(name: "ConvKit", path: ".."),
    ],
    targets: [
        // The invariants every fuzzer checks on the values the readers return.
        .target(name: "FuzzChecks", dependencies: [.product(name: "ConvKit", package: "ConvKit")]),
        .executableTarget(name: "FuzzIDX", dependencies: ["FuzzChecks"]),
        .executableTarget(name: "FuzzIDXGzip", dependencies: ["FuzzChecks"]),
        .executableTarget(name: "FuzzNPY", dependencies: ["FuzzChecks"]),
        .executableTarget(name: "FuzzSafetensors", dependencies: ["FuzzChecks"]),
    ],
    swiftLanguageVersions: [.v5]
)
