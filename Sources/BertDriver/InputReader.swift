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

/// Reads bertrun's input files: TSV with a header row naming `text` (and optionally `text_b`,
/// `label`), or JSON Lines with those keys. Errors carry the file and line number.
enum InputReader {
    enum Format: String { case tsv, jsonl }

    static func format(for path: String, override: String?) throws -> Format {
        if let override {
            guard let f = Format(rawValue: override) else { throw BertError(path, "unknown --format '\(override)' (tsv or jsonl)") }
            return f
        }
        if path.hasSuffix(".tsv") { return .tsv }
        if path.hasSuffix(".jsonl") || path.hasSuffix(".json") { return .jsonl }
        throw BertError(path, "cannot tell the input format from the extension; use .tsv or .jsonl, or --format")
    }

    static func read(path: String, format: Format) throws -> [InputRow] {
        let data: Data
        if path == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let d = FileManager.default.contents(atPath: path) else { throw BertError(path, "cannot read file") }
            data = d
        }
        guard let text = String(data: data, encoding: .utf8) else { throw BertError(path, "not valid UTF-8") }
        var lines = text.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        lines = lines.map { $0.hasSuffix("\r") ? String($0.dropLast()) : $0 }
        switch format {
        case .tsv: return try readTSV(lines, path: path)
        case .jsonl: return try readJSONL(lines, path: path)
        }
    }

    static func readTSV(_ lines: [String], path: String) throws -> [InputRow] {
        guard let header = lines.first else { throw BertError(path, "empty file: expected a header row naming a 'text' column") }
        let cols = header.components(separatedBy: "\t")
        guard let ti = cols.firstIndex(of: "text") else {
            throw BertError(path, "line 1: header has no 'text' column (columns: \(cols.joined(separator: ", ")))")
        }
        let bi = cols.firstIndex(of: "text_b"), li = cols.firstIndex(of: "label"), ki = cols.firstIndex(of: "task")
        var rows: [InputRow] = []
        for (n, line) in lines.enumerated().dropFirst() {
            if line.isEmpty { continue }
            let f = line.components(separatedBy: "\t")
            guard f.count == cols.count else {
                throw BertError(path, "line \(n + 1): \(f.count) fields, header has \(cols.count)")
            }
            rows.append(InputRow(text: f[ti], textB: bi.map { f[$0] }, label: li.map { f[$0] }, task: ki.map { f[$0] },
                                 line: n + 1))
        }
        return rows
    }

    static func readJSONL(_ lines: [String], path: String) throws -> [InputRow] {
        var rows: [InputRow] = []
        for (n, line) in lines.enumerated() {
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw BertError(path, "line \(n + 1): not a JSON object")
            }
            guard let text = obj["text"] as? String else { throw BertError(path, "line \(n + 1): missing string key 'text'") }
            var textB: String?
            if let b = obj["text_b"], !(b is NSNull) {
                guard let s = b as? String else { throw BertError(path, "line \(n + 1): 'text_b' is not a string") }
                textB = s
            }
            var label: String?
            if let l = obj["label"], !(l is NSNull) { label = "\(l)" }
            var task: String?
            if let t = obj["task"], !(t is NSNull) {
                guard let s = t as? String else { throw BertError(path, "line \(n + 1): 'task' is not a string") }
                task = s
            }
            rows.append(InputRow(text: text, textB: textB, label: label, task: task, line: n + 1))
        }
        return rows
    }
}
