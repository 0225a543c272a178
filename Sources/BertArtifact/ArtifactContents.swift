/// `ArtifactContents`: everything in an artifact besides the tensor bytes.
import BertIR

public struct ArtifactContents: Sendable {
    public var module: Module
    public var metadata: ModelMetadata
    /// The vocabulary, one token per entry (index = id); nil: use the base's vocab.
    public var vocab: [String]?
    /// The base model shared tensors come from; nil when every tensor is dense.
    public var base: BaseReference?

    public init(module: Module, metadata: ModelMetadata, vocab: [String]?, base: BaseReference? = nil) {
        self.module = module; self.metadata = metadata; self.vocab = vocab; self.base = base
    }
}
