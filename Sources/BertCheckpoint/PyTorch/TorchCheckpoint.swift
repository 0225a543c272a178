/// A `torch.save` zip archive (torch >= 1.6): `<archive>/data.pkl` (the pickled state dict),
/// `<archive>/data/<key>` (one entry per storage), `<archive>/byteorder` ("little" if present) and
/// `<archive>/version`. Tensors are strided views into storages: offsets and strides are honoured
/// (non-contiguous views are copied contiguous), storages shared between tensors are read once,
/// float16/bfloat16 are widened to float32, integer tensors are skipped (mask-named ones kept as
/// `IntegerMask`s).
import BertIR
import CBertKernels
import Foundation

enum TorchCheckpoint {
    /// Reads every tensor of the archive at `path`.
    static func read(path: String) throws -> RawTensors {
        let map = try MappedFile(path: path)
        if map.size >= 2 && map.base.load(fromByteOffset: 0, as: UInt8.self) == 0x80 {
            throw BertError(path, "legacy (torch < 1.6) pickle checkpoint is not supported; re-save it with torch >= 1.6")
        }
        let zip = try ZipArchive(map: map)
        let pickles = zip.entries.filter { e in
            e.name.hasSuffix("/data.pkl") && !e.name.dropLast("/data.pkl".count).contains("/")
        }
        guard pickles.count == 1, let pkl = pickles.first else {
            throw BertError(path, pickles.isEmpty ? "zip archive has no <archive>/data.pkl: not a torch.save checkpoint"
                                                  : "zip archive has \(pickles.count) data.pkl entries")
        }
        let prefix = String(pkl.name.dropLast("data.pkl".count))
        if let bo = zip.entry(prefix + "byteorder") {
            let d = try zip.data(bo)
            guard d.bytes.elementsEqual("little".utf8) else {
                throw BertError(path, "byteorder is '\(String(decoding: d.bytes.prefix(16), as: UTF8.self))', only 'little' is supported")
            }
        }
        let pdata = try zip.data(pkl)
        var unpickler = Unpickler(pdata.bytes, file: path, what: pkl.name)
        let entries = try withExtendedLifetime(pdata.owner) { try unpickler.stateDict() }

        var out = RawTensors(format: "pytorch")
        out.sourceBytes = map.size
        var storages: [String: ZipData] = [:]
        var storageBytes = 0
        var copiedBytes = 0
        for (name, t) in entries {
            guard let dtype = TorchDType(storageType: t.storage.type) else {
                throw BertError(path, "tensor '\(name)': unknown storage type \(t.storage.type)")
            }
            let key = t.storage.key
            let storage: ZipData
            if let s = storages[key] {
                storage = s
            } else {
                guard !key.isEmpty, !key.contains("/"), let e = zip.entry(prefix + "data/" + key) else {
                    throw BertError(path, "tensor '\(name)': storage '\(key)' has no entry \(prefix)data/\(key)")
                }
                let (need, o) = t.storage.numel.multipliedReportingOverflow(by: dtype.size)
                guard !o, need == e.uncompressedSize else {
                    throw BertError(path, "tensor '\(name)': storage '\(key)' of \(t.storage.numel) \(dtype.rawValue) needs \(o ? "too many" : String(need)) bytes but its entry has \(e.uncompressedSize)")
                }
                storage = try zip.data(e)
                storages[key] = storage
                storageBytes += storage.bytes.count
            }
            guard storage.bytes.count == t.storage.numel * dtype.size else {
                throw BertError(path, "tensor '\(name)': storage '\(key)' is used with two different sizes")
            }
            let view = try TorchView(name: name, tensor: t, dtype: dtype, path: path)
            if dtype == .f32 || dtype == .f16 || dtype == .bf16 {
                if dtype == .f32, view.contiguous, view.count > 0,
                   Int(bitPattern: storage.bytes.baseAddress! + view.offset * 4) % 4 == 0 {
                    let p = (storage.bytes.baseAddress! + view.offset * 4).assumingMemoryBound(to: Float.self)
                    out.tensors[name] = TensorBuffer(shape: view.size, pointer: p, owner: storage.owner)
                } else {
                    copiedBytes += view.count * 4
                    guard copiedBytes <= 2 * storageBytes + 65536 else {
                        throw BertError(path, "tensor '\(name)': views of shared storages would copy more than twice the storage bytes")
                    }
                    out.tensors[name] = view.floats(storage.bytes)
                }
                out.origin[name] = path
            } else {
                if dtype.isInteger, MaskTensors.looksLikeMask(name) {
                    out.integerMasks[name] = view.integerMask(storage.bytes)
                    out.origin[name] = path
                }
                out.skipped[name] = dtype.rawValue
            }
        }
        guard !entries.isEmpty else { throw BertError(path, "\(pkl.name): state dict holds no tensors") }
        return out
    }
}

