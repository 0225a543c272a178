/// What a model needs besides its graph and weights: labels, tokenizer settings, pooling.
/// Stored as JSON in the artifact's metadata section.
public struct ModelMetadata: Codable, Hashable, Sendable {
    /// Architecture from config.json (`BertModel`, `BertForSequenceClassification`).
    public var architecture: String
    /// Label names by class index (classifiers only).
    public var id2label: [String]?
    /// Tokenizer settings (from tokenizer_config.json, defaults as transformers' BertTokenizer).
    public var doLowerCase: Bool
    /// nil: follow doLowerCase (the reference rule).
    public var stripAccents: Bool?
    public var tokenizeChineseChars: Bool
    /// max_position_embeddings: the default truncation length.
    public var maxPosition: Int
    /// Pooling for headless encoders: "cls" or "mean" (from sentence-transformers' 1_Pooling), nil if unknown.
    public var pooling: String?
    /// sentence-transformers' Normalize module follows pooling (L2 normalisation).
    public var normalize: Bool
    /// Where the model came from: "safetensors", later "tf-checkpoint", "pytorch".
    public var sourceFormat: String

    public init(architecture: String, id2label: [String]? = nil, doLowerCase: Bool = true,
                stripAccents: Bool? = nil, tokenizeChineseChars: Bool = true, maxPosition: Int,
                pooling: String? = nil, normalize: Bool = false, sourceFormat: String = "safetensors") {
        self.architecture = architecture; self.id2label = id2label; self.doLowerCase = doLowerCase
        self.stripAccents = stripAccents; self.tokenizeChineseChars = tokenizeChineseChars
        self.maxPosition = maxPosition; self.pooling = pooling; self.normalize = normalize
        self.sourceFormat = sourceFormat
    }
}
