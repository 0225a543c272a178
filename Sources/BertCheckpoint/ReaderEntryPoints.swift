/// Public entry points into the internal checkpoint readers, for the fuzzers (fuzzing/) and the fuzz
/// regression tests (both reach them through `FuzzEntry` in BertDriver). Each runs one reader to the end
/// and throws what the reader throws; nothing here is used by bertc itself.
import BertIR
import Foundation

public enum ReaderEntryPoints {
    /// Opens a TensorFlow `.index` (SSTable + BundleHeaderProto + BundleEntryProtos) and reads and checks
    /// every entry's bytes in its data shard. Returns the number of entries.
    @discardableResult
    public static func tensorBundle(indexPath: String) throws -> Int {
        let bundle = try TensorBundle(indexPath: indexPath)
        for e in bundle.entries { _ = try bundle.data(of: e) }
        return bundle.entries.count
    }

    /// Decodes `bytes` as a BundleHeaderProto and as a BundleEntryProto (as the index's values are).
    public static func bundleProtos(_ bytes: [UInt8], path: String) throws {
        do {
            _ = try BundleHeader.decode(bytes[...])
        } catch let m as MalformedProto { throw BertError(path, m.message) }
        do {
            _ = try BundleEntry.decode(bytes[...], name: "fuzz")
        } catch let m as MalformedProto { throw BertError(path, m.message) }
    }

    /// Reads every tensor of a torch.save zip archive (zip reader, inflater, unpickler, strided views).
    public static func torchArchive(path: String) throws -> RawTensors {
        try TorchCheckpoint.read(path: path)
    }

    /// Unpickles `bytes` as a state dict (the archive's data.pkl) and returns how many tensors it names.
    @discardableResult
    public static func unpickleStateDict(_ bytes: UnsafeRawBufferPointer, path: String) throws -> Int {
        var u = Unpickler(bytes, file: path, what: "data.pkl")
        return try u.stateDict().count
    }

    /// Inflates `bytes` as a raw deflate stream of at most `limit` bytes.
    public static func inflate(_ bytes: UnsafeRawBufferPointer, limit: Int, path: String) throws -> [UInt8] {
        try Inflate.inflate(bytes, limit: limit, file: path, what: "stream")
    }
}
