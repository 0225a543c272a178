/// Formats the statistics of a pipeline run like LLVM's `-stats`: one line per counter,
/// `  12 share-base - Number of tensors shared with the base`, values right-aligned; passes in the
/// order they first counted something, each pass's counters in the order the pass declares them.
import BertIR

public enum PassStatisticsReport {
    public static func format(_ ctx: PassContext) -> String {
        guard !ctx.statistics.isEmpty else { return "" }
        let width = ctx.statistics.map { String($0.value).count }.max() ?? 1
        var out = "===- Statistics -===\n"
        var passes: [String] = []
        for s in ctx.statistics where !passes.contains(s.pass) { passes.append(s.pass) }
        func rank(_ s: (pass: String, name: String, value: Int)) -> (Int, Int) {
            let declared = PassRegistry.lookup(s.pass)?.statistics.firstIndex { $0.name == s.name } ?? Int.max
            return (passes.firstIndex(of: s.pass) ?? 0, declared)
        }
        let ordered = ctx.statistics.enumerated().sorted { a, b in
            let ra = rank(a.element), rb = rank(b.element)
            return ra != rb ? ra < rb : a.offset < b.offset
        }.map(\.element)
        for s in ordered {
            let summary = PassRegistry.lookup(s.pass)?.statistics.first { $0.name == s.name }?.summary ?? s.name
            let v = String(s.value)
            out += String(repeating: " ", count: width - v.count + 2) + v + " \(s.pass) - \(summary)\n"
        }
        return out
    }
}
