import Foundation

/// The metrics of `bertrun --eval` as text (stdout) and as JSON (`--metrics FILE`).
enum MetricsReport {
    static func text(_ m: ClassificationMetrics, task: String, input: String) -> String {
        let cm = m.matrix
        var s = "evaluated \(cm.rows) row\(cm.rows == 1 ? "" : "s") of \(input) with \(task)\n"
        s += "accuracy  \(fixed(m.accuracy))  (\(cm.correct)/\(cm.rows))\n"
        s += "F1        \(fixed(m.f1))  (" + (m.positiveLabel.map { "binary, positive label '\($0)'" } ?? "macro over \(cm.labels.count) labels") + ")\n"
        s += "MCC       \(fixed(m.mcc))\n"
        s += "confusion matrix (rows: true label, columns: predicted label):\n"
        let nameWidth = max(cm.labels.map(\.count).max() ?? 0, 5)
        let cellWidth = max(cm.labels.map(\.count).max() ?? 0, String(cm.rows).count, 9)
        func left(_ x: String) -> String { x + String(repeating: " ", count: max(0, nameWidth - x.count)) }
        func cell(_ x: String) -> String { String(repeating: " ", count: max(0, cellWidth - x.count)) + x }
        s += "  " + left("") + cm.labels.map { " " + cell($0) }.joined() + "\n"
        for (i, row) in cm.counts.enumerated() {
            s += "  " + left(cm.labels[i]) + row.map { " " + cell(String($0)) }.joined() + "\n"
        }
        s += "  " + left("label") + ["precision", "recall", "f1", "support"].map { " " + cell($0) }.joined() + "\n"
        for c in m.perClass {
            s += "  " + left(c.label) + [fixed(c.precision), fixed(c.recall), fixed(c.f1), String(c.support)].map { " " + cell($0) }.joined() + "\n"
        }
        return s
    }

    static func json(_ m: ClassificationMetrics, task: String, input: String) -> String {
        let cm = m.matrix
        var fields: [String] = [
            "\"task\": \(JSONText.string(task))", "\"input\": \(JSONText.string(input))",
            "\"rows\": \(cm.rows)", "\"correct\": \(cm.correct)", "\"accuracy\": \(number(m.accuracy))",
            "\"f1\": \(number(m.f1))", "\"f1_average\": \(JSONText.string(m.positiveLabel == nil ? "macro" : "binary"))",
        ]
        if let p = m.positiveLabel { fields.append("\"positive_label\": \(JSONText.string(p))") }
        fields += [
            "\"macro_f1\": \(number(m.macroF1))", "\"mcc\": \(number(m.mcc))",
            "\"labels\": [" + cm.labels.map(JSONText.string).joined(separator: ", ") + "]",
            "\"confusion_matrix\": [" + cm.counts.map { "[" + $0.map(String.init).joined(separator: ", ") + "]" }
                .joined(separator: ", ") + "]",
            "\"per_label\": [" + m.perClass.map {
                "{\"label\": \(JSONText.string($0.label)), \"precision\": \(number($0.precision)), "
                    + "\"recall\": \(number($0.recall)), \"f1\": \(number($0.f1)), \"support\": \($0.support), "
                    + "\"predicted\": \($0.predicted)}"
            }.joined(separator: ", ") + "]",
        ]
        return "{" + fields.joined(separator: ", ") + "}\n"
    }

    static func fixed(_ x: Double) -> String { x.isFinite ? String(format: "%.4f", x) : "n/a" }
    static func number(_ x: Double) -> String { x.isFinite ? x.description : "null" }
}
