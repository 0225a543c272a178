/// The model configuration from a Hugging Face config.json, restricted to what bertc computes:
/// a post-LN BERT encoder (`BertModel`) with an optional single-label sequence classifier
/// (`BertForSequenceClassification`), exact erf GELU and absolute position embeddings.
/// Anything else is refused with a one-line error naming the config field.
import BertIR
import Foundation

public struct BertConfig: Hashable, Sendable {
    public var architecture: String
    public var hiddenSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var intermediateSize: Int
    public var maxPositionEmbeddings: Int
    public var typeVocabSize: Int
    public var vocabSize: Int
    public var layerNormEps: Double
    /// Number of classifier labels (classifiers only; 0 for encoders).
    public var numLabels: Int
    /// Label names the config gives (`id2label`); nil when it gives none.
    public var labelNames: [String]?
    /// Label names by index (classifiers only): the config's, else LABEL_0 ... LABEL_{n-1}. Made on use,
    /// so a config's num_labels allocates nothing before the classifier weight has confirmed it.
    public var id2label: [String]? {
        get { isClassifier ? (labelNames ?? (0..<numLabels).map { "LABEL_\($0)" }) : nil }
        set { labelNames = newValue }
    }
    /// `problem_type` as given. Only single-label logits are computed; for
    /// "multi_label_classification" the runtime's softmax is not the model's sigmoid (the logits are exact).
    public var problemType: String?

    public var isClassifier: Bool { architecture == "BertForSequenceClassification" }
    public var headDim: Int { hiddenSize / numAttentionHeads }

    public static let supportedArchitectures = ["BertModel", "BertForSequenceClassification"]

    public init(architecture: String = "BertModel", hiddenSize: Int, numHiddenLayers: Int, numAttentionHeads: Int,
                intermediateSize: Int, maxPositionEmbeddings: Int = 512, typeVocabSize: Int = 2,
                vocabSize: Int, layerNormEps: Double = 1e-12, numLabels: Int = 0, id2label: [String]? = nil,
                problemType: String? = nil) {
        self.architecture = architecture; self.hiddenSize = hiddenSize; self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads; self.intermediateSize = intermediateSize
        self.maxPositionEmbeddings = maxPositionEmbeddings; self.typeVocabSize = typeVocabSize
        self.vocabSize = vocabSize; self.layerNormEps = layerNormEps; self.numLabels = numLabels
        self.labelNames = id2label; self.problemType = problemType
    }

    /// Reads and validates a config.json.
    public static func load(path: String) throws -> BertConfig {
        try parse(JSONFile(path: path))
    }

    /// Parses config.json bytes (`path` is used in error messages).
    public static func parse(data: Data, path: String) throws -> BertConfig {
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: data) } catch {
            throw BertError(path, "not valid JSON")
        }
        guard let obj = json as? [String: Any] else { throw BertError(path, "not a JSON object") }
        return try parse(JSONFile(path: path, object: obj))
    }

    static func parse(_ j: JSONFile) throws -> BertConfig {
        let path = j.path
        // Architecture.
        var arch: String? = nil
        if !j.isAbsent("architectures") {
            guard let list = j.object["architectures"] as? [Any], let first = list.first as? String else {
                throw BertError(path, "architectures is not a list of names")
            }
            arch = first
        }
        if let mt = try j.string("model_type") {
            guard mt == "bert" else { throw BertError(path, "unsupported model_type '\(mt)'") }
        } else {
            guard let a = arch, a.hasPrefix("Bert") else {
                throw BertError(path, "model_type is missing and architectures does not name a Bert model")
            }
        }
        let architecture = arch ?? "BertModel"
        guard supportedArchitectures.contains(architecture) else {
            throw BertError(path, "unsupported architectures '\(architecture)'")
        }
        // Refused variants.
        if let act = try j.string("hidden_act"), act != "gelu" {
            throw BertError(path, "unsupported hidden_act '\(act)' (only exact 'gelu')")
        }
        if let pe = try j.string("position_embedding_type"), pe != "absolute" {
            throw BertError(path, "unsupported position_embedding_type '\(pe)' (only 'absolute')")
        }
        if try j.bool("is_decoder") == true {
            throw BertError(path, "unsupported is_decoder true (only encoders)")
        }
        if try j.bool("add_cross_attention") == true {
            throw BertError(path, "unsupported add_cross_attention true")
        }
        // Sizes (transformers' BertConfig defaults when absent).
        let big = 1 << 24
        let hidden = try j.int("hidden_size", in: 1...big) ?? 768
        let layers = try j.int("num_hidden_layers", in: 0...4096) ?? 12
        let heads = try j.int("num_attention_heads", in: 1...big) ?? 12
        let inter = try j.int("intermediate_size", in: 1...big) ?? 3072
        let maxPos = try j.int("max_position_embeddings", in: 1...big) ?? 512
        let types = try j.int("type_vocab_size", in: 1...big) ?? 2
        let vocab = try j.int("vocab_size", in: 1...(1 << 26)) ?? 30522
        guard hidden % heads == 0 else {
            throw BertError(path, "hidden_size \(hidden) is not a multiple of num_attention_heads \(heads)")
        }
        var eps: Double = 1e-12
        if let e = try j.double("layer_norm_eps") {
            guard e > 0, e < 1 else { throw BertError(path, "layer_norm_eps \(e) is out of range") }
            eps = e
        }
        // Labels.
        var labels: [String]? = nil
        var numLabels = 0
        if architecture == "BertForSequenceClassification" {
            if !j.isAbsent("id2label") {
                guard let m = j.object["id2label"] as? [String: Any] else {
                    throw BertError(path, "id2label is not an object")
                }
                var names = [String?](repeating: nil, count: m.count)
                for (k, v) in m {
                    guard let i = Int(k), i >= 0, i < m.count else {
                        throw BertError(path, "id2label key '\(k)' is not an index 0..<\(m.count)")
                    }
                    guard let s = v as? String else { throw BertError(path, "id2label['\(k)'] is not a string") }
                    names[i] = s
                }
                labels = names.map { $0 ?? "" }
            }
            if let n = try j.int("num_labels", in: 1...big) {
                if let l = labels, l.count != n {
                    throw BertError(path, "num_labels \(n) disagrees with id2label (\(l.count) labels)")
                }
                numLabels = n
            } else {
                numLabels = labels?.count ?? 2
            }
        }
        let problem = try j.string("problem_type")
        return BertConfig(architecture: architecture, hiddenSize: hidden, numHiddenLayers: layers,
                          numAttentionHeads: heads, intermediateSize: inter, maxPositionEmbeddings: maxPos,
                          typeVocabSize: types, vocabSize: vocab, layerNormEps: eps, numLabels: numLabels,
                          id2label: labels, problemType: problem)
    }
}
