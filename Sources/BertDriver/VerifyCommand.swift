import BertArtifact
import BertCheckpoint
import BertIR
import BertSparse

/// `bertrun --verify task.bin [task2.bin ...]`: checks each artifact as `bertrun` would load it,
/// and reports. The checks: the header and section table, every section checksum, every tensor
/// entry's bounds, every encoding decodes (masks to the tensor's entry count, CSR row pointers and
/// column indices in range, deltas), the IR parses and verifies, the base is found (at the recorded
/// path or `--base`) and its fingerprint matches, the weights resolve against it with the declared
/// shapes, the vocabulary builds a tokenizer and the engine accepts the graph. A good artifact gets a
/// few `FILE: ok: ...` lines; a bad one a single `bertrun: error: FILE: fault`. Exit 0 when every
/// artifact passes, else 1 (64 for a bad command line). NaN or Inf values are reported, not
/// refused (`bertc compile --allow-nonfinite` writes them on purpose).
enum VerifyCommand {
    static let spec = CommandSpec(
        name: "bertrun --verify",
        abstract: "Check compiled artifacts without running them.",
        usage: "bertrun --verify <task.bin> [<task2.bin> ...] [--base <base>]",
        options: [
            OptionSpec(["--base"], value: "base", help: "Base model to check against instead of the path recorded at compile time."),
        ],
        discussion: "Exit status 0 when every artifact passes; otherwise one error line per failing artifact and 1.")

    /// `args` without the `--verify` flag itself.
    static func run(_ args: [String]) -> Int32 {
        var parsed: ParsedArguments?
        let usage = Console.exitCode(tool: "bertrun") {
            let a = try spec.parse(args)
            guard !a.positionals.isEmpty else { throw UsageError(message: "missing <task.bin>", command: spec.name) }
            parsed = a
        }
        guard let a = parsed else { return usage }
        let bases = BaseCache()
        var status: Int32 = 0
        for path in a.positionals {
            let code = Console.exitCode(tool: "bertrun") {
                Console.out(try report(path: path, baseOverride: a.value("--base"), bases: bases))
            }
            if code != 0 { status = code }
        }
        return status
    }

    /// Loads `path` exactly as `bertrun` does (every check above) and describes what was checked.
    static func report(path: String, baseOverride: String?, bases: BaseCache) throws -> String {
        let task = try LoadedTask.load(path: path, baseOverride: baseOverride, threads: 1, verify: true, bases: bases)
        let art = task.artifact
        let module = art.contents.module
        var lines: [String] = []
        lines.append("header: artifact version \(art.version), \(art.fileSize) bytes, \(art.sections.count) sections")
        lines.append("checksums: \(art.sections.count) of \(art.sections.count) sections match")

        var byStorage: [Storage: Int] = [:]
        for t in module.tensors { byStorage[t.storage, default: 0] += 1 }
        let kinds = Storage.allCases.compactMap { s in byStorage[s].map { "\($0) \(s.rawValue)" } }
        lines.append("tensors: \(module.tensors.count) (\(kinds.joined(separator: ", "))); every entry lies in DATA and every encoding decodes")
        lines.append("IR: \(module.ops.count) ops verify")
        if let ref = art.contents.base {
            lines.append("base: \(baseOverride ?? ref.path) has fingerprint \(ref.fingerprint) as recorded")
        } else {
            lines.append("base: none needed")
        }
        lines.append("runtime: weights resolve, \(task.tokenizer.vocabSize)-token vocabulary, engine ready")
        let nonFinite = try nonFiniteValues(art)
        if !nonFinite.isEmpty {
            lines.append("warning: " + NonFiniteScan.message(nonFinite) + " (compiled with --allow-nonfinite)")
        }
        lines.append("ok")
        return lines.map { "\(path): \($0)\n" }.joined()
    }

    /// Stored values that are NaN or infinite: dense tensors, CSR values and delta values.
    static func nonFiniteValues(_ art: Artifact) throws -> [NonFiniteScan.Finding] {
        var found = NonFiniteScan.scan(art.weights)
        for name in art.encodedNames {
            let counts: (nan: Int, inf: Int)
            switch try art.encodedTensor(named: name) {
            case .mask?, nil: continue
            case .csr(let v): counts = NonFiniteScan.count(UnsafeBufferPointer(start: v.values, count: v.nnz))
            case .delta(let d): counts = d.values.withUnsafeBufferPointer { NonFiniteScan.count($0) }
            }
            if counts.nan + counts.inf > 0 { found.append(.init(name: name, nan: counts.nan, inf: counts.inf)) }
        }
        return found.sorted { $0.name < $1.name }
    }
}
