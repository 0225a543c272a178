import BertIR
import BertRuntime
import Foundation

/// `bertrun task.bin [TEXT ...]`: classify or embed texts, one JSON line per input, in input order.
enum RunCommand {
    static let spec = CommandSpec(
        name: "bertrun",
        abstract: "Tokenize text and run a compiled bertc artifact on the CPU.",
        usage: "bertrun <task.bin> [<task2.bin> ...] [--base <base>] [<text> ...] [--pair <text-b>] [--input <file>] [--output <file>] "
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
        Several artifacts over one base: the base is mapped once; every input names its task in a
        'task' column or key (the artifact's file name, with or without .bin).
        Output: one JSON object per input. A classifier gives {"label", "probs", "logits"}; an encoder
        without a head gives {"embedding"} (pooled, and L2-normalised when the model's
        sentence-transformers config says so).
        """)

    static func run(_ args: [String]) throws {
        let a = try spec.parse(args)
        guard !a.positionals.isEmpty else { throw UsageError(message: "missing <task.bin>", command: spec.name) }
        let threads = try a.int("--threads", in: 1...256, command: spec.name) ?? 1
        let batchSize = try a.int("--batch-size", in: 1...4096, command: spec.name) ?? 8
        var pooling: Pooling?
        if let p = a.value("--pooling") {
            guard let v = Pooling(rawValue: p) else { throw UsageError(message: "--pooling expects cls or mean, got '\(p)'", command: spec.name) }
            pooling = v
        }
        // Leading arguments that are artifacts are tasks (at least the first); the rest are texts.
        var taskPaths = [a.positionals[0]]
        var texts = a.positionals.dropFirst()
        while let p = texts.first, ArtifactProbe.isArtifact(p) { taskPaths.append(p); texts = texts.dropFirst() }
        var rows: [InputRow] = texts.map { InputRow(text: $0, textB: a.value("--pair"), label: nil, task: nil, line: 0) }
        if let input = a.value("--input") {
            rows += try InputReader.read(path: input, format: try InputReader.format(for: input, override: a.value("--format")))
        }
        if rows.isEmpty { throw UsageError(message: "no input: give <text> arguments or --input <file>", command: spec.name) }

        let bases = BaseCache()
        let tasks = try taskPaths.map {
            try LoadedTask.load(path: $0, baseOverride: a.value("--base"), threads: threads, verify: !a.flag("--no-verify"),
                                bases: bases)
        }
        let assignment = try assign(rows, to: taskPaths, input: a.value("--input") ?? "<command line>")
        let maxPosition = tasks.map(\.metadata.maxPosition).min() ?? 2
        let maxLength = try a.int("--max-length", in: 2...max(2, maxPosition), command: spec.name)

        var lines = [String](repeating: "", count: rows.count)
        for (t, task) in tasks.enumerated() {
            let indices = rows.indices.filter { assignment[$0] == t }
            let formatter = ResultFormatter(metadata: task.metadata, pooling: pooling)
            let length = maxLength ?? task.metadata.maxPosition
            for start in stride(from: 0, to: indices.count, by: batchSize) {
                let chunk = indices[start..<min(start + batchSize, indices.count)]
                let encodings = chunk.map { task.tokenizer.encode(rows[$0].text, pair: rows[$0].textB, maxLength: length) }
                let batch = Batch(rows: encodings.map { ($0.ids, $0.typeIds) }, padId: task.tokenizer.padId)
                let outputs = try task.engine.run(batch)
                for (b, row) in chunk.enumerated() { lines[row] = try formatter.line(outputs, row: b) + "\n" }
            }
        }
        let sink = try OutputSink(path: a.value("--output"))
        for line in lines { try sink.write(line) }
        try sink.finish()
    }

    /// The task index of every row. With one task every row runs it; with several, each row must
    /// name its task (`task` column or key) by the artifact's file name, with or without `.bin`.
    static func assign(_ rows: [InputRow], to taskPaths: [String], input: String) throws -> [Int] {
        if taskPaths.count == 1 { return [Int](repeating: 0, count: rows.count) }
        var byName: [String: Int] = [:]
        for (i, p) in taskPaths.enumerated() {
            let file = (p as NSString).lastPathComponent
            for name in [p, file, (file as NSString).deletingPathExtension] where byName[name] == nil { byName[name] = i }
        }
        return try rows.map { row in
            guard let t = row.task else {
                throw BertError(input, "\(row.line > 0 ? "line \(row.line)" : "a command-line text") names no task; "
                                + "with several artifacts every input needs a 'task' column or key")
            }
            guard let i = byName[t] else {
                throw BertError(input, "line \(row.line): unknown task '\(t)' (tasks: "
                                + taskPaths.map { (($0 as NSString).lastPathComponent as NSString).deletingPathExtension }
                                    .joined(separator: ", ") + ")")
            }
            return i
        }
    }
}
