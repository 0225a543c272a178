/// The weight-source abstraction: every checkpoint format (safetensors today; TensorFlow and
/// PyTorch checkpoints later) reads its file(s) into a `RawTensors` set of float32 buffers keyed
/// by the names stored in the file. `WeightSources.source(for:)` picks a reader by file kind.
import BertIR
import Foundation

/// The tensors one weight source yields, under the names stored in the file(s).
public struct RawTensors: @unchecked Sendable {
    /// Float tensors (F32/F16/BF16 in the file), widened to float32.
    public var tensors: [String: TensorBuffer] = [:]
    /// Tensors skipped because bertc does not import their element type: name -> dtype.
    public var skipped: [String: String] = [:]
    /// Integer/bool tensors whose names look like masks (`MaskTensors.looksLikeMask`), for `MaskTensors.apply`.
    public var integerMasks: [String: IntegerMask] = [:]
    /// The file each tensor came from (for error messages).
    public var origin: [String: String] = [:]
    /// Total bytes of the weight files read.
    public var sourceBytes: Int = 0
    /// `ModelMetadata.sourceFormat`: "safetensors", later "tf-checkpoint", "pytorch".
    public var format: String

    public init(format: String) { self.format = format }

    /// Adds the tensors of `other`; a name present in both is an error naming `file`.
    public mutating func merge(_ other: RawTensors, file: String) throws {
        for (name, buffer) in other.tensors {
            if tensors[name] != nil {
                throw BertError(file, "tensor '\(name)' appears in more than one weight file")
            }
            tensors[name] = buffer
            origin[name] = other.origin[name] ?? file
        }
        for (name, mask) in other.integerMasks {
            if integerMasks[name] != nil || tensors[name] != nil {
                throw BertError(file, "tensor '\(name)' appears in more than one weight file")
            }
            integerMasks[name] = mask
            origin[name] = other.origin[name] ?? file
        }
        skipped.merge(other.skipped) { a, _ in a }
        sourceBytes += other.sourceBytes
    }
}

/// A reader for one checkpoint format.
public protocol WeightSource {
    /// The file the source reads (the index file for sharded checkpoints).
    var path: String { get }
    /// `ModelMetadata.sourceFormat` of this source.
    var format: String { get }
    /// Reads every tensor, validating all offsets and sizes against the files.
    func readTensors() throws -> RawTensors
}

/// Chooses a `WeightSource` by file kind.
public enum WeightSources {
    /// The weight files looked for in a model folder, in order of preference.
    public static let folderCandidates = ["model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json"]

    /// The reader for a weight file, by its name; nil for kinds not supported.
    public static func source(for path: String) -> WeightSource? {
        if path.hasSuffix(".safetensors.index.json") { return ShardedSafetensorsSource(path: path) }
        if path.hasSuffix(".safetensors") { return SafetensorsSource(path: path) }
        if path.hasSuffix(".bin.index.json") { return ShardedPyTorchSource(path: path) }
        if path.hasSuffix(".bin") || path.hasSuffix(".pt") || path.hasSuffix(".pth") { return PyTorchSource(path: path) }
        if path.hasSuffix(".index") { return TFCheckpointSource(path: path) }
        return nil
    }

    /// The weight file inside a model folder, or an error naming the folder.
    public static func weightFile(inFolder dir: String) throws -> String {
        for name in folderCandidates {
            let p = (dir as NSString).appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: p) { return p }
        }
        throw BertError(dir, "no model.safetensors, model.safetensors.index.json, pytorch_model.bin or pytorch_model.bin.index.json")
    }
}
