/// Parsing of the fraction and boolean pass options used by the sparsity passes
/// (`min-zero-fraction=0.1`, `structural=false`), reported as pipeline errors naming the pass.
import BertIR

enum FractionOptions {
    /// A finite number in [0, 1].
    static func fraction(_ pass: String, _ name: String, _ text: String) throws -> Double {
        guard let v = Double(text), v.isFinite, v >= 0, v <= 1 else {
            throw BertError("<pipeline>", "option '\(name)' of pass '\(pass)' expects a fraction between 0 and 1, got '\(text)'")
        }
        return v
    }

    /// `true` or `false`.
    static func bool(_ pass: String, _ name: String, _ text: String) throws -> Bool {
        switch text {
        case "true": return true
        case "false": return false
        default: throw BertError("<pipeline>", "option '\(name)' of pass '\(pass)' expects true or false, got '\(text)'")
        }
    }
}
