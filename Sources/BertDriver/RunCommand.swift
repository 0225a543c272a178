import BertArtifact
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
            OptionSpec(["--skip-bad-lines"], help: "Leave out input lines that cannot be used (each reported on stderr) instead of stopping."),
            OptionSpec(["--verify"], help: "Only check the artifacts (header, checksums, tensors, IR, base) and report."),
            OptionSpec(["--eval"], help: "Compare predictions with each input's 'label'; print accuracy, F1, MCC, confusion matrix."),
            OptionSpec(["--metrics"], value: "file", help: "Also write the --eval metrics as JSON here (atomically); implies --eval."),
        ],
        discussion: """
        Several artifacts over one base: the base is mapped once; every input names its task in a
        'task' column or key (the artifact's file name, with or without .bin).
        Output: one JSON object per input. A classifier gives {"label", "probs", "logits"}; an encoder
        without a head gives {"embedding"} (pooled, and L2-normalised when the model's
        sentence-transformers config says so).
        Input files: lines are decoded one by one; empty lines are skipped; texts longer than
        --max-length tokens are truncated. A line that is not valid UTF-8 or is longer than 1 MiB, a
        TSV row whose field count differs from the header's, a JSON line that is not an object or has
        no string 'text' (or a non-string 'text_b' or 'task'), or a row naming an unknown task is an
        error 'FILE: line N: fault'. With --skip-bad-lines such lines are left out (no output line),
        each reported as a warning (the first 20), then 'skipped K bad lines'; exit status 0.
        --eval (one classifier artifact): every input needs a label, a label name of the model or a
        class id (0, 1, ...); a missing or unknown label is an error 'FILE: line N: fault' (with
        --skip-bad-lines the row is left out). stdout gets the metrics instead of the JSON lines
        (those still go to --output FILE when given). F1: for two labels the F1 of the second label
        in the model's id2label order (e.g. 'fresh' of rotten/fresh); for more, the macro F1 over the
        labels seen. MCC: Matthews correlation (multi-class form). Confusion matrix rows are true
        labels, columns predicted. Inputs of 64 rows or more show a progress bar with rows/s on
        stderr when stderr is a terminal.
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
        let skipBad = a.flag("--skip-bad-lines")
        var bad: [BadLine] = []
        if let input = a.value("--input") {
            let file = try InputReader.read(path: input, format: try InputReader.format(for: input, override: a.value("--format")),
                                            skipBadLines: skipBad)
            rows += file.rows
            bad = file.bad
        }
        if rows.isEmpty && bad.isEmpty { throw UsageError(message: "no input: give <text> arguments or --input <file>", command: spec.name) }

        let bases = BaseCache()
        let tasks = try taskPaths.map {
            try LoadedTask.load(path: $0, baseOverride: a.value("--base"), threads: threads, verify: !a.flag("--no-verify"),
                                bases: bases)
        }
        let inputName = a.value("--input") ?? "<command line>"
        var evaluation: Evaluation?
        if a.flag("--eval") || a.value("--metrics") != nil {
            guard tasks.count == 1 else { throw UsageError(message: "--eval takes one artifact", command: spec.name) }
            evaluation = try Evaluation.start(metadata: tasks[0].metadata, artifact: taskPaths[0], rows: &rows, input: inputName,
                                              skipBadLines: skipBad, bad: &bad)
        }
        let assignment = try assign(rows, to: taskPaths, input: inputName, skipBadLines: skipBad, bad: &bad)
        BadLines.warn(bad, file: inputName)
        let maxPosition = tasks.map(\.metadata.maxPosition).min() ?? 2
        let maxLength = try a.int("--max-length", in: 2...max(2, maxPosition), command: spec.name)

        var lines = [String](repeating: "", count: rows.count)
        let progress = Progress(total: rows.count)
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
                for (b, row) in chunk.enumerated() { try evaluation?.record(outputs, batchRow: b, inputRow: row) }
                progress?.advance(by: chunk.count)
            }
        }
        progress?.finish()
        if evaluation == nil || a.value("--output") != nil {
            let sink = try OutputSink(path: a.value("--output"))
            for line in lines { try sink.write(line) }
            try sink.finish()
        }
        if let m = evaluation?.metrics {
            if let path = a.value("--metrics") {
                let json = MetricsReport.json(m, task: taskPaths[0], input: inputName)
                try AtomicFile.write(to: path) { out in try out.write(json) }
            }
            Console.out(MetricsReport.text(m, task: taskPaths[0], input: inputName))
        }
        if !bad.isEmpty { Console.err("bertrun: note: skipped \(bad.count) bad line\(bad.count == 1 ? "" : "s")\n") }
    }

    /// The task index of every row. With one task every row runs it; with several, each row must
    /// name its task (`task` column or key) by the artifact's file name, with or without `.bin`.
    /// With `skipBadLines`, input-file rows naming no known task get index -1 and are added to `bad`.
    static func assign(_ rows: [InputRow], to taskPaths: [String], input: String,
                       skipBadLines: Bool = false, bad: inout [BadLine]) throws -> [Int] {
        if taskPaths.count == 1 { return [Int](repeating: 0, count: rows.count) }
        var byName: [String: Int] = [:]
        for (i, p) in taskPaths.enumerated() {
            let file = (p as NSString).lastPathComponent
            for name in [p, file, (file as NSString).deletingPathExtension] where byName[name] == nil { byName[name] = i }
        }
        var out: [Int] = []
        out.reserveCapacity(rows.count)
        for row in rows {
            let fault: String
            if let t = row.task {
                if let i = byName[t] { out.append(i); continue }
                fault = "unknown task '\(t)' (tasks: "
                    + taskPaths.map { (($0 as NSString).lastPathComponent as NSString).deletingPathExtension }
                        .joined(separator: ", ") + ")"
            } else {
                fault = "names no task; with several artifacts every input needs a 'task' column or key"
            }
            guard skipBadLines, row.line > 0 else {
                throw BertError(input, row.line > 0 ? "line \(row.line): \(fault)" : "a command-line text \(fault)")
            }
            bad.append(BadLine(line: row.line, fault: fault))
            out.append(-1)
        }
        bad.sort { $0.line < $1.line }
        return out
    }
}
