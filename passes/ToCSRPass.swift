/// `to-csr`: decides which linear layers execute as CSR (compressed sparse rows). For every 2-D
/// weight used as operand 1 of a `linear` op it computes the density (nonzero fraction of the values
/// the layer effectively multiplies by) and records it as `density = <float>`:
///
/// - `storage = dense` or `csr`: counted over the tensor's data in `context.weights`;
/// - `storage = mask` (the base with zeroed entries): the `density` attribute `eliminate-zeros` wrote,
///   else counted over the effective values in `context.weights`.
///
/// A weight with density < `max-density` executes as CSR: a dense one becomes `storage = csr,
/// compute = csr`, a mask stays `storage = mask` with `compute = csr` (stored as a mask, executed as
/// CSR), a csr one gets `compute = csr`. Any other keeps compute `dense` (a mask keeps `masked`).
/// `shared` and `delta` weights, other tensors and tensors without entries are left alone.
import BertIR

public struct ToCSRPass: ModulePass {
    public static let name = "to-csr"
    public static let summary = "Execute linear weights sparser than max-density as CSR and record every weight's density"
    public static let options = [
        PassOption(name: "max-density", summary: "Linear weights with a nonzero fraction below this execute as CSR",
                   defaultValue: "0.40"),
    ]
    public static let statistics = [
        PassStatistic(name: "tensors-csr", summary: "Number of linear weights executed as CSR"),
        PassStatistic(name: "nnz-total", summary: "Number of nonzero entries in CSR weights"),
    ]

    /// The density threshold in [0, 1]: a weight executes as CSR when its density is strictly below it.
    public let maxDensity: Double

    public init(options: [String: String]) throws {
        let text = Self.optionValue("max-density", in: options)
        guard let v = Double(text), v.isFinite, v >= 0, v <= 1 else {
            throw BertError("<pipeline>", "option 'max-density' of pass 'to-csr' expects a number between 0 and 1, got '\(text)'")
        }
        maxDensity = v
    }

    public func run(_ context: PassContext) throws {
        for name in Self.linearWeights(context.module) {
            guard let i = context.module.tensorIndex(named: name) else { continue }
            let t = context.module.tensors[i]
            guard t.shape.count == 2, t.storage != .shared, t.storage != .delta,
                  let n = IRPrinter.safeElementCount(t.shape), n > 0 else { continue }
            let nnz: Int
            let density: Double
            if t.storage == .mask, let recorded = t.attributes[attr: "density"] {
                guard let d = recorded.doubleValue, d.isFinite, d >= 0, d <= 1 else {
                    throw BertError(context.file, "tensor @\(name): density attribute must be a number between 0 and 1")
                }
                density = d
                nnz = Int((d * Double(n)).rounded())
            } else {
                guard let data = context.weights[name] else {
                    let what = t.storage == .mask ? "storage is mask but it has neither a density attribute nor data"
                                                  : "storage is \(t.storage.rawValue) but there is no data for it"
                    throw BertError(context.file, "tensor @\(name): \(what)")
                }
                guard data.shape == t.shape, data.count == n else {
                    throw BertError(context.file, "tensor @\(name): declared shape \(t.shape) but data has shape \(data.shape)")
                }
                nnz = Self.nonzeroCount(data.buffer)
                density = Double(nnz) / Double(n)
            }
            let sparse = density < maxDensity
            var decl = t
            switch t.storage {
            case .dense, .csr:
                decl.storage = sparse ? .csr : t.storage
                decl.compute = sparse ? .csr : .dense
            case .mask:
                decl.compute = sparse ? .csr : .masked
            case .shared, .delta:
                continue
            }
            if let k = decl.attributes.firstIndex(where: { $0.name == "density" }) {
                decl.attributes[k].value = .float(density)
            } else {
                decl.attributes.append(NamedAttribute("density", .float(density)))
            }
            context.module.tensors[i] = decl
            if sparse {
                context.bump("tensors-csr")
                if nnz > 0 { context.bump("nnz-total", by: nnz) }
            }
        }
    }

    /// Names of the tensors used as the weight (operand 1) of a `linear` op, in order, each once.
    public static func linearWeights(_ m: Module) -> [String] {
        var seen = Set<String>()
        var out: [String] = []
        for op in m.ops where op.kind == .linear && op.operands.count >= 2 {
            if case .tensor(let w) = op.operands[1], seen.insert(w).inserted { out.append(w) }
        }
        return out
    }

    /// Entries that are not ±0.0 (NaN counts as nonzero).
    public static func nonzeroCount(_ values: UnsafeBufferPointer<Float>) -> Int {
        var n = 0
        for v in values where v != 0 { n += 1 }
        return n
    }
}
