/// Finding a TensorFlow checkpoint from what the user typed: the prefix (`model.ckpt`, whose
/// `model.ckpt.index` exists), the `.index` file, a `.data-NNNNN-of-NNNNN` shard, or a folder
/// holding a `checkpoint` state file (text proto `model_checkpoint_path: "model.ckpt-123"`, a path
/// relative to the folder or absolute) and no Hugging Face weight file. Anything else is not a TF
/// checkpoint (nil).
import BertIR
import Foundation

public struct TFCheckpointPaths: Hashable, Sendable {
    /// `PREFIX.index`.
    public var indexPath: String
    /// The folder the side files (bert_config.json, vocab.txt) are looked up in.
    public var directory: String
}

public enum TFCheckpointLocator {
    /// The side-file config name Google's checkpoints ship.
    public static let configName = "bert_config.json"

    /// The checkpoint `path` names, or nil when it is not a TensorFlow checkpoint.
    public static func locate(_ path: String) throws -> TFCheckpointPaths? {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        let exists = fm.fileExists(atPath: path, isDirectory: &isDir)
        if exists && isDir.boolValue {
            let state = SideFiles.join(path, "checkpoint")
            guard fm.fileExists(atPath: state) else { return nil }
            // A Hugging Face weight file in the folder takes precedence.
            for name in WeightSources.folderCandidates where fm.fileExists(atPath: SideFiles.join(path, name)) { return nil }
            let prefix = try modelCheckpointPath(stateFile: state)
            let full = prefix.hasPrefix("/") ? prefix : SideFiles.join(path, prefix)
            let index = full + ".index"
            guard fm.fileExists(atPath: index) else {
                throw BertError(state, "model_checkpoint_path '\(prefix)' names a checkpoint whose \((index as NSString).lastPathComponent) is missing")
            }
            return TFCheckpointPaths(indexPath: index, directory: path)
        }
        var prefix: String? = nil
        if exists && path.hasSuffix(".index") {
            prefix = String(path.dropLast(6))
        } else if exists, let r = path.range(of: ".data-", options: .backwards), isShardSuffix(path[r.upperBound...]) {
            prefix = String(path[..<r.lowerBound])
        } else if !exists && fm.fileExists(atPath: path + ".index") {
            prefix = path
        }
        guard let p = prefix else { return nil }
        return TFCheckpointPaths(indexPath: p + ".index", directory: directory(of: p))
    }

    /// The folder part of a path ("" for a bare name). Not NSString's, which traps on some short names.
    static func directory(of p: String) -> String {
        guard let slash = p.lastIndex(of: "/") else { return "" }
        return slash == p.startIndex ? "/" : String(p[..<slash])
    }

    /// "NNNNN-of-NNNNN".
    static func isShardSuffix(_ s: Substring) -> Bool {
        let parts = s.components(separatedBy: "-of-")
        return parts.count == 2 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }
    }

    /// `model_checkpoint_path` from a `checkpoint` state file (a CheckpointState text proto).
    public static func modelCheckpointPath(stateFile: String) throws -> String {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: stateFile)) } catch {
            throw BertError(stateFile, "cannot read file")
        }
        guard data.count <= 1 << 24 else { throw BertError(stateFile, "checkpoint state file is too large") }
        guard let text = String(data: data, encoding: .utf8) else { throw BertError(stateFile, "not valid UTF-8") }
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let t = line.trimmingCharacters(in: .whitespaces)
            guard t.hasPrefix("model_checkpoint_path") else { continue }
            var rest = t.dropFirst("model_checkpoint_path".count).drop { $0 == " " || $0 == "\t" }
            guard rest.first == ":" else { continue }
            rest = rest.dropFirst().drop { $0 == " " || $0 == "\t" }
            guard let value = unquote(rest), !value.isEmpty else {
                throw BertError(stateFile, "model_checkpoint_path is not a quoted string")
            }
            return value
        }
        throw BertError(stateFile, "no model_checkpoint_path")
    }

    /// A text-proto string literal ("..." or '...', C escapes incl. octal), or nil if malformed.
    static func unquote(_ s: Substring) -> String? {
        guard let q = s.first, q == "\"" || q == "'" else { return nil }
        var bytes: [UInt8] = []
        var it = Array(s.utf8).dropFirst()[...]
        while let c = it.popFirst() {
            if c == q.asciiValue! {
                guard it.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) else { return nil }
                return String(bytes: bytes, encoding: .utf8)
            }
            guard c == 0x5C else { bytes.append(c); continue }
            guard let e = it.popFirst() else { return nil }
            switch e {
            case UInt8(ascii: "n"): bytes.append(0x0A)
            case UInt8(ascii: "t"): bytes.append(0x09)
            case UInt8(ascii: "r"): bytes.append(0x0D)
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                var v = Int(e - 0x30)
                for _ in 0..<2 {
                    guard let d = it.first, d >= 0x30, d <= 0x37 else { break }
                    v = v * 8 + Int(d - 0x30); it.removeFirst()
                }
                guard v < 256 else { return nil }
                bytes.append(UInt8(v))
            default: bytes.append(e)
            }
        }
        return nil
    }
}
