/// `sparse-delta`: with a base, a dense tensor of the base's shape that differs bitwise in at most
/// `max-fraction` of its entries becomes `storage = delta, compute = dense` with attribute `changed`
/// (the count); the artifact then stores only the changed positions and their new values. Tensors equal
/// to the base (share-base's job) and tensors that are the base plus zeros (eliminate-zeros' job) are
/// left alone. Does nothing without a base.
import BertIR

public struct SparseDeltaPass: ModulePass {
    public static let name = "sparse-delta"
    public static let summary = "Store tensors that differ from the base in a few entries as positions plus new values"
    public static let options = [
        PassOption(name: "max-fraction", summary: "Largest fraction of changed entries stored as a sparse delta",
                   defaultValue: "0.02"),
    ]
    public static let statistics = [
        PassStatistic(name: "tensors-delta", summary: "Number of tensors stored as base plus sparse delta"),
        PassStatistic(name: "entries-changed", summary: "Number of entries the deltas change"),
    ]

    public let maxFraction: Double

    public init(options: [String: String]) throws {
        maxFraction = try FractionOptions.fraction(Self.name, "max-fraction", Self.optionValue("max-fraction", in: options))
    }

    public func run(_ context: PassContext) throws {
        guard let base = context.base else { return }
        for i in context.module.tensors.indices {
            let t = context.module.tensors[i]
            guard t.storage == .dense, t.dtype == .f32, let mine = context.weights[t.name], mine.shape == t.shape,
                  let theirs = base[t.name], let diff = BaseDiff(mine, base: theirs),
                  diff.changed > 0, !diff.isBasePlusZeros,
                  Double(diff.changed) <= maxFraction * Double(diff.count) else { continue }
            context.module.tensors[i].storage = .delta
            context.module.tensors[i].compute = .dense
            context.module.tensors[i].setAttribute("changed", .int(diff.changed))
            context.bump("tensors-delta")
            context.bump("entries-changed", by: diff.changed)
        }
    }
}