/// A validated strided view: every element it touches lies inside its storage.
struct TorchView {
    let name: String
    let dtype: TorchDType
    let offset: Int
    let size: [Int]
    let stride: [Int]
    let count: Int
    let contiguous: Bool

    init(name: String, tensor t: TorchTensorRef, dtype: TorchDType, path: String) throws {
        self.name = name
        self.dtype = dtype
        offset = t.offset
        size = t.size
        stride = t.stride
        guard size.count == stride.count, size.count <= 16 else {
            throw BertError(path, "tensor '\(name)': size \(size) and stride \(stride) do not match")
        }
        guard offset >= 0, size.allSatisfy({ $0 >= 0 }), stride.allSatisfy({ $0 >= 0 }) else {
            throw BertError(path, "tensor '\(name)': negative offset, size or stride")
        }
        var n = 1
        var last = offset
        for (s, st) in zip(size, stride) {
            let (p, o1) = n.multipliedReportingOverflow(by: s)
            guard !o1 else { throw BertError(path, "tensor '\(name)': size \(size) is too large") }
            n = p
            if s > 0 {
                let (d, o2) = (s - 1).multipliedReportingOverflow(by: st)
                let (l, o3) = last.addingReportingOverflow(d)
                guard !o2, !o3 else { throw BertError(path, "tensor '\(name)': stride \(stride) is too large") }
                last = l
            }
        }
        count = n
        guard n == 0 || last < t.storage.numel else {
            throw BertError(path, "tensor '\(name)': offset \(offset), size \(size), stride \(stride) reach element \(last) of a storage of \(t.storage.numel)")
        }
        guard n <= t.storage.numel else {
            throw BertError(path, "tensor '\(name)': \(n) elements exceed its storage of \(t.storage.numel)")
        }
        var expect = 1
        var contig = true
        for (s, st) in zip(size, stride).reversed() where s != 1 {
            if st != expect { contig = false }
            expect *= s
        }
        contiguous = contig
    }

    /// Copies the view's elements, in row-major order, into `dst` (count * dtype.size bytes).
    func gather(_ src: UnsafeRawBufferPointer, into dst: UnsafeMutableRawPointer) {
        let es = dtype.size
        guard count > 0, let base = src.baseAddress else { return }
        if contiguous {
            dst.copyMemory(from: base + offset * es, byteCount: count * es)
            return
        }
        let rank = size.count
        // Innermost run: the last dimension, contiguous when its stride is 1.
        let inner = rank == 0 ? 1 : size[rank - 1]
        let innerStride = rank == 0 ? 1 : stride[rank - 1]
        var idx = [Int](repeating: 0, count: max(rank - 1, 0))
        var out = dst
        var done = 0
        while done < count {
            var s = offset
            for d in 0..<idx.count { s += idx[d] * stride[d] }
            if innerStride == 1 {
                out.copyMemory(from: base + s * es, byteCount: inner * es)
                out += inner * es
            } else {
                for j in 0..<inner {
                    out.copyMemory(from: base + (s + j * innerStride) * es, byteCount: es)
                    out += es
                }
            }
            done += inner
            var d = idx.count - 1
            while d >= 0 {
                idx[d] += 1
                if idx[d] < size[d] { break }
                idx[d] = 0
                d -= 1
            }
        }
    }

    /// The view as float32 (F32 copied, F16/BF16 widened).
    func floats(_ src: UnsafeRawBufferPointer) -> TensorBuffer {
        let owned = OwnedFloats(count: count)
        if count > 0 {
            if dtype == .f32 {
                gather(src, into: UnsafeMutableRawPointer(owned.pointer))
            } else {
                let tmp = UnsafeMutablePointer<UInt16>.allocate(capacity: count)
                defer { tmp.deallocate() }
                gather(src, into: UnsafeMutableRawPointer(tmp))
                if dtype == .f16 { bk_f16_to_f32(tmp, owned.pointer, count) } else { bk_bf16_to_f32(tmp, owned.pointer, count) }
            }
        }
        return TensorBuffer(shape: size, pointer: UnsafePointer(owned.pointer), owner: owned)
    }

    /// An integer/bool view narrowed to one byte per element (0, 1, or 2 for any other value).
    func integerMask(_ src: UnsafeRawBufferPointer) -> IntegerMask {
        let es = dtype.size
        var bytes = [UInt8](repeating: 0, count: count * es)
        if count > 0 { bytes.withUnsafeMutableBytes { gather(src, into: $0.baseAddress!) } }
        var values = [UInt8](repeating: 0, count: count)
        for i in 0..<count {
            var high = false
            for b in 1..<max(es, 1) where bytes[i * es + b] != 0 { high = true }
            values[i] = high || bytes[i * es] > 1 ? 2 : bytes[i * es]
        }
        return IntegerMask(shape: size, values: values)
    }
}
