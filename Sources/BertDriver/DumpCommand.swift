import BertArtifact
import BertCheckpoint
import BertIR
import BertPasses

/// `bertc dump FILE`: the IR of a checkpoint or an artifact, each tensor with its storage and size.
enum DumpCommand {
    static let spec = CommandSpec(
        name: "bertc dump",
        abstract: "Print the IR of a checkpoint or artifact with storage decisions and sizes.",
        usage: "bertc dump <file> [--base <base>] [--passes <pipeline>] [--stats]",
        options: [
            OptionSpec(["--base"], value: "base", help: "For a checkpoint: run share-base against this base first."),
            OptionSpec(["--config"], value: "config.json", help: "Config for a bare .safetensors file."),
            OptionSpec(["--passes"], value: "pipeline", help: "For a checkpoint: passes to run before printing."),
            OptionSpec(["--stats"], help: "Print pass statistics (for an artifact: those of the compile that wrote it)."),
            OptionSpec(["--no-verify"], help: "For an artifact: skip section checksums."),
        ])

    static func run(_ args: [String]) throws {
        let a = try spec.parse(args)
        guard a.positionals.count == 1 else { throw UsageError(message: "expected one <file>", command: spec.name) }
        let path = a.positionals[0]
        if ArtifactProbe.isArtifact(path) {
            let art = try Artifact(path: path, verify: !a.flag("--no-verify"))
            Console.out(header(artifact: art))
            Console.out(IRPrinter.print(art.contents.module, options: IRPrintOptions(annotateSizes: true)))
            Console.out(StorageReport.format(art))
            if a.flag("--stats") { Console.out(statisticsText(art.contents.statistics)) }
            return
        }
        let model = try CheckpointLoader.load(path: path, configPath: a.value("--config"))
        let base = try a.value("--base").map { try CheckpointLoader.load(path: $0) }
        let context = PassContext(module: model.module, weights: model.weights, base: base?.weights, file: path)
        let pipeline = a.value("--passes") ?? (base == nil ? "verify" : "verify,share-base")
        try PassPipeline(parsing: pipeline).run(context)
        Console.out("// checkpoint \(path) (\(model.metadata.sourceFormat), \(model.metadata.architecture)), "
                    + "\(model.sourceBytes) bytes of weights; pipeline: \(pipeline)\n")
        Console.out(IRPrinter.print(context.module, options: IRPrintOptions(annotateSizes: true)))
        Console.out(totals(context.module, fileBytes: nil))
        if a.flag("--stats") { Console.out(PassStatisticsReport.format(context)) }
    }

    /// The compile's pass counters, as `--stats` printed them.
    static func statisticsText(_ stats: [CompileStatistic]) -> String {
        if stats.isEmpty { return "// no pass statistics recorded\n" }
        let width = stats.map { String($0.value).count }.max() ?? 1
        return "// pass statistics of the compile\n" + stats.map {
            "//   " + String(repeating: " ", count: width - String($0.value).count) + "\($0.value) \($0.pass) - \($0.name)"
        }.joined(separator: "\n") + "\n"
    }

    static func header(artifact art: Artifact) -> String {
        let c = art.contents
        var s = "// artifact \(art.path): version \(art.version), \(art.fileSize) bytes, \(c.metadata.architecture)"
        if let labels = c.metadata.id2label { s += ", labels \(labels)" }
        s += "\n"
        if let b = c.base { s += "// base: \(b.path) (fingerprint \(b.fingerprint))\n" }
        s += "// vocab: \(c.vocab.map { "\($0.count) entries inline" } ?? "the base's")\n"
        for sec in art.sections { s += "// section \(sec.kind): offset \(sec.offset), \(sec.size) bytes\n" }
        return s
    }

    /// Totals over tensors: stored against shared against the dense model.
    static func totals(_ m: Module, fileBytes: Int?) -> String {
        var stored = 0, shared = 0, nStored = 0, nShared = 0
        for t in m.tensors {
            if t.storage == .shared { shared += t.denseBytes; nShared += 1 } else { stored += t.denseBytes; nStored += 1 }
        }
        var s = "// tensors: \(nStored) stored (\(stored) bytes), \(nShared) shared with base (\(shared) bytes); "
            + "dense model \(stored + shared) bytes"
        if let fileBytes { s += "; artifact \(fileBytes) bytes" }
        return s + "\n"
    }
}
