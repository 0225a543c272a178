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
    static func load(path: String, baseOverride: String?, threads: Int, verify: Bool,
                     bases: BaseCache = BaseCache()) throws -> LoadedTask {
        let artifact = try Artifact(path: path, verify: verify)
        let contents = artifact.contents
        var base: LoadedModel?
        if let ref = contents.base {
            let basePath = baseOverride ?? ref.path
            let (loaded, fingerprint) = try bases.base(at: basePath)
            guard fingerprint == ref.fingerprint else {
                throw BertError(basePath, "base fingerprint \(fingerprint) differs from \(ref.fingerprint) recorded in \(path); "
                                + "this is not the base the task was compiled against")
            }
            base = loaded
        }
        // The graph drives kernel sizes: verify it before any weight is expanded from it.
        try Verifier.verify(contents.module, weights: nil, file: path)
        let (weights, linear) = try WeightResolver(artifact: artifact, base: base?.weights).resolve()
        guard let vocab = contents.vocab ?? base?.vocab else { throw BertError(path, "no vocabulary (and no base)") }
        let m = contents.metadata
        let options = TokenizerOptions(doLowerCase: m.doLowerCase, stripAccents: m.stripAccents,
                                       tokenizeChineseChars: m.tokenizeChineseChars)
        // Tasks that use their base's vocabulary share one tokenizer (its dictionary is megabytes).
        let key = contents.vocab == nil ? "\(baseOverride ?? contents.base?.path ?? "")|\(options)" : nil
        let tokenizer = try key.flatMap { bases.tokenizers[$0] }
            ?? WordPieceTokenizer(vocab: vocab, options: options, file: path)
        if let key { bases.tokenizers[key] = tokenizer }
        let engine = try Engine(module: contents.module, weights: weights, linear: linear, threads: threads,
                                packer: bases.packer, recycler: bases.recycler)
        return LoadedTask(artifact: artifact, base: base, tokenizer: tokenizer, engine: engine)
    }
}
