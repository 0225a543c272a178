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
        try ShardIndex.read(path: path, format: format) { try TorchCheckpoint.read(path: $0) }
    }
}
