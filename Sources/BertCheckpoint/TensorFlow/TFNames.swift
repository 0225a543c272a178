/// Google BERT's TensorFlow variable names and how they map onto the canonical (Hugging Face) names
/// the lowering expects: `bert/` is dropped, `/` becomes `.`, `layer_N` becomes `layer.N`, dense
/// `kernel` becomes `weight` (stored [in, out], so transposed to [out, in]), LayerNorm `gamma`/`beta`
/// become `weight`/`bias`, the three embedding tables gain `.weight`, and run_classifier.py's
/// `output_weights` [num_labels, hidden] (already [out, in]: logits = x W^T) / `output_bias` become
/// `classifier.weight` / `classifier.bias`. Optimizer slots, `global_step` and the pretraining heads
/// (`cls/predictions/...`, `cls/seq_relationship/...`) are skipped, each with a reason.
enum TFNames {
    /// Why a checkpoint variable is not imported, or nil when it is a model weight.
    static func skipReason(_ name: String) -> String? {
        let last = name.split(separator: "/").last.map(String.init) ?? name
        switch last {
        case "adam_m", "adam_v", "Adam", "Adam_1", "Momentum", "Adagrad", "RMSProp", "RMSProp_1":
            return "optimizer slot"
        default: break
        }
        switch name {
        case "global_step": return "training step counter"
        case "beta1_power", "beta2_power": return "optimizer state"
        case "current_loss_scale", "good_steps", "loss_scale": return "loss-scaling state"
        default: break
        }
        if name.hasPrefix("cls/predictions/") { return "pretraining head (masked LM)" }
        if name.hasPrefix("cls/seq_relationship/") { return "pretraining head (next sentence)" }
        return nil
    }

    /// The canonical name of a weight, and whether its data is stored transposed ([in, out]).
    static func canonical(_ name: String) -> (name: String, transposed: Bool) {
        if name == "output_weights" { return (TensorNames.classifierWeight, false) }
        if name == "output_bias" { return (TensorNames.classifierBias, false) }
        var parts = name.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if parts.first == "bert", parts.count > 1 { parts.removeFirst() }
        var out: [String] = []
        for p in parts {
            if p.hasPrefix("layer_"), let n = Int(p.dropFirst(6)), n >= 0, String(n) == p.dropFirst(6) {
                out += ["layer", String(n)]
            } else {
                out.append(p)
            }
        }
        var transposed = false
        switch out.last {
        case "kernel": out[out.count - 1] = "weight"; transposed = true
        case "gamma": out[out.count - 1] = "weight"
        case "beta": out[out.count - 1] = "bias"
        default:
            if out.count == 2, out[0] == "embeddings", out[1].hasSuffix("_embeddings") { out.append("weight") }
        }
        return (out.joined(separator: "."), transposed)
    }
}
