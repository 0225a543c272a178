/// Small helpers for the JSON side files of a model folder (config.json, tokenizer_config.json,
/// sentence-transformers' modules.json and 1_Pooling/config.json): read an object, read typed fields.
import BertIR
import Foundation

/// A parsed JSON object together with the file it came from, for one-line errors.
struct JSONFile {
    let path: String
    let object: [String: Any]

    /// Reads and parses any JSON value from `path`; errors name the file.
    static func read(path: String) throws -> Any {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw BertError(path, "cannot read file")
        }
        do { return try JSONSerialization.jsonObject(with: data) } catch {
            throw BertError(path, "not valid JSON")
        }
    }

    /// Reads `path` as a JSON object; errors name the file.
    init(path: String) throws {
        guard let obj = try JSONFile.read(path: path) as? [String: Any] else { throw BertError(path, "not a JSON object") }
        self.path = path
        self.object = obj
    }

    init(path: String, object: [String: Any]) { self.path = path; self.object = object }

    /// True when the key is absent or JSON null.
    func isAbsent(_ key: String) -> Bool { object[key] == nil || object[key] is NSNull }

    func string(_ key: String) throws -> String? {
        if isAbsent(key) { return nil }
        guard let s = object[key] as? String else { throw BertError(path, "\(key) is not a string") }
        return s
    }

    func bool(_ key: String) throws -> Bool? {
        if isAbsent(key) { return nil }
        if let b = object[key] as? Bool { return b }
        throw BertError(path, "\(key) is not a boolean")
    }

    /// An integer in `range`; errors name the field.
    func int(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        if isAbsent(key) { return nil }
        guard let n = object[key] as? NSNumber, n.doubleValue.isFinite, n.doubleValue == n.doubleValue.rounded(),
              let v = Int(exactly: n.doubleValue) else {
            throw BertError(path, "\(key) is not an integer")
        }
        guard range.contains(v) else {
            throw BertError(path, "\(key) \(v) is out of range \(range.lowerBound)...\(range.upperBound)")
        }
        return v
    }

    func double(_ key: String) throws -> Double? {
        if isAbsent(key) { return nil }
        guard let n = object[key] as? NSNumber, n.doubleValue.isFinite else {
            throw BertError(path, "\(key) is not a number")
        }
        return n.doubleValue
    }
}
