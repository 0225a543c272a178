/// The one list of passes, like LLVM's PassRegistry.def: add a pass here and in its own
/// `<Name>Pass.swift` file (a test checks the two agree).
import BertIR

public enum PassRegistry {
    public static let all: [any ModulePass.Type] = [
        VerifyPass.self,
        ShareBasePass.self,
        EliminateZerosPass.self,
        SparseDeltaPass.self,
        ToCSRPass.self,
    ]

    public static func lookup(_ name: String) -> (any ModulePass.Type)? {
        all.first { $0.name == name }
    }

    /// Names of all passes, comma-separated, for error messages.
    public static var knownNames: String { all.map { $0.name }.joined(separator: ", ") }
}
