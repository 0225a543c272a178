import BertIR
import Foundation

/// One input to classify or embed.
struct InputRow {
    var text: String
    var textB: String?
    var label: String?
    /// The task (artifact) this row is for, when several are served at once.
    var task: String?
    /// 1-based line in the input file (0 for command-line texts).
    var line: Int
}

/// The usable rows of an input file and, with `--skip-bad-lines`, the lines left out.
struct InputFile {
    var rows: [InputRow] = []
    var bad: [BadLine] = []
}

/// Reads bertrun's input files: TSV with a header row naming `text` (and optionally `text_b`,
/// `label`, `task`), or JSON Lines with those keys. The policy (also in `bertrun --help`):
/// - lines are split on LF (a CR before it is dropped) and decoded one by one, so invalid UTF-8
///   is reported with its line number; a UTF-8 byte-order mark at the start is ignored;
/// - empty lines (whitespace-only in JSON Lines) are skipped;
/// - a line longer than `maxLineBytes` (1 MiB), a TSV row whose field count differs from the
///   header's, a JSON line that is not an object, lacks `text`, or has a non-string `text`,
///   `text_b` or `task` is a bad line: an error `FILE: line N: fault`, or with `skipBadLines` left
///   out and listed in `InputFile.bad`;
/// - the header row (TSV) must name a `text` column; a bad header is always an error;
/// - texts are not limited here: the tokenizer truncates each input to --max-length tokens.
enum InputReader {
    enum Format: String { case tsv, jsonl }

    /// Longest accepted input line, in bytes.
    static let maxLineBytes = 1 << 20

    static func format(for path: String, override: String?) throws -> Format {
        if let override {
            guard let f = Format(rawValue: override) else { throw BertError(path, "unknown --format '\(override)' (tsv or jsonl)") }
            return f
        }
        if path.hasSuffix(".tsv") { return .tsv }
        if path.hasSuffix(".jsonl") || path.hasSuffix(".json") { return .jsonl }
        throw BertError(path, "cannot tell the input format from the extension; use .tsv or .jsonl, or --format")
    }

    static func read(path: String, format: Format, skipBadLines: Bool = false) throws -> InputFile {
        let data: Data
        if path == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let d = FileManager.default.contents(atPath: path) else { throw BertError(path, "cannot read file") }
            data = d
        }
        return try parse(data, path: path, format: format, skipBadLines: skipBadLines)
    }

    static func parse(_ data: Data, path: String, format: Format, skipBadLines: Bool) throws -> InputFile {
        var out = InputFile()
        var header: [String]? = nil
        var lineNumber = 0
        var bytes = data[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        var start = bytes.startIndex
        while start < bytes.endIndex {
            let nl = bytes[start...].firstIndex(of: 0x0A) ?? bytes.endIndex
            var raw = bytes[start..<nl]
            start = nl < bytes.endIndex ? nl + 1 : nl
            lineNumber += 1
            if raw.last == 0x0D { raw = raw.dropLast() }
            do {
                guard raw.count <= maxLineBytes else {
                    throw BadLine(line: lineNumber, fault: "line is \(raw.count) bytes long (at most \(maxLineBytes))")
                }
                guard let line = String(bytes: raw, encoding: .utf8) else {
                    throw BadLine(line: lineNumber, fault: "not valid UTF-8")
                }
                switch format {
                case .tsv:
                    if let cols = header {
                        if line.isEmpty { continue }
                        out.rows.append(try tsvRow(line, columns: cols, line: lineNumber))
                    } else {
                        header = try tsvHeader(line, path: path)
                    }
                case .jsonl:
                    if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
                    out.rows.append(try jsonRow(line, line: lineNumber))
                }
            } catch let bad as BadLine {
                // The header row decides what every other line means: a bad one is always fatal.
                if !skipBadLines || (format == .tsv && header == nil) { throw BertError(path, bad.text) }
                out.bad.append(bad)
            }
        }
        if format == .tsv && header == nil {
            throw BertError(path, "empty file: expected a header row naming a 'text' column")
        }
        return out
    }

    static func tsvHeader(_ line: String, path: String) throws -> [String] {
        let cols = line.components(separatedBy: "\t")
        guard cols.contains("text") else {
            throw BertError(path, "line 1: header has no 'text' column (columns: \(cols.joined(separator: ", ")))")
        }
        return cols
    }

    static func tsvRow(_ line: String, columns cols: [String], line n: Int) throws -> InputRow {
        let f = line.components(separatedBy: "\t")
        guard f.count == cols.count else { throw BadLine(line: n, fault: "\(f.count) fields, header has \(cols.count)") }
        func field(_ name: String) -> String? { cols.firstIndex(of: name).map { f[$0] } }
        return InputRow(text: field("text")!, textB: field("text_b"), label: field("label"), task: field("task"), line: n)
    }

    static func jsonRow(_ line: String, line n: Int) throws -> InputRow {
        guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw BadLine(line: n, fault: "not a JSON object")
        }
        func string(_ key: String, required: Bool) throws -> String? {
            guard let v = obj[key], !(v is NSNull) else {
                if required { throw BadLine(line: n, fault: "missing key '\(key)'") }
                return nil
            }
            guard let s = v as? String else { throw BadLine(line: n, fault: "'\(key)' is not a string") }
            return s
        }
        let text = try string("text", required: true)!
        let textB = try string("text_b", required: false)
        let task = try string("task", required: false)
        var label: String?
        if let l = obj["label"], !(l is NSNull) { label = "\(l)" }
        return InputRow(text: text, textB: textB, label: label, task: task, line: n)
    }
}
