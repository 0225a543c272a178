/// The side files of a model folder besides config.json and the weights: tokenizer_config.json
/// (or tokenizer.json's BertNormalizer when that is absent), sentence-transformers' modules.json
/// and 1_Pooling/config.json, and vocab.txt.
import BertIR
import Foundation

/// Tokenizer settings as transformers' BertTokenizer reads them.
public struct TokenizerSettings: Hashable, Sendable {
    public var doLowerCase = true
    /// nil: follow doLowerCase.
    public var stripAccents: Bool? = nil
    public var tokenizeChineseChars = true
    public init() {}
}

/// Sentence-transformers pipeline settings.
public struct SentencePipeline: Hashable, Sendable {
    /// "mean" or "cls"; nil when the folder is not a sentence-transformers model.
    public var pooling: String? = nil
    public var normalize = false
    public init() {}
}

public enum SideFiles {
    static func join(_ dir: String, _ name: String) -> String {
        dir.isEmpty ? name : (dir as NSString).appendingPathComponent(name)
    }

    /// tokenizer_config.json in `dir`; when absent, tokenizer.json's BertNormalizer; else defaults.
    public static func tokenizerSettings(dir: String) throws -> TokenizerSettings {
        var s = TokenizerSettings()
        let cfg = join(dir, "tokenizer_config.json")
        if FileManager.default.fileExists(atPath: cfg) {
            let j = try JSONFile(path: cfg)
            if let v = try j.bool("do_lower_case") { s.doLowerCase = v }
            if let v = try j.bool("strip_accents") { s.stripAccents = v }
            if let v = try j.bool("tokenize_chinese_chars") { s.tokenizeChineseChars = v }
            return s
        }
        let tok = join(dir, "tokenizer.json")
        if FileManager.default.fileExists(atPath: tok) {
            let j = try JSONFile(path: tok)
            if let n = j.object["normalizer"] as? [String: Any], (n["type"] as? String) == "BertNormalizer" {
                let nj = JSONFile(path: tok, object: n)
                if let v = try nj.bool("lowercase") { s.doLowerCase = v }
                if let v = try nj.bool("strip_accents") { s.stripAccents = v }
                if let v = try nj.bool("handle_chinese_chars") { s.tokenizeChineseChars = v }
            }
        }
        return s
    }

    /// modules.json and the pooling config it names (default `1_Pooling`) in `dir`.
    public static func sentencePipeline(dir: String) throws -> SentencePipeline {
        var p = SentencePipeline()
        let modulesPath = join(dir, "modules.json")
        var poolingDir: String? = nil
        if FileManager.default.fileExists(atPath: modulesPath) {
            guard let list = try JSONFile.read(path: modulesPath) as? [Any] else { throw BertError(modulesPath, "not a JSON list") }
            for item in list {
                guard let m = item as? [String: Any], let type = m["type"] as? String else {
                    throw BertError(modulesPath, "module entry without a type")
                }
                let kind = type.split(separator: ".").last.map(String.init) ?? type
                switch kind {
                case "Transformer": break
                case "Pooling":
                    let sub = (m["path"] as? String) ?? "1_Pooling"
                    guard !sub.contains(".."), !sub.hasPrefix("/") else {
                        throw BertError(modulesPath, "Pooling path '\(sub)' leaves the model folder")
                    }
                    poolingDir = sub
                case "Normalize": p.normalize = true
                default:
                    throw BertError(modulesPath, "unsupported sentence-transformers module type '\(type)'")
                }
            }
        } else if FileManager.default.fileExists(atPath: join(join(dir, "1_Pooling"), "config.json")) {
            poolingDir = "1_Pooling"
        }
        if let sub = poolingDir {
            p.pooling = try poolingMode(path: join(join(dir, sub), "config.json"))
        }
        return p
    }

    /// "mean" or "cls" from a sentence-transformers Pooling config; other modes are refused.
    public static func poolingMode(path: String) throws -> String {
        let j = try JSONFile(path: path)
        var modes: [String] = []
        if let m = try j.string("pooling_mode") {
            // Newer sentence-transformers spell the mode directly.
            modes.append(m)
        }
        let flags: [(String, String)] = [
            ("pooling_mode_cls_token", "cls"), ("pooling_mode_mean_tokens", "mean"),
            ("pooling_mode_max_tokens", "max"), ("pooling_mode_mean_sqrt_len_tokens", "mean_sqrt_len_tokens"),
            ("pooling_mode_weightedmean_tokens", "weightedmean"), ("pooling_mode_lasttoken", "lasttoken"),
        ]
        for (key, name) in flags where try j.bool(key) == true {
            if !modes.contains(name) { modes.append(name) }
        }
        for (key, _) in flags.dropFirst(2) where try j.bool(key) == true {
            throw BertError(path, "unsupported pooling \(key) (only cls or mean tokens)")
        }
        guard modes.count == 1, modes[0] == "cls" || modes[0] == "mean" else {
            if modes.isEmpty { throw BertError(path, "no pooling mode is enabled") }
            throw BertError(path, "unsupported pooling mode '\(modes.joined(separator: "+"))' (only cls or mean)")
        }
        return modes[0]
    }

    /// vocab.txt: one token per line (a trailing newline ends the last line; `\r` is stripped).
    /// More than `maxTokens` lines is an error, found before any token string is made.
    public static func vocab(path: String, maxTokens: Int = Int.max) throws -> [String] {
        guard FileManager.default.fileExists(atPath: path) else { throw BertError(path, "vocabulary file is missing") }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw BertError(path, "cannot read file")
        }
        var newlines = 0
        data.withUnsafeBytes { b in for x in b where x == 0x0A { newlines += 1 } }
        let lineCount = newlines + (data.last == 0x0A || data.isEmpty ? 0 : 1)
        guard lineCount <= maxTokens else {
            throw BertError(path, "\(lineCount) tokens exceed vocab_size \(maxTokens) of the config")
        }
        // Split on the byte 0x0A (Swift treats "\r\n" as one Character), then drop trailing CRs.
        var lines: [String] = []
        lines.reserveCapacity(lineCount)
        for var bytes in data.split(separator: 0x0A, omittingEmptySubsequences: false) {
            while bytes.last == 0x0D { bytes = bytes.dropLast() }
            guard let s = String(bytes: bytes, encoding: .utf8) else {
                throw BertError(path, "line \(lines.count + 1) is not valid UTF-8")
            }
            lines.append(s)
        }
        if lines.last == "" { lines.removeLast() }
        guard !lines.isEmpty else { throw BertError(path, "vocabulary is empty") }
        return lines
    }
}
