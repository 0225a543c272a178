/// What every pass declares as data (name, summary, options, statistics), modelled on MLIR's
/// Passes.td, and the `ModulePass` protocol each pass file implements.
import BertIR

/// A textual pass option, given as `pass-name{option=value}` in a pipeline.
public struct PassOption: Sendable, Equatable {
    public var name: String
    public var summary: String
    public var defaultValue: String
    public init(name: String, summary: String, defaultValue: String) {
        self.name = name; self.summary = summary; self.defaultValue = defaultValue
    }
}

/// A counter a pass bumps while it runs (reported like LLVM's `-stats`).
public struct PassStatistic: Sendable, Equatable {
    public var name: String
    public var summary: String
    public init(name: String, summary: String) { self.name = name; self.summary = summary }
}

/// A transformation or check over a whole module.
public protocol ModulePass: Sendable {
    /// The name used in pipelines, e.g. `share-base`.
    static var name: String { get }
    /// One line saying what the pass does.
    static var summary: String { get }
    static var options: [PassOption] { get }
    static var statistics: [PassStatistic] { get }
    /// Builds the pass from textual option values (unknown names are rejected by the pipeline first).
    init(options: [String: String]) throws
    func run(_ context: PassContext) throws
}

extension ModulePass {
    public static var options: [PassOption] { [] }
    public static var statistics: [PassStatistic] { [] }

    /// The value of `name` in `options`, else the declared default.
    public static func optionValue(_ name: String, in options: [String: String]) -> String {
        options[name] ?? self.options.first { $0.name == name }?.defaultValue ?? ""
    }

    /// Reads a non-negative integer option, reporting a bad value as a pipeline error.
    public static func intOption(_ name: String, in options: [String: String]) throws -> Int {
        let text = optionValue(name, in: options)
        guard let v = Int(text), v >= 0 else {
            throw BertError("<pipeline>", "option '\(name)' of pass '\(self.name)' expects a non-negative integer, got '\(text)'")
        }
        return v
    }
}
