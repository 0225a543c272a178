import BertArtifact

/// `bertc compile MODEL [--base BASE] -o task.bin`: read, lower, run passes, write the artifact.
enum CompileCommand {
    static let spec = CommandSpec(
        name: "bertc compile",
        abstract: "Compile a BERT checkpoint into an artifact.",
        usage: "bertc compile <model> [--base <base>] [--config <config.json>] [--passes <pipeline>] -o <task.bin>",
        options: [
            OptionSpec(["-o", "--output"], value: "task.bin", help: "Artifact to write (atomically)."),
            OptionSpec(["--base"], value: "base", help: "Pre-trained base: tensors identical to it are stored as references."),
            OptionSpec(["--config"], value: "config.json", help: "Config for a bare .safetensors file."),
            OptionSpec(["--passes"], value: "pipeline", help: "Pass pipeline (default: \(Compiler.defaultPipeline))."),
            OptionSpec(["--print-after-all"], help: "Print the IR after every pass to stderr."),
            OptionSpec(["--stats"], help: "Print pass statistics to stderr."),
            OptionSpec(["--mask-threshold"], value: "x", help: "Movement pruning: keep entries whose mask_scores exceed x (default 0)."),
            OptionSpec(["--allow-nonfinite"], help: "Compile even when weights hold NaN or Inf (refused by default, naming the tensors)."),
        ],
        discussion: "MODEL is a Hugging Face folder (config.json, model.safetensors or a sharded index, vocab.txt) or a .safetensors file.")

    static func run(_ args: [String]) throws {
        let a = try spec.parse(args)
        guard a.positionals.count == 1 else {
            throw UsageError(message: a.positionals.isEmpty ? "missing <model>" : "expected one <model>, got \(a.positionals.count)",
                             command: spec.name)
        }
        guard let out = a.value("--output") else { throw UsageError(message: "missing -o <task.bin>", command: spec.name) }
        var maskThreshold: Float = 0
        if let t = a.value("--mask-threshold") {
            guard let v = Float(t), v.isFinite else {
                throw UsageError(message: "--mask-threshold expects a number, got '\(t)'", command: spec.name)
            }
            maskThreshold = v
        }
        let summary = try Compiler.compile(
            model: a.positionals[0], base: a.value("--base"), config: a.value("--config"),
            pipeline: a.value("--passes") ?? Compiler.defaultPipeline, output: out,
            printAfterAll: a.flag("--print-after-all") ? { pass, ir in
                Console.err("// *** IR Dump After \(pass) ***\n\(ir)\n")
            } : nil,
            statistics: a.flag("--stats") ? { Console.err($0) } : nil, maskThreshold: maskThreshold,
            allowNonFinite: a.flag("--allow-nonfinite"))
        if let skipped = summary.skipped { Console.err("bertc: note: \(summary.output): \(skipped)\n") }
        Console.out(summary.line + "\n")
    }
}
