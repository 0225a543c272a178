/// `bertrun bench <task.bin>`: latency, throughput and GFLOP/s of `Engine.run` on synthetic batches,
/// for every (batch, seq, threads) combination, with the kernel ISA, start-up time and peak RSS.
import BertIR
import BertRuntime
import CBertKernels
import Foundation

enum BenchCommand {
    static let spec = CommandSpec(
        name: "bertrun bench",
        abstract: "Time a compiled bertc artifact on synthetic inputs.",
        usage: "bertrun bench <task.bin> [--base <base>] [--batch 1,8] [--seq 128,32] [--threads 1,2] "
            + "[--warmup <n>] [--runs <n>] [--json <file>]",
        options: [
            OptionSpec(["--base"], value: "base", help: "Base model to use instead of the path recorded at compile time."),
            OptionSpec(["--batch"], value: "list", help: "Batch sizes, comma-separated (default 1,8)."),
            OptionSpec(["--seq"], value: "list", help: "Sequence lengths in tokens, comma-separated (default 128,32)."),
            OptionSpec(["--threads"], value: "list", help: "Worker thread counts, comma-separated (default 1,2)."),
            OptionSpec(["--warmup"], value: "n", help: "Untimed runs before timing each combination (default 2)."),
            OptionSpec(["--runs"], value: "n", help: "Timed runs per combination (default 10)."),
            OptionSpec(["--json"], value: "file", help: "Also write the results as JSON to this file."),
            OptionSpec(["--no-verify"], help: "Skip the artifact's section checksums."),
        ],
        discussion: """
        Each combination runs Engine.run on a batch of exactly <seq> tokens per row ([CLS], random ids
        from 1000..vocab-1, [SEP]); tokenizing is not timed. GFLOP/s counts 2*M*K*N per linear at the
        IR's dense shape (also for CSR or masked weights: sparse models show dense-equivalent GFLOP/s)
        plus 4*B*S*S*H per attention. startup = artifact load to a ready engine for that thread count;
        peak RSS = the process's VmHWM (Linux; else ru_maxrss) after the combination.
        """)

    struct Row {
        var batch: Int, seq: Int, threads: Int
        var medianMs: Double, p90Ms: Double, throughput: Double, gflops: Double
        var startupMs: Double, peakRSS: Int
    }

