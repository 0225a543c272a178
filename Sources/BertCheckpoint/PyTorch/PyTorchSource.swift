/// The PyTorch weight sources: one `pytorch_model.bin` (a torch.save zip archive) and the sharded
/// `pytorch_model.bin.index.json` whose `weight_map` names a .bin shard beside it for each tensor.
import BertIR
import Foundation

/// Reads one torch.save zip archive (`pytorch_model.bin`, `.pt`, `.pth`).
public struct PyTorchSource: WeightSource {
    public let path: String
    public var format: String { "pytorch" }
    public init(path: String) { self.path = path }

    public func readTensors() throws -> RawTensors { try TorchCheckpoint.read(path: path) }
}

/// Reads a sharded PyTorch checkpoint from its index (`pytorch_model.bin.index.json`).
public struct ShardedPyTorchSource: WeightSource {
    public let path: String
    public var format: String { "pytorch" }
    public init(path: String) { self.path = path }

    public func readTensors() throws -> RawTensors {
        guard let root = try JSONFile.read(path: path) as? [String: Any], let map = root["weight_map"] as? [String: Any] else {
            throw BertError(path, "missing weight_map object")
        }
        var byShard: [String: [String]] = [:]
        for (name, v) in map {
            guard let shard = v as? String, !shard.isEmpty else {
                throw BertError(path, "weight_map entry '\(name)' is not a file name")
            }
            guard !shard.contains("/"), !shard.contains("\\"), shard != ".", shard != ".." else {
                throw BertError(path, "weight_map entry '\(name)' names shard '\(shard)' outside the model folder")
            }
            byShard[shard, default: []].append(name)
        }
        guard !byShard.isEmpty else { throw BertError(path, "weight_map is empty") }
        let dir = (path as NSString).deletingLastPathComponent
        var out = RawTensors(format: format)
        for shard in byShard.keys.sorted() {
            let shardPath = dir.isEmpty ? shard : (dir as NSString).appendingPathComponent(shard)
            guard FileManager.default.fileExists(atPath: shardPath) else {
                throw BertError(shardPath, "shard listed in \((path as NSString).lastPathComponent) is missing")
            }
            let part = try TorchCheckpoint.read(path: shardPath)
            for name in byShard[shard, default: []].sorted()
            where part.tensors[name] == nil && part.skipped[name] == nil {
                throw BertError(shardPath, "tensor '\(name)' listed in \((path as NSString).lastPathComponent) is missing")
            }
            try out.merge(part, file: shardPath)
        }
        return out
    }
}
