/// The entry point of checkpoint import: resolve a model folder or weight file, read the config,
/// side files and weights (through a `WeightSource` chosen by file kind), and lower to IR.
import BertIR
import Foundation

/// A checkpoint read and lowered: the graph, its weights and everything the runtime needs besides.
public struct LoadedModel: @unchecked Sendable {
    public var module: Module
    public var weights: WeightStore
    public var metadata: ModelMetadata
    public var vocab: [String]
    public var sourcePath: String
    /// Total bytes of the weight files.
    public var sourceBytes: Int
    public var config: BertConfig
    /// Tensors in the files that bertc does not import, with why (a dtype, or e.g. an optimizer slot).
    public var skipped: [String: String] = [:]

    /// One line for the compile output, e.g. "skipped 114 optimizer slot (adam_m/adam_v), 1 I64".
    public var skippedSummary: String? {
        if skipped.isEmpty { return nil }
        var counts: [String: Int] = [:]
        for (_, why) in skipped { counts[why, default: 0] += 1 }
        return "skipped " + counts.keys.sorted().map { "\(counts[$0]!) \($0)" }.joined(separator: ", ")
    }
}

public enum CheckpointLoader {
    /// Loads `path`: a model folder (config.json, model.safetensors or model.safetensors.index.json,
    /// vocab.txt, ...), a weight file inside such a folder, or any weight file with `configPath`
    /// (vocab.txt and tokenizer files are then looked up beside the config).
    public static func load(path: String, configPath: String? = nil, maskThreshold: Float = 0.0) throws -> LoadedModel {
        var isDir: ObjCBool = false
        let tf = try TFCheckpointLocator.locate(path)  // TensorFlow: prefix, .index, or folder with `checkpoint`
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) || tf != nil else {
            throw BertError(path, "no such file or directory")
        }
        let modelDir: String
        let weightsPath: String
        if let tf {
            modelDir = tf.directory; weightsPath = tf.indexPath
        } else if isDir.boolValue {
            modelDir = path
            weightsPath = try WeightSources.weightFile(inFolder: path)
        } else {
            modelDir = (path as NSString).deletingLastPathComponent
            weightsPath = path
        }
        guard let source = WeightSources.source(for: weightsPath) else {
            throw BertError(weightsPath, "unsupported weight file kind (expected .safetensors, .safetensors.index.json, pytorch_model.bin, .bin.index.json or a TensorFlow .index)")
        }
        let cfgPath = configPath ?? SideFiles.join(modelDir, tf == nil ? "config.json" : TFCheckpointLocator.configName)
        guard FileManager.default.fileExists(atPath: cfgPath) else {
            throw BertError(cfgPath, "model config is missing")
        }
        let sideDir = (cfgPath as NSString).deletingLastPathComponent

        let config = try tf == nil ? BertConfig.load(path: cfgPath) : TFConfig.load(path: cfgPath, indexPath: weightsPath)
        let vocabPath = SideFiles.join(sideDir, "vocab.txt")
        guard FileManager.default.fileExists(atPath: vocabPath) else { throw BertError(vocabPath, "vocabulary file is missing") }
        let tok = try SideFiles.tokenizerSettings(dir: sideDir)
        let pipeline = try SideFiles.sentencePipeline(dir: sideDir)

        var raw = try source.readTensors()
        // Masks carried as tensors (prune's _orig/_mask, NAME.mask, mask_scores) applied before lowering.
        try MaskTensors.apply(to: &raw, file: weightsPath, threshold: maskThreshold)
        let name = moduleName(isDir.boolValue ? path : modelDir)
        let (module, store) = try Lowering.lower(config: config, tensors: raw, name: name, weightsPath: weightsPath)
        // Read after lowering: vocab_size is then vouched for by the word embeddings' real bytes, and
        // the vocabulary's line count is checked against it before any token string is made.
        let vocab = try SideFiles.vocab(path: vocabPath, maxTokens: config.vocabSize)

        let meta = ModelMetadata(architecture: config.architecture,
                                 id2label: config.isClassifier ? config.id2label : nil,
                                 doLowerCase: tok.doLowerCase, stripAccents: tok.stripAccents,
                                 tokenizeChineseChars: tok.tokenizeChineseChars,
                                 maxPosition: config.maxPositionEmbeddings,
                                 pooling: pipeline.pooling, normalize: pipeline.normalize,
                                 sourceFormat: raw.format)
        return LoadedModel(module: module, weights: store, metadata: meta, vocab: vocab, sourcePath: path,
                           sourceBytes: raw.sourceBytes, config: config, skipped: raw.skipped)
    }

    /// The module name for a model folder: its last path component, sanitised to [A-Za-z0-9_.-].
    public static func moduleName(_ dir: String) -> String {
        let abs = dir.isEmpty ? FileManager.default.currentDirectoryPath : dir
        var last = (abs as NSString).lastPathComponent
        if last == "." || last == "" || last == "/" {
            last = ((FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(abs) as NSString)
                .standardizingPath
            last = (last as NSString).lastPathComponent
        }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
        let s = String(last.map { allowed.contains($0) ? $0 : "_" })
        return s.isEmpty || s == "/" ? "model" : s
    }
}
