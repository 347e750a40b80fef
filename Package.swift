// swift-tools-version: 6.1
//
// ConvKit: CPU kernels for neural networks (conv2d, dense, pooling, activations, losses),
// forward and backward, over OpenBLAS, with a thin value-type layer API on top.
//
// Module graph:  ConvKit (layers, tensors, models, files)
//                  -> ConvKitKernels (raw-buffer kernels, geometry, threading)
//                       -> ConvKitCBLAS (system library: OpenBLAS + LAPACKE)
//                       -> ConvKitCKernels (internal C: AVX2/AVX-512 kernels, runtime dispatch)
import PackageDescription

let package = Package(
    name: "ConvKit",
    products: [
        .library(name: "ConvKit", targets: ["ConvKit"]),
        .library(name: "ConvKitKernels", targets: ["ConvKitKernels"]),
        .executable(name: "convkit-bench", targets: ["ConvKitBench"]),
        .executable(name: "train-lenet", targets: ["TrainLeNet"]),
        .executable(name: "train-resnet", targets: ["TrainResNet"]),
        .executable(name: "convkit-parity", targets: ["ConvKitParity"]),
    ],
    dependencies: [
        // Used only by the executables (benchmark runner, training examples, parity runner).
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // OpenBLAS (CBLAS interface) and LAPACKE from the system.
        // Debian/Ubuntu: apt-get install libopenblas-dev liblapacke-dev pkg-config
        .systemLibrary(
            name: "ConvKitCBLAS",
            pkgConfig: "openblas",
            providers: [
                .apt(["libopenblas-dev", "liblapacke-dev"]),
                .brew(["openblas", "lapack"]),
            ]
        ),
        // Internal C module: AVX2/AVX-512 micro-kernels, each compiled for its ISA through
        // function target attributes and called only after runtime CPU detection.
        .target(name: "ConvKitCKernels"),
        .target(
            name: "ConvKitKernels",
            dependencies: ["ConvKitCBLAS", "ConvKitCKernels"],
            linkerSettings: [.linkedLibrary("m", .when(platforms: [.linux]))]
        ),
        .target(
            name: "ConvKit",
            dependencies: ["ConvKitKernels"]
        ),
        // Not a product: seeded generators, shape tables, tolerances, finite differences.
        // Shared by the tests and the benchmark so both use the same named shapes.
        .target(
            name: "_ConvKitTestSupport",
            dependencies: ["ConvKitKernels"]
        ),
        .executableTarget(
            name: "ConvKitBench",
            dependencies: [
                "ConvKit",  // the networks suite (whole models through the layer API)
                "ConvKitKernels",
                "_ConvKitTestSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/ConvKitBench"
        ),
        .executableTarget(
            name: "TrainLeNet",
            dependencies: [
                "ConvKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The second training example: a small ResNet with batch norm and dropout.
        .executableTarget(
            name: "TrainResNet",
            dependencies: [
                "ConvKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // One training step of a model on a PyTorch checkpoint, for `make parity`.
        .executableTarget(
            name: "ConvKitParity",
            dependencies: [
                "ConvKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "ConvKitKernelsTests",
            dependencies: ["ConvKitKernels", "_ConvKitTestSupport"]
        ),
        // The benchmark runner's own rules (network selection, sampling).
        .testTarget(
            name: "ConvKitBenchTests",
            dependencies: ["ConvKitBench"]
        ),
        .testTarget(
            name: "ConvKitTests",
            dependencies: ["ConvKit", "ConvKitKernels", "_ConvKitTestSupport"],
            exclude: ["Fixtures"]  // read from the source tree by ModelParityTests
        ),
    ],
    swiftLanguageModes: [.v6]
)

// DocC (`make docs`): swift-docc-plugin is added only when CONVKIT_DOCS=1, so packages that depend
// on ConvKit, and ordinary builds and tests, neither fetch it nor resolve its version against theirs.
if Context.environment["CONVKIT_DOCS"] == "1" {
    package.dependencies.append(.package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"))
}
