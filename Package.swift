// swift-tools-version:6.0
// bertc: a model-compression compiler and CPU runtime for fine-tuned BERT models.
// Design card: "packages: none" -- only the toolchain (Foundation, Dispatch, XCTest/Testing) and libc.
import PackageDescription

let optimizedC: [CSetting] = [
    // Kernels are always optimised, even in debug builds, so that tests on real models stay fast.
    // ISA-specific code uses per-function target attributes and runtime dispatch, never global -m flags.
    .unsafeFlags(["-O3", "-fno-math-errno", "-Wall"]),
]

let package = Package(
    name: "bertc",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "bertc", targets: ["bertc"]),
        .executable(name: "bertrun", targets: ["bertrun"]),
        // The libraries behind them, for the fuzzing/ package (a local path dependency); nothing else uses it.
        .library(name: "BertcLibraries", targets: ["BertIR", "BertSparse", "BertCheckpoint", "BertArtifact",
                                                   "BertTokenizer", "BertRuntime", "BertDriver"]),
    ],
    targets: [
        // C kernel library: dense GEMM, layer norm, attention, GELU, hashing, thread pool.
        .target(name: "CBertKernels", path: "Sources/CBertKernels", cSettings: optimizedC,
                linkerSettings: [.linkedLibrary("m"), .linkedLibrary("pthread")]),
        // Graph IR: types, textual printer and parser, verifier.
        .target(name: "BertIR", path: "Sources/BertIR"),
        // Sparse encodings: bitmaps, mask coding, CSR matrices, sparse deltas.
        .target(name: "BertSparse", dependencies: ["BertIR"], path: "Sources/BertSparse"),
        // Readers for checkpoints users hold (safetensors, HF folders) and lowering to IR.
        .target(name: "BertCheckpoint", dependencies: ["BertIR", "CBertKernels"], path: "Sources/BertCheckpoint"),
        // The pass library: one pass per file, a registry and a pass manager.
        .target(name: "BertPasses", dependencies: ["BertIR", "BertSparse"], path: "passes"),
        // The versioned, mmap-able artifact format.
        .target(name: "BertArtifact", dependencies: ["BertIR", "BertSparse", "CBertKernels"], path: "Sources/BertArtifact"),
        // BERT WordPiece tokenizer with the reference BasicTokenizer rules.
        .target(name: "BertTokenizer", dependencies: ["BertIR"], path: "Sources/BertTokenizer"),
        // Executes IR graphs on the C kernels.
        .target(name: "BertRuntime", dependencies: ["BertIR", "BertSparse", "CBertKernels"], path: "Sources/BertRuntime"),
        // The command-line driver behind bertc and bertrun.
        .target(name: "BertDriver",
                dependencies: ["BertIR", "BertCheckpoint", "BertPasses", "BertArtifact", "BertTokenizer", "BertRuntime"],
                path: "Sources/BertDriver"),
        .executableTarget(name: "bertc", dependencies: ["BertDriver"], path: "tools/bertc"),
        .executableTarget(name: "bertrun", dependencies: ["BertDriver"], path: "tools/bertrun"),
        .testTarget(name: "BertTests",
                    dependencies: ["BertIR", "BertSparse", "BertCheckpoint", "BertPasses", "BertArtifact", "BertTokenizer",
                                   "BertRuntime", "BertDriver", "CBertKernels"],
                    path: "Tests/BertTests"),
    ]
)
