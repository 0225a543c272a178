/// A textual pass pipeline, `verify,share-base{min-bytes=64}`, parsed against the registry and run
/// in order over a `PassContext` (optionally verifying after every pass and printing the IR).
import BertIR

public struct PassPipeline {
    /// One parsed pipeline element.
    public struct Entry {
        public var type: any ModulePass.Type
        public var options: [String: String]
        public var pass: any ModulePass
    }

    public private(set) var entries: [Entry] = []
    /// Run the verifier after every pass (a debug aid; tests set it).
    public var verifyEach: Bool

    /// The pass names in order.
    public var passNames: [String] { entries.map { $0.type.name } }

    /// Parses `a,b{opt=v,opt2=w},c`; unknown passes and options are errors naming them and the known ones.
    public init(parsing text: String, verifyEach: Bool = false) throws {
        self.verifyEach = verifyEach
        let file = "<pipeline>"
        var items: [String] = []
        var depth = 0
        var current = ""
        for ch in text {
            switch ch {
            case "{": depth += 1; current.append(ch)
            case "}":
                depth -= 1
                guard depth >= 0 else { throw BertError(file, "unbalanced '}' in pipeline '\(text)'") }
                current.append(ch)
            case "," where depth == 0: items.append(current); current = ""
            default: current.append(ch)
            }
        }
        guard depth == 0 else { throw BertError(file, "unbalanced '{' in pipeline '\(text)'") }
        items.append(current)
        let trimmed = items.map { $0.trimmingSpaces }
        if trimmed == [""] { return }
        for item in trimmed {
            guard !item.isEmpty else { throw BertError(file, "empty pass name in pipeline '\(text)'") }
            var name = item
            var optionText: String? = nil
            if let brace = item.firstIndex(of: "{") {
                guard item.hasSuffix("}") else { throw BertError(file, "expected '}' at the end of '\(item)'") }
                name = String(item[..<brace]).trimmingSpaces
                optionText = String(item[item.index(after: brace)..<item.index(before: item.endIndex)])
            }
            guard let type = PassRegistry.lookup(name) else {
                throw BertError(file, "unknown pass '\(name)'; known passes: \(PassRegistry.knownNames)")
            }
            var options: [String: String] = [:]
            if let optionText, !optionText.trimmingSpaces.isEmpty {
                for part in optionText.split(separator: ",", omittingEmptySubsequences: false) {
                    let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                    let key = String(kv[0]).trimmingSpaces
                    guard kv.count == 2 else {
                        throw BertError(file, "option '\(key)' of pass '\(name)' needs a value (\(key)=...)")
                    }
                    guard type.options.contains(where: { $0.name == key }) else {
                        let known = type.options.isEmpty ? "none" : type.options.map(\.name).joined(separator: ", ")
                        throw BertError(file, "pass '\(name)' has no option '\(key)'; known options: \(known)")
                    }
                    guard options[key] == nil else { throw BertError(file, "option '\(key)' of pass '\(name)' given twice") }
                    options[key] = String(kv[1]).trimmingSpaces
                }
            }
            entries.append(Entry(type: type, options: options, pass: try type.init(options: options)))
        }
    }

    /// Runs every pass in order. `printAfterAll` receives each pass name and the IR after it.
    public func run(_ ctx: PassContext, printAfterAll: ((String, String) -> Void)? = nil) throws {
        for e in entries {
            ctx.currentPass = e.type.name
            defer { ctx.currentPass = "" }
            try e.pass.run(ctx)
            if verifyEach {
                do {
                    try Verifier.verify(ctx.module, weights: ctx.weights, file: ctx.file)
                } catch let err as BertError {
                    throw BertError(err.file, "after pass \(e.type.name): \(err.message)")
                }
            }
            printAfterAll?(e.type.name, IRPrinter.print(ctx.module))
        }
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\n" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\n" { s.removeLast() }
        return String(s)
    }
}
