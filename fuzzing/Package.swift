// swift-tools-version:6.0
// libFuzzer targets for bertc's readers. A separate package so that the root package's `swift build` and
// `swift test` never see them; it depends on the root package by path (no third-party packages).
// Build and run with tools/fuzz.sh (swift build -c release --sanitize fuzzer --sanitize address
// -Xswiftc -parse-as-library). Every target calls FuzzEntry (BertDriver), as the regression tests do.
import PackageDescription

let targets = ["safetensors", "tfindex", "pytorch", "config", "vocab", "artifact", "input", "ir"]

let package = Package(
    name: "bertc-fuzzing",
    platforms: [.macOS(.v13)],
    dependencies: [.package(name: "bertc", path: "..")],
    targets: [
        .target(name: "FuzzHarness", dependencies: [.product(name: "BertcLibraries", package: "bertc")],
                path: "Sources/FuzzHarness"),
    ] + targets.map { name in
        .executableTarget(name: "fuzz-\(name)", dependencies: ["FuzzHarness"], path: "Sources/fuzz-\(name)")
    }
)
