/// `ArtifactContents`: everything in an artifact besides the tensor bytes.
import BertIR

public struct ArtifactContents: Sendable {
    public var module: Module
    public var metadata: ModelMetadata
    /// The vocabulary, one token per entry (index = id); nil: use the base's vocab.
    public var vocab: [String]?
    /// The base model shared tensors come from; nil when every tensor is dense.
    public var base: BaseReference?
    /// The pass statistics of the compile that wrote the artifact (shown by `bertc dump --stats`).
    public var statistics: [CompileStatistic]

    public init(module: Module, metadata: ModelMetadata, vocab: [String]?, base: BaseReference? = nil,
                statistics: [CompileStatistic] = []) {
        self.module = module; self.metadata = metadata; self.vocab = vocab; self.base = base
        self.statistics = statistics
    }
}

/// One pass counter, e.g. (share-base, tensors-shared, 39).
public struct CompileStatistic: Codable, Hashable, Sendable {
    public var pass: String
    public var name: String
    public var value: Int
    public init(pass: String, name: String, value: Int) { self.pass = pass; self.name = name; self.value = value }
}
