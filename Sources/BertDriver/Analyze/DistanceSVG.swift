import Foundation

/// The closeness figure of `bertc analyze --svg`: for each measure (L1, angle, relative Frobenius) a
/// panel of distance against depth (emb, encoder layers 0..L-1, pool, cls), one line per weight type,
/// with axes, ticks and a legend. Plain SVG 1.1 text.
enum DistanceSVG {
    static let panels: [(title: String, value: @Sendable (Distance) -> Double)] = [
        ("L1 distance (mean |ft - base|)", { $0.l1 }),
        ("angular distance (degrees)", { $0.angleDegrees }),
        ("relative Frobenius change", { $0.relativeFrobenius }),
    ]
    static let colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                         "#bcbd22", "#17becf", "#000000"]
    static let panelWidth = 380.0, panelHeight = 300.0
    static let left = 64.0, right = 12.0, top = 40.0, bottom = 48.0

    static func render(_ a: WeightAnalysis) -> String {
        let columns = categories(a)
        let legendRows = (a.types.count + 3) / 4
        let width = panelWidth * Double(panels.count) + 20
        let height = panelHeight + 30 + 20 * Double(legendRows) + 20
        var s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        s += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"\(n(width))\" height=\"\(n(height))\" "
            + "viewBox=\"0 0 \(n(width)) \(n(height))\" font-family=\"sans-serif\" font-size=\"11\">\n"
        s += "<title>\(escape("distance of \(a.tunedPath) from \(a.basePath) by depth and weight type"))</title>\n"
        s += "<rect x=\"0\" y=\"0\" width=\"\(n(width))\" height=\"\(n(height))\" fill=\"white\"/>\n"
        for (i, panel) in panels.enumerated() {
            s += renderPanel(a, panel.title, panel.value, columns: columns, x0: 10 + panelWidth * Double(i))
        }
        // Legend: four entries a row, under the panels.
        for (i, t) in a.types.enumerated() {
            let x = 20 + Double(i % 4) * 280, y = panelHeight + 30 + Double(i / 4) * 20
            let c = colors[i % colors.count]
            s += "<line x1=\"\(n(x))\" y1=\"\(n(y))\" x2=\"\(n(x + 24))\" y2=\"\(n(y))\" stroke=\"\(c)\" stroke-width=\"2\"/>"
            s += "<circle cx=\"\(n(x + 12))\" cy=\"\(n(y))\" r=\"3\" fill=\"\(c)\"/>"
            s += "<text x=\"\(n(x + 30))\" y=\"\(n(y + 4))\">\(escape(t.type))</text>\n"
        }
        return s + "</svg>\n"
    }

    /// The x positions: layers with a place in the figure, in model order.
    static func categories(_ a: WeightAnalysis) -> [String] {
        a.layers.map(\.name).filter { label($0) != nil }
    }

    static func label(_ layer: String) -> String? {
        if let d = WeightPlace(layer + ".x").depth { return String(d) }
        switch layer {
        case "embeddings": return "emb"
        case "pooler": return "pool"
        case "classifier": return "cls"
        default: return nil
        }
    }

    static func renderPanel(_ a: WeightAnalysis, _ title: String, _ value: (Distance) -> Double,
                            columns: [String], x0: Double) -> String {
        let pw = panelWidth - left - right, ph = panelHeight - top - bottom
        let px = x0 + left, py = top
        let finite = a.types.flatMap { $0.points.map { value($0.distance) } }.filter(\.isFinite)
        let (yMax, step) = niceScale(finite.max() ?? 0)
        func xAt(_ i: Int) -> Double { columns.count <= 1 ? px + pw / 2 : px + pw * Double(i) / Double(columns.count - 1) }
        func yAt(_ v: Double) -> Double { py + ph - ph * min(max(v / yMax, 0), 1) }

        var s = "<g>\n<text x=\"\(n(px + pw / 2))\" y=\"\(n(py - 14))\" text-anchor=\"middle\" font-size=\"13\">\(escape(title))</text>\n"
        s += "<rect x=\"\(n(px))\" y=\"\(n(py))\" width=\"\(n(pw))\" height=\"\(n(ph))\" fill=\"none\" stroke=\"#999\"/>\n"
        // y ticks and grid
        var v = 0.0
        while v <= yMax * (1 + 1e-9) {
            let y = yAt(v)
            s += "<line x1=\"\(n(px - 4))\" y1=\"\(n(y))\" x2=\"\(n(px + pw))\" y2=\"\(n(y))\" stroke=\"#ddd\"/>"
            s += "<text x=\"\(n(px - 6))\" y=\"\(n(y + 4))\" text-anchor=\"end\">\(escape(tick(v)))</text>\n"
            v += step
        }
        // x ticks
        for (i, layer) in columns.enumerated() {
            let x = xAt(i)
            s += "<line x1=\"\(n(x))\" y1=\"\(n(py + ph))\" x2=\"\(n(x))\" y2=\"\(n(py + ph + 4))\" stroke=\"#333\"/>"
            s += "<text x=\"\(n(x))\" y=\"\(n(py + ph + 16))\" text-anchor=\"middle\">\(escape(label(layer) ?? layer))</text>\n"
        }
        s += "<text x=\"\(n(px + pw / 2))\" y=\"\(n(py + ph + 34))\" text-anchor=\"middle\">layer (depth)</text>\n"
        // series
        for (i, t) in a.types.enumerated() {
            let c = colors[i % colors.count]
            let pts: [(Double, Double)] = t.points.compactMap { p in
                guard let col = columns.firstIndex(of: p.layer) else { return nil }
                let val = value(p.distance)
                return val.isFinite ? (xAt(col), yAt(val)) : nil
            }
            if pts.count > 1 {
                s += "<polyline fill=\"none\" stroke=\"\(c)\" stroke-width=\"1.5\" points=\""
                    + pts.map { "\(n($0.0)),\(n($0.1))" }.joined(separator: " ") + "\"/>\n"
            }
            for p in pts { s += "<circle cx=\"\(n(p.0))\" cy=\"\(n(p.1))\" r=\"3\" fill=\"\(c)\"/>" }
            if !pts.isEmpty { s += "\n" }
        }
        return s + "</g>\n"
    }

    /// A round axis maximum at or above `maxValue` and a tick step dividing it into at most 5 parts.
    static func niceScale(_ maxValue: Double) -> (Double, Double) {
        guard maxValue > 0, maxValue.isFinite else { return (1, 0.2) }
        let raw = maxValue / 5
        let mag = pow(10, floor(log10(raw)))
        let norm = raw / mag
        let step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 ? 2.5 : norm <= 5 ? 5 : 10) * mag
        return (step * (maxValue / step - 1e-9).rounded(.up), step)
    }

    static func tick(_ v: Double) -> String { String(format: "%.3g", v) }
    static func n(_ x: Double) -> String { String(format: "%.1f", x) }

    static func escape(_ s: String) -> String {
        var out = ""
        for ch in s.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default:
                // XML 1.0 forbids most C0 controls even as references.
                if ch.value < 0x20 && ch != "\t" && ch != "\n" && ch != "\r" { out += "?" } else { out.unicodeScalars.append(ch) }
            }
        }
        return out
    }
}
