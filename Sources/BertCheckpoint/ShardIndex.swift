/// Sharded checkpoints (`model.safetensors.index.json`, `pytorch_model.bin.index.json`): the index's
/// `weight_map` names, for each tensor, a shard file beside it. Every shard is read with the
/// format's own reader; a listed tensor missing from its shard, or a missing shard, is an error
/// naming the file.
import BertIR
import Foundation

enum ShardIndex {
    /// Reads every shard listed in the index at `path` with `readShard` and merges their tensors.
    static func read(path: String, format: String, readShard: (String) throws -> RawTensors) throws -> RawTensors {
        guard let root = try JSONFile.read(path: path) as? [String: Any], let map = root["weight_map"] as? [String: Any] else {
            throw BertError(path, "missing weight_map object")
        }
        var byShard: [String: [String]] = [:]
        for (name, v) in map {
            guard let shard = v as? String, !shard.isEmpty else {
                throw BertError(path, "weight_map entry '\(name)' is not a file name")
            }
            // Shards live beside the index: refuse paths that leave the folder.
            guard !shard.contains("/"), !shard.contains("\\"), shard != ".", shard != ".." else {
                throw BertError(path, "weight_map entry '\(name)' names shard '\(shard)' outside the model folder")
            }
            byShard[shard, default: []].append(name)
        }
        guard !byShard.isEmpty else { throw BertError(path, "weight_map is empty") }
        let dir = (path as NSString).deletingLastPathComponent
        let indexName = (path as NSString).lastPathComponent
        var out = RawTensors(format: format)
        for shard in byShard.keys.sorted() {
            let shardPath = dir.isEmpty ? shard : (dir as NSString).appendingPathComponent(shard)
            guard FileManager.default.fileExists(atPath: shardPath) else {
                throw BertError(shardPath, "shard listed in \(indexName) is missing")
            }
            let part = try readShard(shardPath)
            for name in byShard[shard, default: []].sorted()
            where part.tensors[name] == nil && part.skipped[name] == nil {
                throw BertError(shardPath, "tensor '\(name)' listed in \(indexName) is missing")
            }
            try out.merge(part, file: shardPath)
        }
        return out
    }
}
