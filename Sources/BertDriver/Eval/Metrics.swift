/// Classification metrics from a confusion matrix.
///
/// - accuracy: correct / rows.
/// - F1: with two labels, the F1 of the positive class, the second label in id2label order (index 1,
///   e.g. `fresh` of rotten/fresh, `positive` of negative/positive); with more, the macro F1: the
///   unweighted mean of the per-class F1 over the classes that occur among the true or predicted
///   labels (as scikit-learn's `f1_score(average="macro")`). A class's F1 is 2·tp / (2·tp + fp + fn),
///   0 when that denominator is 0; precision and recall are likewise 0 when undefined.
/// - MCC: Matthews correlation for K classes (Gorodkin 2004), from the confusion matrix C
///   (s rows, c correct, t_k = true count of class k, p_k = predicted count of class k):
///   (c·s − Σ p_k·t_k) / sqrt((s² − Σ p_k²)·(s² − Σ t_k²)), 0 when the denominator is 0; for two
///   classes it is the usual (tp·tn − fp·fn) / sqrt((tp+fp)(tp+fn)(tn+fp)(tn+fn)).
struct ConfusionMatrix: Equatable {
    let labels: [String]
    /// counts[true][predicted].
    private(set) var counts: [[Int]]

    init(labels: [String]) {
        self.labels = labels
        counts = [[Int]](repeating: [Int](repeating: 0, count: labels.count), count: labels.count)
    }

    init(labels: [String], counts: [[Int]]) {
        precondition(counts.count == labels.count && counts.allSatisfy { $0.count == labels.count })
        self.labels = labels; self.counts = counts
    }

    mutating func add(truth: Int, predicted: Int) { counts[truth][predicted] += 1 }

    var rows: Int { counts.reduce(0) { $0 + $1.reduce(0, +) } }
    var correct: Int { counts.indices.reduce(0) { $0 + counts[$1][$1] } }
    func trueCount(_ k: Int) -> Int { counts[k].reduce(0, +) }
    func predictedCount(_ k: Int) -> Int { counts.reduce(0) { $0 + $1[k] } }
}

struct ClassMetrics: Equatable {
    var label: String
    var precision: Double
    var recall: Double
    var f1: Double
    /// Rows whose true label is this class, and rows predicted as it.
    var support: Int
    var predicted: Int
}

struct ClassificationMetrics {
    let matrix: ConfusionMatrix
    let accuracy: Double
    let perClass: [ClassMetrics]
    /// The F1 reported: binary (positive class = index 1) with two labels, macro otherwise.
    let f1: Double
    let macroF1: Double
    let positiveLabel: String?
    let mcc: Double

    init(_ m: ConfusionMatrix) {
        matrix = m
        let k = m.labels.count
        accuracy = m.rows == 0 ? .nan : Double(m.correct) / Double(m.rows)
        perClass = (0..<k).map { c in
            let tp = m.counts[c][c], t = m.trueCount(c), p = m.predictedCount(c)
            return ClassMetrics(label: m.labels[c], precision: ratio(tp, p), recall: ratio(tp, t),
                                f1: ratio(2 * tp, t + p), support: t, predicted: p)
        }
        let present = perClass.filter { $0.support + $0.predicted > 0 }
        macroF1 = present.isEmpty ? 0 : present.reduce(0.0) { $0 + $1.f1 } / Double(present.count)
        if k == 2 {
            positiveLabel = m.labels[1]; f1 = perClass[1].f1
        } else {
            positiveLabel = nil; f1 = macroF1
        }
        // Matthews correlation, multi-class form.
        let s = Double(m.rows), c = Double(m.correct)
        var pt = 0.0, pp = 0.0, tt = 0.0
        for j in 0..<k {
            let p = Double(m.predictedCount(j)), t = Double(m.trueCount(j))
            pt += p * t; pp += p * p; tt += t * t
        }
        let denominator = ((s * s - pp) * (s * s - tt)).squareRoot()
        mcc = denominator == 0 ? 0 : (c * s - pt) / denominator
    }
}

private func ratio(_ a: Int, _ b: Int) -> Double { b == 0 ? 0 : Double(a) / Double(b) }
