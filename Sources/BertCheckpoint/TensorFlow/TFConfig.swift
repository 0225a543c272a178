/// The model config of a Google BERT checkpoint: `bert_config.json` (Google's keys: hidden_size,
/// num_hidden_layers, num_attention_heads, intermediate_size, hidden_act, max_position_embeddings,
/// type_vocab_size, vocab_size, initializer_range, dropout probabilities). It names no architecture:
/// the checkpoint decides, BertForSequenceClassification with labels LABEL_0..n-1 when it holds
/// run_classifier.py's `output_weights` [num_labels, hidden], else BertModel. A config.json in
/// Hugging Face form (with model_type or architectures) is read as such. `layer_norm_eps` and
/// `id2label` are honoured when present (Google's code fixes the epsilon at 1e-12).
import BertIR
import Foundation

public enum TFConfig {
    /// Reads `path` for the checkpoint whose index is `indexPath`.
    public static func load(path: String, indexPath: String) throws -> BertConfig {
        let j = try JSONFile(path: path)
        if !j.isAbsent("model_type") || !j.isAbsent("architectures") { return try BertConfig.parse(j) }
        var obj = j.object
        obj["model_type"] = "bert"
        let bundle = try TensorBundle(indexPath: indexPath)
        if let head = bundle.entries.first(where: { $0.name == "output_weights" }) {
            guard head.shape.count == 2, head.shape[0] >= 1 else {
                throw BertError(indexPath, "output_weights has shape \(head.shape), expected [num_labels, hidden]")
            }
            obj["architectures"] = ["BertForSequenceClassification"]
            if j.isAbsent("num_labels") && j.isAbsent("id2label") { obj["num_labels"] = head.shape[0] }
        } else {
            obj["architectures"] = ["BertModel"]
        }
        return try BertConfig.parse(JSONFile(path: path, object: obj))
    }
}
