import BertArtifact
import BertCheckpoint
import BertIR
import BertRuntime
import BertTokenizer

/// A compiled task ready to run: the artifact, its base (if it shares tensors), the resolved
/// weights, the tokenizer and the engine.
struct LoadedTask {
    let artifact: Artifact
    let base: LoadedModel?
    let tokenizer: WordPieceTokenizer
    let engine: Engine
    var metadata: ModelMetadata { artifact.contents.metadata }

    /// Opens `path`; a shared base is found at the recorded path unless `baseOverride` is given,
    /// and is refused when its fingerprint differs from the one recorded at compile time.
    static func load(path: String, baseOverride: String?, threads: Int, verify: Bool) throws -> LoadedTask {
        let artifact = try Artifact(path: path, verify: verify)
        let contents = artifact.contents
        var base: LoadedModel?
        if let ref = contents.base {
            let basePath = baseOverride ?? ref.path
            let loaded = try CheckpointLoader.load(path: basePath)
            let fingerprint = BaseFingerprint.compute(loaded.weights)
            guard fingerprint == ref.fingerprint else {
                throw BertError(basePath, "base fingerprint \(fingerprint) differs from \(ref.fingerprint) recorded in \(path); "
                                + "this is not the base the task was compiled against")
            }
            base = loaded
        }
        let weights = WeightStore()
        for decl in contents.module.tensors {
            switch decl.storage {
            case .dense:
                guard let t = artifact.weights[decl.name] else { throw BertError(path, "tensor @\(decl.name) has no data") }
                weights[decl.name] = t
            case .shared:
                guard let b = base, let t = b.weights[decl.name] else {
                    throw BertError(path, "tensor @\(decl.name) is shared but the base has no such tensor")
                }
                guard t.shape == decl.shape else {
                    throw BertError(path, "tensor @\(decl.name) is \(decl.shape) but the base's is \(t.shape)")
                }
                weights[decl.name] = t
            case .mask, .csr, .delta:
                throw BertError(path, "tensor @\(decl.name): storage '\(decl.storage.rawValue)' is not supported by this bertrun yet")
            }
        }
        // The graph drives kernel sizes: check it against the weights it will run on.
        try Verifier.verify(contents.module, weights: weights, file: path)
        guard let vocab = contents.vocab ?? base?.vocab else { throw BertError(path, "no vocabulary (and no base)") }
        let m = contents.metadata
        let tokenizer = try WordPieceTokenizer(
            vocab: vocab,
            options: TokenizerOptions(doLowerCase: m.doLowerCase, stripAccents: m.stripAccents,
                                      tokenizeChineseChars: m.tokenizeChineseChars),
            file: path)
        let engine = try Engine(module: contents.module, weights: weights, threads: threads)
        return LoadedTask(artifact: artifact, base: base, tokenizer: tokenizer, engine: engine)
    }
}
