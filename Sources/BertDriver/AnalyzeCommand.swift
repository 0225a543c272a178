import BertArtifact
import BertCheckpoint
import BertIR

/// `bertc analyze FINETUNED --base BASE`: how far each tensor and layer of a fine-tuned checkpoint moved
/// from the pre-trained base, and which layers moved most.
enum AnalyzeCommand {
    static let spec = CommandSpec(
        name: "bertc analyze",
        abstract: "Measure how far a fine-tuned checkpoint moved from its base, per tensor, layer and type.",
        usage: "bertc analyze <finetuned> --base <base> [--json] [--svg <file>] [--top <k>]",
        options: [
            OptionSpec(["--base"], value: "base", help: "The pre-trained checkpoint the model was fine-tuned from (required)."),
            OptionSpec(["--config"], value: "config.json", help: "Config for a bare .safetensors <finetuned> file."),
            OptionSpec(["--json"], help: "Print one JSON object instead of the text tables."),
            OptionSpec(["--svg"], value: "file", help: "Also write the distance-by-depth figure as SVG (atomically)."),
            OptionSpec(["--top"], value: "k", help: "How many critical-layer candidates to name (default 3)."),
        ],
        discussion: """
        Both models are any checkpoint bertc compile reads; tensors are matched by canonical name (a
        'bert.' prefix is ignored) and must have the same shape. Tensors in only one model (e.g. a new
        classifier head) are listed, not measured. Per tensor, per layer (embeddings, encoder.layer.N,
        pooler, classifier: its tensors flattened and concatenated) and per weight type at each depth:
          L1          mean |finetuned - base| over the entries
          angle       the angle between the flattened weights, in degrees (0: same direction;
                      90 when exactly one is all zeros)
          rel.Frob    |finetuned - base|_F / |base|_F (inf, JSON null, when only the base is all zeros)
          changed     fraction of entries whose bits differ
          zeroed      fraction of entries with base != 0 and finetuned == 0
        The critical-layer candidates are the layers (not the classifier head) with the largest
        relative Frobenius change: the ones to fine-tune when only critical layers are tuned.
        --json keys: finetuned, base, units, overall, layers[], tensors[], types[] (points by layer),
        added[], removed[], critical_layers[]; each measure as l1, angle_degrees, relative_frobenius,
        changed, changed_fraction, zeroed, zeroed_fraction, elements.
        """)

    static func run(_ args: [String]) throws {
        let a = try spec.parse(args)
        guard a.positionals.count == 1 else {
            throw UsageError(message: a.positionals.isEmpty ? "missing <finetuned>" : "expected one <finetuned>", command: spec.name)
        }
        guard let basePath = a.value("--base") else { throw UsageError(message: "missing --base <base>", command: spec.name) }
        let top = try a.int("--top", in: 0...10_000, command: spec.name) ?? 3
        let analysis = try analyze(tunedPath: a.positionals[0], basePath: basePath, configPath: a.value("--config"), top: top)
        if let svg = a.value("--svg") {
            let text = DistanceSVG.render(analysis)
            try AtomicFile.write(to: svg) { out in try out.write(text) }
        }
        Console.out(a.flag("--json") ? AnalysisJSON.format(analysis) : AnalysisTable.format(analysis))
    }

    /// Loads both checkpoints and compares them.
    static func analyze(tunedPath: String, basePath: String, configPath: String? = nil, top: Int = 3) throws -> WeightAnalysis {
        for p in [tunedPath, basePath] where ArtifactProbe.isArtifact(p) {
            throw BertError(p, "is a bertc artifact; analyze compares checkpoints (give the checkpoint it was compiled from)")
        }
        let tuned = try CheckpointLoader.load(path: tunedPath, configPath: configPath)
        let base = try CheckpointLoader.load(path: basePath)
        return try WeightAnalysis(tuned: tuned.weights, tunedOrder: tuned.module.tensors.map(\.name), tunedPath: tunedPath,
                                  base: base.weights, baseOrder: base.module.tensors.map(\.name), basePath: basePath, top: top)
    }
}
