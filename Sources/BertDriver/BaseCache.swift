import BertArtifact
import BertCheckpoint
import BertIR
import BertRuntime
import BertTokenizer

/// Base models loaded once per process: several tasks compiled over the same base share its
/// mapped weights (and its fingerprint is computed once).
final class BaseCache {
    private var loaded: [String: (model: LoadedModel, fingerprint: String)] = [:]
    /// Linear weights packed once per process: tasks over one base share the base's packed layers.
    let packer = WeightPacker()
    /// Activation buffers shared by every task's engine.
    let recycler = BufferRecycler()
    /// Tokenizers of tasks that use their base's vocabulary, by base path and options.
    var tokenizers: [String: WordPieceTokenizer] = [:]

    func base(at path: String) throws -> (model: LoadedModel, fingerprint: String) {
        if let hit = loaded[path] { return hit }
        let model = try CheckpointLoader.load(path: path)
        let entry = (model, BaseFingerprint.compute(model.weights))
        loaded[path] = entry
        return entry
    }
}
