/// `eliminate-zeros`: zero-entry elimination (Radiya-Dixit & Wang: a task learned by zeroing entries of
/// pre-trained layers).
///
/// - Structure (`structural=true`): removes dead FFN neurons and dead attention heads (see
///   `StructuralPruning`); shapes in the IR shrink, pruned tensors become dense, outputs do not change.
/// - Entries, with a base: a dense tensor that equals the base's bitwise except for entries set to +0.0
///   (at least one, and at least `min-zero-fraction` of all) becomes `storage = mask, compute = masked`
///   with attributes `zeroed` (count) and `density` (nonzero fraction).
/// - Entries, otherwise: a dense linear weight whose fraction of zeros is at least `sparse-threshold` gets
///   a `density` attribute (the `to-csr` pass decides how to store and run it).
import BertIR

public struct EliminateZerosPass: ModulePass {
    public static let name = "eliminate-zeros"
    public static let summary = "Store base-plus-zeros tensors as masks, mark sparse weights, remove dead neurons and heads"
    public static let options = [
        PassOption(name: "min-zero-fraction", summary: "Mask a tensor only when at least this fraction of its entries was zeroed",
                   defaultValue: "0.0"),
        PassOption(name: "structural", summary: "Remove dead FFN neurons and attention heads (true|false)", defaultValue: "true"),
        PassOption(name: "sparse-threshold", summary: "Mark a linear weight sparse when at least this fraction of it is zero",
                   defaultValue: "0.5"),
    ]
    public static let statistics = [
        PassStatistic(name: "tensors-masked", summary: "Number of tensors stored as base plus mask"),
        PassStatistic(name: "entries-zeroed", summary: "Number of base entries zeroed by masks"),
        PassStatistic(name: "tensors-sparse", summary: "Number of linear weights marked sparse with their density"),
        PassStatistic(name: "neurons-removed", summary: "Number of dead FFN neurons removed"),
        PassStatistic(name: "heads-removed", summary: "Number of dead attention heads removed"),
    ]

    public let minZeroFraction: Double
    public let structural: Bool
    public let sparseThreshold: Double

    public init(options: [String: String]) throws {
        minZeroFraction = try FractionOptions.fraction(Self.name, "min-zero-fraction",
                                                       Self.optionValue("min-zero-fraction", in: options))
        structural = try FractionOptions.bool(Self.name, "structural", Self.optionValue("structural", in: options))
        sparseThreshold = try FractionOptions.fraction(Self.name, "sparse-threshold",
                                                       Self.optionValue("sparse-threshold", in: options))
    }

    public func run(_ context: PassContext) throws {
        if structural {
            var pruning = StructuralPruning(module: context.module, weights: context.weights)
            let neurons = pruning.removeDeadNeurons()
            let heads = pruning.removeDeadHeads()
            context.module = pruning.module
            if neurons > 0 { context.bump("neurons-removed", by: neurons) }
            if heads > 0 { context.bump("heads-removed", by: heads) }
        }

        var linearWeights = Set<String>()
        for op in context.module.ops where op.kind == .linear && op.operands.count >= 2 {
            if case .tensor(let w) = op.operands[1] { linearWeights.insert(w) }
        }
        for i in context.module.tensors.indices {
            let t = context.module.tensors[i]
            guard t.storage == .dense, t.dtype == .f32, let mine = context.weights[t.name],
                  mine.shape == t.shape, mine.count > 0 else { continue }
            if let base = context.base?[t.name], let diff = BaseDiff(mine, base: base), diff.isBasePlusZeros,
               Double(diff.zeroed) >= minZeroFraction * Double(diff.count) {
                context.module.tensors[i].storage = .mask
                context.module.tensors[i].compute = .masked
                context.module.tensors[i].setAttribute("zeroed", .int(diff.zeroed))
                context.module.tensors[i].setAttribute("density", .float(Double(diff.nonzero) / Double(diff.count)))
                context.bump("tensors-masked")
                context.bump("entries-zeroed", by: diff.zeroed)
                continue
            }
            guard t.shape.count == 2, linearWeights.contains(t.name) else { continue }
            let zeros = mine.zeroCount
            guard Double(zeros) >= sparseThreshold * Double(mine.count) else { continue }
            context.module.tensors[i].setAttribute("density", .float(Double(mine.count - zeros) / Double(mine.count)))
            context.bump("tensors-sparse")
        }
    }
}
