/// Canonical weight names of a BERT encoder and the mapping from checkpoint names to them:
/// a leading `bert.` is stripped, `classifier.*` is kept, TF-style LayerNorm `gamma`/`beta` become
/// `weight`/`bias`, and the `position_ids`/`token_type_ids` buffers are ignored.
import BertIR

public enum TensorNames {
    public static let wordEmbeddings = "embeddings.word_embeddings.weight"
    public static let positionEmbeddings = "embeddings.position_embeddings.weight"
    public static let tokenTypeEmbeddings = "embeddings.token_type_embeddings.weight"
    public static let embeddingsNormWeight = "embeddings.LayerNorm.weight"
    public static let embeddingsNormBias = "embeddings.LayerNorm.bias"
    public static let poolerWeight = "pooler.dense.weight"
    public static let poolerBias = "pooler.dense.bias"
    public static let classifierWeight = "classifier.weight"
    public static let classifierBias = "classifier.bias"

    /// Buffers some checkpoints store that are not weights.
    public static let ignoredBuffers: Set<String> = ["embeddings.position_ids", "embeddings.token_type_ids"]

    /// `encoder.layer.<i>.<suffix>`.
    public static func layer(_ i: Int, _ suffix: String) -> String { "encoder.layer.\(i).\(suffix)" }

    /// The canonical name of a checkpoint tensor name.
    public static func canonical(_ name: String) -> String {
        var n = name
        if n.hasPrefix("bert.") { n.removeFirst(5) }
        if n.hasSuffix("LayerNorm.gamma") { n = String(n.dropLast(5)) + "weight" }
        else if n.hasSuffix("LayerNorm.beta") { n = String(n.dropLast(4)) + "bias" }
        return n
    }

    /// Every tensor a model with `config` has, in the canonical declaration order, with its shape.
    /// Pooler and classifier entries are included only when asked for.
    public static func expected(_ c: BertConfig, pooler: Bool, classifier: Bool) -> [(name: String, shape: [Int])] {
        let h = c.hiddenSize, i = c.intermediateSize
        var out: [(String, [Int])] = [
            (wordEmbeddings, [c.vocabSize, h]),
            (positionEmbeddings, [c.maxPositionEmbeddings, h]),
            (tokenTypeEmbeddings, [c.typeVocabSize, h]),
            (embeddingsNormWeight, [h]),
            (embeddingsNormBias, [h]),
        ]
        for l in 0..<c.numHiddenLayers {
            for part in ["query", "key", "value"] {
                out.append((layer(l, "attention.self.\(part).weight"), [h, h]))
                out.append((layer(l, "attention.self.\(part).bias"), [h]))
            }
            out.append((layer(l, "attention.output.dense.weight"), [h, h]))
            out.append((layer(l, "attention.output.dense.bias"), [h]))
            out.append((layer(l, "attention.output.LayerNorm.weight"), [h]))
            out.append((layer(l, "attention.output.LayerNorm.bias"), [h]))
            out.append((layer(l, "intermediate.dense.weight"), [i, h]))
            out.append((layer(l, "intermediate.dense.bias"), [i]))
            out.append((layer(l, "output.dense.weight"), [h, i]))
            out.append((layer(l, "output.dense.bias"), [h]))
            out.append((layer(l, "output.LayerNorm.weight"), [h]))
            out.append((layer(l, "output.LayerNorm.bias"), [h]))
        }
        if pooler {
            out.append((poolerWeight, [h, h]))
            out.append((poolerBias, [h]))
        }
        if classifier {
            out.append((classifierWeight, [c.numLabels, h]))
            out.append((classifierBias, [c.numLabels]))
        }
        return out
    }
}
