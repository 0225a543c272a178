/// `verify`: checks the module with `Verifier` (names, operands, signatures, shapes, weight data)
/// and changes nothing.
import BertIR

public struct VerifyPass: ModulePass {
    public static let name = "verify"
    public static let summary = "Check that the module is well formed (operands, shapes, attributes, weight data)"
    public static let statistics = [PassStatistic(name: "ops-verified", summary: "Number of ops verified")]

    public init(options: [String: String]) throws {}

    public func run(_ context: PassContext) throws {
        try Verifier.verify(context.module, weights: context.weights, file: context.file)
        context.bump("ops-verified", by: context.module.ops.count)
    }
}
