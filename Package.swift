// swift-tools-version:6.0
import PackageDescription

/// The JSON reader and writer, the header parser and the pickle reader run on every report and file
/// a test touches; unoptimised they took about 40% of the test suite's CPU time. `Scripts/test` sets
/// CKDIFF_OPTIMIZE_DEBUG=1 to optimise them in debug builds too. Only then: unsafe flags would stop
/// other packages from depending on CKDiffCore by version.
let optimizedInDebug: [SwiftSetting] = Context.environment["CKDIFF_OPTIMIZE_DEBUG"] == "1"
    ? [.unsafeFlags(["-O"], .when(configuration: .debug))] : []

/// ckdiff: tells whether two diffusion-model checkpoints hold the same model.
///
/// The stages are separate targets so the compiler keeps the dependency arrows
/// pointing down: `Safetensors` knows nothing of Stable Diffusion, `Checkpoints`
/// nothing of statistics, `Comparison` prints nothing, and only the command line
/// (`CKDiffCLI`, run by the thin `ckdiff` executable) knows about streams and exit codes.
let package = Package(
    name: "ckdiff",
    // Built and tested on Linux (x86-64; the C kernels also for aarch64 under qemu). macOS is declared
    // so that SwiftPM builds it there: cblas then comes from Accelerate, and every Linux-only call has
    // a Darwin branch or stops the build (#error); it has not been built on a Mac here.
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "ckdiff", targets: ["ckdiff"]),
        .library(name: "CKDiffCore", targets: ["CKDiffParallel", "CKDiffJSON", "Safetensors", "TorchPickle", "Checkpoints", "Comparison", "Reporting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", exact: "1.8.2"),
    ],
    targets: [
        // cblas from the system: Debian's libblas-dev (netlib) or libopenblas-dev, both link as "blas".
        .systemLibrary(name: "CBLAS", pkgConfig: "blas", providers: [.apt(["libblas-dev"])]),
        // Half-precision conversion with F16C when the CPU has it, decided at run time.
        .target(name: "CKDiffShims"),
        // Small shared utilities: concurrentMap (results in index order), and the strict JSON
        // reader with the report encoder (sorted keys, pretty, byte-identical to JSONEncoder).
        .target(name: "CKDiffParallel"),
        .target(name: "CKDiffJSON", dependencies: ["CKDiffParallel"], swiftSettings: optimizedInDebug),
        .target(name: "Safetensors", dependencies: ["CKDiffShims", "CKDiffJSON"], swiftSettings: optimizedInDebug),
        // A restricted pickle reader for legacy PyTorch files: locates tensors, executes nothing.
        .target(name: "TorchPickle", dependencies: ["Safetensors"], swiftSettings: optimizedInDebug),
        .target(name: "Checkpoints", dependencies: ["Safetensors", "TorchPickle", "CKDiffJSON", "CKDiffParallel"]),
        .target(name: "Comparison", dependencies: ["Checkpoints", "CBLAS", "CKDiffShims"],
                linkerSettings: [.linkedFramework("Accelerate", .when(platforms: [.macOS]))]),
        .target(name: "Reporting", dependencies: ["Comparison", "CKDiffJSON", "CKDiffParallel"]),
        // The command line as a library: parsing, output streams, exit statuses. Tests run it in process.
        .target(
            name: "CKDiffCLI",
            dependencies: ["Reporting", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // The executable only hands the process's arguments, streams and environment to CKDiffCLI.
        .executableTarget(name: "ckdiff", dependencies: ["CKDiffCLI"]),
        // Test-only helpers: a small safetensors writer and fixture paths (ckdiff itself never writes checkpoints).
        .target(name: "CKDiffTestSupport", dependencies: ["Safetensors", "CKDiffJSON"], path: "Tests/TestSupport"),
        .testTarget(name: "SafetensorsTests", dependencies: ["Safetensors", "CKDiffJSON", "CKDiffShims", "CKDiffTestSupport"]),
        .testTarget(name: "TorchPickleTests", dependencies: ["TorchPickle", "CKDiffTestSupport"]),
        .testTarget(name: "CheckpointsTests", dependencies: ["Checkpoints", "CKDiffTestSupport"]),
        .testTarget(name: "ComparisonTests", dependencies: ["Comparison", "Reporting", "CKDiffTestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["CKDiffCLI", "Comparison", "Reporting", "ckdiff", "CKDiffTestSupport"]),
    ]
)
