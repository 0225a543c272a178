/// The state a pipeline threads through its passes: the module being compiled, its weights, the
/// optional base model's weights, and the statistics passes bump.
import BertIR

public final class PassContext {
    public var module: Module
    public let weights: WeightStore
    /// Weights of the base model the task was fine-tuned from, when `--base` is given.
    public let base: WeightStore?
    /// The file diagnostics name.
    public var file: String
    /// The pass currently running (statistics are recorded under it).
    public internal(set) var currentPass: String = ""
    /// Counters in the order they were first bumped.
    public private(set) var statistics: [(pass: String, name: String, value: Int)] = []

    public init(module: Module, weights: WeightStore, base: WeightStore? = nil, file: String = "<ir>") {
        self.module = module; self.weights = weights; self.base = base; self.file = file
    }

    /// Adds `by` to statistic `stat` of the current pass.
    public func bump(_ stat: String, by: Int = 1) {
        if let i = statistics.firstIndex(where: { $0.pass == currentPass && $0.name == stat }) {
            statistics[i].value += by
        } else {
            statistics.append((pass: currentPass, name: stat, value: by))
        }
    }

    /// The value of a statistic (0 when never bumped).
    public func statistic(_ pass: String, _ name: String) -> Int {
        statistics.first { $0.pass == pass && $0.name == name }?.value ?? 0
    }
}