    static func run(_ args: [String]) throws {
        let a = try spec.parse(args)
        guard let path = a.positionals.first else { throw UsageError(message: "missing <task.bin>", command: spec.name) }
        guard a.positionals.count == 1 else {
            throw UsageError(message: "unexpected argument '\(a.positionals[1])'", command: spec.name)
        }
        let batches = try list(a, "--batch", default: [1, 8], range: 1...4096)
        let seqs = try list(a, "--seq", default: [128, 32], range: 2...65536)
        let threadCounts = try list(a, "--threads", default: [1, 2], range: 1...256)
        let warmup = try a.int("--warmup", in: 0...100_000, command: spec.name) ?? 2
        let runs = try a.int("--runs", in: 1...100_000, command: spec.name) ?? 10
        let isa = String(cString: bk_isa_name(bk_isa_current()))

        var rows: [Row] = []
        var header = false
        for threads in threadCounts {
            let t0 = BenchStats.now()
            let task = try LoadedTask.load(path: path, baseOverride: a.value("--base"), threads: threads,
                                           verify: !a.flag("--no-verify"))
            let startup = BenchStats.now() - t0
            let maxPosition = task.metadata.maxPosition
            if let longest = seqs.max(), longest > maxPosition {
                throw UsageError(message: "--seq \(longest) exceeds the model's \(maxPosition) positions", command: spec.name)
            }
            if !header {
                Console.out("# \(path): isa \(isa); GFLOP/s at dense-equivalent FLOPs (2*M*K*N per linear at the IR shape, "
                            + "+4*B*S*S*H per attention); \(warmup) warm-up + \(runs) timed runs\n")
                Console.out(pad(["batch", "seq", "threads", "median_ms", "p90_ms", "seq/s", "GFLOP/s", "isa", "startup_ms", "peak_rss_MB"]) + "\n")
                header = true
            }
            for batch in batches {
                for seq in seqs {
                    let input = BenchInputs.batch(tokenizer: task.tokenizer, batch: batch, seq: seq)
                    for _ in 0..<warmup { _ = try task.engine.run(input) }
                    var samples: [Double] = []
                    samples.reserveCapacity(runs)
                    for _ in 0..<runs {
                        let s = BenchStats.now()
                        _ = try task.engine.run(input)
                        samples.append(BenchStats.now() - s)
                    }
                    let median = BenchStats.median(samples)
                    let flops = GraphFlops.count(task.engine.module, batch: batch, seq: seq)
                    let row = Row(batch: batch, seq: seq, threads: threads, medianMs: median * 1e3,
                                  p90Ms: BenchStats.percentile(samples, 90) * 1e3,
                                  throughput: median > 0 ? Double(batch) / median : 0,
                                  gflops: median > 0 ? flops / median / 1e9 : 0,
                                  startupMs: startup * 1e3, peakRSS: BenchStats.peakRSSBytes())
                    rows.append(row)
                    Console.out(pad([String(batch), String(seq), String(threads), fmt(row.medianMs, 3), fmt(row.p90Ms, 3),
                                     fmt(row.throughput, 1), fmt(row.gflops, 1), isa, fmt(row.startupMs, 1),
                                     fmt(Double(row.peakRSS) / 1_048_576, 1)]) + "\n")
                }
            }
        }
        if let jsonPath = a.value("--json") {
            let text = json(path: path, isa: isa, warmup: warmup, runs: runs, rows: rows)
            do { try text.write(toFile: jsonPath, atomically: true, encoding: .utf8) } catch {
                throw BertError(jsonPath, "cannot write benchmark results")
            }
        }
    }

    /// A comma-separated list of integers within `range`, or a usage error naming the option.
    static func list(_ a: ParsedArguments, _ key: String, default d: [Int], range: ClosedRange<Int>) throws -> [Int] {
        guard let s = a.value(key) else { return d }
        let parts = s.split(separator: ",", omittingEmptySubsequences: false)
        var out: [Int] = []
        for p in parts {
            guard let v = Int(p.trimmingCharacters(in: .whitespaces)), range.contains(v) else {
                throw UsageError(message: "\(key) expects comma-separated integers in \(range.lowerBound)...\(range.upperBound), got '\(s)'",
                                 command: spec.name)
            }
            out.append(v)
        }
        return out
    }

    static func fmt(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }

    static func pad(_ cols: [String]) -> String {
        cols.map { $0.count >= 11 ? $0 + " " : String(repeating: " ", count: 11 - $0.count) + $0 + " " }.joined()
    }

    static func json(path: String, isa: String, warmup: Int, runs: Int, rows: [Row]) -> String {
        let items = rows.map { r in
            "{\"batch\":\(r.batch),\"seq\":\(r.seq),\"threads\":\(r.threads),\"median_ms\":\(r.medianMs),"
                + "\"p90_ms\":\(r.p90Ms),\"throughput_seq_per_s\":\(r.throughput),\"gflops\":\(r.gflops),"
                + "\"isa\":\(JSONText.string(isa)),\"startup_ms\":\(r.startupMs),\"peak_rss_bytes\":\(r.peakRSS)}"
        }
        return "{\"artifact\":\(JSONText.string(path)),\"isa\":\(JSONText.string(isa)),\"warmup\":\(warmup),\"runs\":\(runs),"
            + "\"flops\":\"dense-equivalent: 2*M*K*N per linear at the IR shape + 4*B*S*S*H per attention\","
            + "\"results\":[" + items.joined(separator: ",") + "]}\n"
    }
}
