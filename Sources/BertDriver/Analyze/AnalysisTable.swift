import Foundation

/// The text report of `bertc analyze`: per layer, per tensor, added/removed tensors, and the
/// critical-layer candidates.
enum AnalysisTable {
    static func format(_ a: WeightAnalysis) -> String {
        var s = "// \(a.tunedPath) against base \(a.basePath): \(a.tensors.count) tensors compared, "
            + "\(a.overall.elements) entries\n"
        s += "// L1 = mean |fine-tuned - base|; angle = between the flattened weights, in degrees; "
            + "rel.Frob = |ft - base|_F / |base|_F;\n// changed = entries with other bits; zeroed = base != 0, fine-tuned == 0 (fractions of all entries)\n\n"
        let layerRows = a.layers.map { ($0.name, $0.distance) } + [("all", a.overall)]
        s += table(title: "layer", layerRows)
        s += "\n" + table(title: "tensor", a.tensors.map { ($0.name, $0.distance) })
        if !a.added.isEmpty {
            s += "\nonly in the fine-tuned model: " + a.added.map { "\($0.name) \($0.shape)" }.joined(separator: ", ") + "\n"
        }
        if !a.removed.isEmpty {
            s += "\nonly in the base: " + a.removed.map { "\($0.name) \($0.shape)" }.joined(separator: ", ") + "\n"
        }
        s += "\ncritical-layer candidates (moved most, by relative Frobenius change): "
        s += a.candidates.isEmpty ? "none (no layer changed)\n"
            : a.candidates.map { "\($0.name) (\(sci($0.distance.relativeFrobenius)))" }.joined(separator: ", ") + "\n"
        return s
    }

    static func table(title: String, _ rows: [(String, Distance)]) -> String {
        let width = max(title.count, rows.map(\.0.count).max() ?? 0)
        func pad(_ x: String, _ w: Int, left: Bool = false) -> String {
            let fill = String(repeating: " ", count: max(0, w - x.count))
            return left ? x + fill : fill + x
        }
        var s = pad(title, width, left: true) + pad("entries", 10) + pad("L1", 11) + pad("angle(deg)", 12)
            + pad("rel.Frob", 11) + pad("changed", 10) + pad("zeroed", 10) + "\n"
        for (name, d) in rows {
            s += pad(name, width, left: true) + pad(String(d.elements), 10) + pad(sci(d.l1), 11)
                + pad(fixed(d.angleDegrees), 12) + pad(sci(d.relativeFrobenius), 11)
                + pad(percent(d.changedFraction), 10) + pad(percent(d.zeroedFraction), 10) + "\n"
        }
        return s
    }

    static func sci(_ x: Double) -> String { x.isFinite ? String(format: "%.3e", x) : (x.isNaN ? "nan" : "inf") }
    static func fixed(_ x: Double) -> String { x.isFinite ? String(format: "%.4f", x) : "nan" }
    static func percent(_ x: Double) -> String { String(format: "%.3f%%", x * 100) }
}
