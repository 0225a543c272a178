import BertIR
import BertRuntime

/// `bertrun --eval`: the true label of every input row against the predicted one.
/// A row's label is a label name of the model (its id2label) or a class id (0..<labels); a row without
/// a label or with an unknown one is an error `FILE: line N: fault` (with --skip-bad-lines: left out).
final class Evaluation {
    let labels: [String]
    /// The true class of each row, by row index.
    private var truth: [Int]
    private(set) var matrix: ConfusionMatrix

    private init(labels: [String], truth: [Int]) {
        self.labels = labels; self.truth = truth; matrix = ConfusionMatrix(labels: labels)
    }

    /// Maps the rows' labels to class ids. Rows that cannot be evaluated are an error, or with
    /// `skipBadLines` (input-file rows only) removed from `rows` and added to `bad`.
    static func start(metadata: ModelMetadata, artifact: String, rows: inout [InputRow], input: String,
                      skipBadLines: Bool, bad: inout [BadLine]) throws -> Evaluation {
        guard let labels = metadata.id2label, !labels.isEmpty else {
            throw BertError(artifact, "--eval needs a classifier; this artifact is an encoder without a classification head")
        }
        var kept: [InputRow] = [], truth: [Int] = []
        for row in rows {
            let fault: String
            if let l = row.label {
                if let id = classId(l, labels: labels) { kept.append(row); truth.append(id); continue }
                fault = "unknown label '\(l)' (labels: \(labels.joined(separator: ", ")), or ids 0-\(labels.count - 1))"
            } else {
                fault = "has no label; --eval needs a 'label' column or key"
            }
            guard skipBadLines, row.line > 0 else {
                throw BertError(input, row.line > 0 ? "line \(row.line): \(fault)" : "a command-line text \(fault)")
            }
            bad.append(BadLine(line: row.line, fault: fault))
        }
        guard !kept.isEmpty else { throw BertError(input, "no labelled rows to evaluate") }
        bad.sort { $0.line < $1.line }
        rows = kept
        return Evaluation(labels: labels, truth: truth)
    }

    /// A label name (exact), else an integer class id (JSON numbers like 1 or 1.0 included).
    static func classId(_ label: String, labels: [String]) -> Int? {
        if let i = labels.firstIndex(of: label) { return i }
        if let i = Int(label), labels.indices.contains(i) { return i }
        if let d = Double(label), d.rounded() == d, let i = Int(exactly: d), labels.indices.contains(i) { return i }
        return nil
    }

    /// Records the prediction for input row `row` from row `b` of a batch's outputs: the class of
    /// highest probability, as the output line's "label".
    func record(_ outputs: Outputs, batchRow b: Int, inputRow row: Int) throws {
        guard let logits = outputs.row("logits", b), logits.count == labels.count else {
            throw BertError("the model's logits do not have one value per label (\(labels.count))")
        }
        let probs = softmax(logits)
        var best = 0
        for i in probs.indices where probs[i] > probs[best] { best = i }
        matrix.add(truth: truth[row], predicted: best)
    }

    var metrics: ClassificationMetrics { ClassificationMetrics(matrix) }
}
