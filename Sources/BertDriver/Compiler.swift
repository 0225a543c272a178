import BertArtifact
import BertCheckpoint
import BertIR
import BertPasses
import Foundation

/// What `bertc compile` did, for its summary line and for tests.
public struct CompileSummary: Sendable {
    public var output: String
    public var storedTensors: [String]
    public var sharedTensors: [String]
    public var bytesWritten: Int
    public var sourceBytes: Int
    /// Tensors of the checkpoint not imported, summarised (nil when none).
    public var skipped: String?

    public var line: String {
        "bertc: wrote \(output): \(storedTensors.count) tensors stored, \(sharedTensors.count) shared with base, "
            + "\(bytesWritten) bytes (source model \(sourceBytes) bytes)"
    }
}

/// The compile pipeline: read the checkpoint (and base), run passes, write the artifact.
public enum Compiler {
    public static let defaultPipeline = "verify,share-base,eliminate-zeros,sparse-delta,to-csr"

    public static func compile(model modelPath: String, base basePath: String? = nil, config: String? = nil,
                               pipeline: String = defaultPipeline, output: String,
                               printAfterAll: ((String, String) -> Void)? = nil,
                               statistics: ((String) -> Void)? = nil,
                               maskThreshold: Float = 0.0, allowNonFinite: Bool = false) throws -> CompileSummary {
        let model = try CheckpointLoader.load(path: modelPath, configPath: config, maskThreshold: maskThreshold)
        // NaN or Inf weights are refused by tensor name before anything else runs.
        if !allowNonFinite { try NonFiniteScan.check(model.weights, file: modelPath) }
        let base = try basePath.map { try CheckpointLoader.load(path: $0) }
        let context = PassContext(module: model.module, weights: model.weights, base: base?.weights, file: modelPath)
        try PassPipeline(parsing: pipeline, verifyEach: true).run(context, printAfterAll: printAfterAll)
        statistics?(PassStatisticsReport.format(context))

        let module = context.module
        let shared = module.tensors.filter { $0.storage == .shared }.map(\.name)
        var baseRef: BaseReference?
        var vocab: [String]? = model.vocab
        if let base, let basePath, module.tensors.contains(where: { $0.storage.needsBase }) {
            baseRef = BaseReference(path: URL(fileURLWithPath: basePath).standardizedFileURL.path,
                                    fingerprint: BaseFingerprint.compute(base.weights),
                                    format: base.metadata.sourceFormat)
            if base.vocab == model.vocab { vocab = nil }
        }
        let counters = context.statistics.map { CompileStatistic(pass: $0.pass, name: $0.name, value: $0.value) }
        let contents = ArtifactContents(module: module, metadata: model.metadata, vocab: vocab, base: baseRef,
                                        statistics: counters)
        let bytes = try ArtifactWriter.write(contents, weights: model.weights, base: base?.weights, to: output)
        return CompileSummary(output: output, storedTensors: module.tensors.filter { $0.storage != .shared }.map(\.name),
                              sharedTensors: shared, bytesWritten: bytes, sourceBytes: model.sourceBytes,
                              skipped: model.skippedSummary)
    }
}
