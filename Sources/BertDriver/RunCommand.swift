import BertIR
import BertRuntime
import Foundation

/// `bertrun task.bin [TEXT ...]`: classify or embed texts, one JSON line per input, in input order.
enum RunCommand {
    static let spec = CommandSpec(
        name: "bertrun",
        abstract: "Tokenize text and run a compiled bertc artifact on the CPU.",
        usage: "bertrun <task.bin> [--base <base>] [<text> ...] [--pair <text-b>] [--input <file>] [--output <file>] "
            + "[--threads <n>] [--max-length <n>] [--pooling cls|mean]",
        options: [
            OptionSpec(["--base"], value: "base", help: "Base model to use instead of the path recorded at compile time."),
            OptionSpec(["--pair"], value: "text-b", help: "Second segment for every command-line text."),
            OptionSpec(["--input"], value: "file", help: "Inputs: .tsv with a header naming 'text' (opt. 'text_b', 'label') or .jsonl; '-' for stdin."),
            OptionSpec(["--format"], value: "tsv|jsonl", help: "Input format when the extension does not tell."),
            OptionSpec(["--output"], value: "file", help: "Write JSON lines here (atomically) instead of stdout."),
            OptionSpec(["--threads"], value: "n", help: "Worker threads (default 1)."),
            OptionSpec(["--batch-size"], value: "n", help: "Inputs run together (default 8)."),
            OptionSpec(["--max-length"], value: "n", help: "Truncate to n tokens (default: the model's max_position_embeddings)."),
            OptionSpec(["--pooling"], value: "cls|mean", help: "Pooling for encoders without a head (default: the model's, else cls)."),
            OptionSpec(["--no-verify"], help: "Skip the artifact's section checksums."),
        ],
        discussion: """
        Output: one JSON object per input. A classifier gives {"label", "probs", "logits"}; an encoder
        without a head gives {"embedding"} (pooled, and L2-normalised when the model's
        sentence-transformers config says so).
        """)

    static func run(_ args: [String]) throws {
        let a = try spec.parse(args)
        guard let path = a.positionals.first else { throw UsageError(message: "missing <task.bin>", command: spec.name) }
        let threads = try a.int("--threads", in: 1...256, command: spec.name) ?? 1
        let batchSize = try a.int("--batch-size", in: 1...4096, command: spec.name) ?? 8
        var pooling: Pooling?
        if let p = a.value("--pooling") {
            guard let v = Pooling(rawValue: p) else { throw UsageError(message: "--pooling expects cls or mean, got '\(p)'", command: spec.name) }
            pooling = v
        }
        var rows: [InputRow] = a.positionals.dropFirst().map { InputRow(text: $0, textB: a.value("--pair"), label: nil, line: 0) }
        if let input = a.value("--input") {
            rows += try InputReader.read(path: input, format: try InputReader.format(for: input, override: a.value("--format")))
        }
        if rows.isEmpty { throw UsageError(message: "no input: give <text> arguments or --input <file>", command: spec.name) }

        let task = try LoadedTask.load(path: path, baseOverride: a.value("--base"), threads: threads,
                                       verify: !a.flag("--no-verify"))
        let maxPosition = task.metadata.maxPosition
        let maxLength = try a.int("--max-length", in: 2...max(2, maxPosition), command: spec.name) ?? maxPosition

        let formatter = ResultFormatter(metadata: task.metadata, pooling: pooling)
        let sink = try OutputSink(path: a.value("--output"))
        for start in stride(from: 0, to: rows.count, by: batchSize) {
            let chunk = rows[start..<min(start + batchSize, rows.count)]
            let encodings = chunk.map { task.tokenizer.encode($0.text, pair: $0.textB, maxLength: maxLength) }
            let batch = Batch(rows: encodings.map { ($0.ids, $0.typeIds) }, padId: task.tokenizer.padId)
            let outputs = try task.engine.run(batch)
            for b in 0..<batch.size { try sink.write(try formatter.line(outputs, row: b) + "\n") }
        }
        try sink.finish()
    }
}
