/// Sharded safetensors checkpoints: `model.safetensors.index.json` maps each tensor name to a shard
/// file beside it (`{"weight_map": {name: "model-00001-of-00002.safetensors"}}`). Every shard is
/// read; a listed tensor missing from its shard, or a missing shard, is an error naming the file.
import BertIR
import Foundation

public struct ShardedSafetensorsSource: WeightSource {
    public let path: String
    public var format: String { "safetensors" }
    public init(path: String) { self.path = path }

    public func readTensors() throws -> RawTensors {
        try ShardIndex.read(path: path, format: format) { try SafetensorsSource(path: $0).readTensors() }
    }
}
