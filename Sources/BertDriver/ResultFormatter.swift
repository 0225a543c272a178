import BertIR
import BertRuntime

/// Turns a batch's graph outputs into bertrun's JSON lines.
struct ResultFormatter {
    let metadata: ModelMetadata
    let pooling: Pooling

    init(metadata: ModelMetadata, pooling: Pooling?) {
        self.metadata = metadata
        self.pooling = pooling ?? metadata.pooling.flatMap(Pooling.init(rawValue:)) ?? .cls
    }

    func line(_ outputs: Outputs, row b: Int) throws -> String {
        if let logits = outputs.row("logits", b) {
            let probs = softmax(logits)
            var best = 0
            for i in probs.indices where probs[i] > probs[best] { best = i }
            let label = metadata.id2label.flatMap { best < $0.count ? $0[best] : nil } ?? "LABEL_\(best)"
            return "{\"label\":\(JSONText.string(label)),\"probs\":\(JSONText.array(probs)),\"logits\":\(JSONText.array(logits))}"
        }
        guard let hidden = outputs.values["last_hidden_state"], hidden.shape.count == 3 else {
            throw BertError("the model has neither 'logits' nor 'last_hidden_state' outputs")
        }
        var v = pooling.pool(hidden.buffer, batch: b, seq: hidden.shape[1], hidden: hidden.shape[2],
                             mask: outputs.batch.attentionMask)
        if metadata.normalize { v = l2Normalize(v) }
        return "{\"embedding\":\(JSONText.array(v))}"
    }
}
