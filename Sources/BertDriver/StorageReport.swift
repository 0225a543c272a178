import BertArtifact
import BertIR

/// The per-tensor, per-layer and overall storage table `bertc dump` prints for an artifact:
/// storage encoding, compute format, shape, density and bytes stored against dense bytes.
enum StorageReport {
    static func format(_ art: Artifact) -> String {
        let tensors = art.contents.module.tensors
        var rows: [[String]] = [["tensor", "storage", "compute", "shape", "density", "stored B", "dense B"]]
        var groups: [(name: String, stored: Int, dense: Int, count: Int)] = []
        var totalStored = 0, totalDense = 0
        for t in tensors {
            let stored = art.tensorByteCounts[t.name] ?? 0
            let density = t.attributes[attr: "density"]?.doubleValue.map { String(format: "%.4f", $0) } ?? "-"
            rows.append([t.name, t.storage.rawValue, t.compute.rawValue, "\(t.shape)", density, "\(stored)", "\(t.denseBytes)"])
            let g = group(of: t.name)
            if groups.last?.name != g { groups.append((g, 0, 0, 0)) }
            groups[groups.count - 1].stored += stored
            groups[groups.count - 1].dense += t.denseBytes
            groups[groups.count - 1].count += 1
            totalStored += stored; totalDense += t.denseBytes
        }
        var out = "// storage\n" + table(rows).map { "//   " + $0 }.joined(separator: "\n") + "\n"
        out += "// per layer\n"
        out += table([["group", "tensors", "stored B", "dense B"]] + groups.map { [$0.name, "\($0.count)", "\($0.stored)", "\($0.dense)"] })
            .map { "//   " + $0 }.joined(separator: "\n") + "\n"
        let ratio = totalDense == 0 ? 0 : Double(art.fileSize) / Double(totalDense)
        out += "// total: artifact \(art.fileSize) bytes (tensor data \(totalStored) bytes) against the dense model's "
            + "\(totalDense) bytes: \(String(format: "%.4f", ratio))x\n"
        return out
    }

    /// `encoder.layer.3.attention...` -> `encoder.layer.3`; `embeddings.word...` -> `embeddings`.
    static func group(of name: String) -> String {
        let parts = name.split(separator: ".")
        if parts.count > 2, parts[0] == "encoder", parts[1] == "layer" { return parts[0...2].joined(separator: ".") }
        return String(parts.first ?? "")
    }

    /// Left-aligned columns.
    static func table(_ rows: [[String]]) -> [String] {
        guard let first = rows.first else { return [] }
        let widths = (0..<first.count).map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { r in
            r.enumerated().map { c, v in c == r.count - 1 ? v : v.padding(toLength: widths[c] + 2, withPad: " ", startingAt: 0) }
                .joined()
        }
    }
}
