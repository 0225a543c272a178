/// One entry point per fuzz target: runs the reader a bertc/bertrun user reaches with a file of these
/// bytes, to the end (every tensor touched). Used by the libFuzzer executables in fuzzing/ and by the
/// fuzz regression tests, so a crasher replays through exactly the code that found it.
/// Readers that only take a path get a file in `scratch` (a per-process directory, tmpfs when possible).
/// A reader may throw `BertError` (a clean one-line refusal); anything else it throws is returned by
/// `run` as a fault for the harness to report.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BertArtifact
import BertCheckpoint
import BertIR
import BertTokenizer
import CBertKernels
import Foundation

public enum FuzzEntry {
    public static let targets = ["safetensors", "tfindex", "pytorch", "config", "vocab", "artifact", "input", "ir"]

    /// A directory for the files readers need: /dev/shm/bertc-fuzz-PID (else the temp directory).
    public static func makeScratch() -> String {
        let root = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : NSTemporaryDirectory()
        let dir = (root as NSString).appendingPathComponent("bertc-fuzz-\(getpid())")
        mkdir(dir, 0o700)
        return dir
    }

    /// Runs `target` on `bytes`. Returns nil when the input was accepted, the `BertError` when it was
    /// refused cleanly; throws anything else (a harness treats that as a finding).
    public static func run(_ target: String, _ bytes: UnsafeRawBufferPointer, scratch: String) throws -> BertError? {
        do {
            switch target {
            case "safetensors": try safetensors(bytes, scratch)
            case "tfindex": try tfIndex(bytes, scratch)
            case "pytorch": try pytorch(bytes, scratch)
            case "config": try config(bytes, scratch)
            case "vocab": try vocab(bytes, scratch)
            case "artifact": try artifact(bytes, scratch)
            case "input": try input(bytes)
            case "ir": try ir(bytes)
            default: preconditionFailure("unknown fuzz target \(target)")
            }
            return nil
        } catch let e as BertError {
            return e
        }
    }

    static func safetensors(_ bytes: UnsafeRawBufferPointer, _ dir: String) throws {
        let path = try write(bytes, dir, "model.safetensors")
        let raw = try SafetensorsSource(path: path).readTensors()
        var sink: Float = 0
        for t in raw.tensors.values { for v in t.buffer { sink += v } }
        for m in raw.integerMasks.values { sink += Float(m.values.count) }
        blackHole(sink)
    }

    static func tfIndex(_ bytes: UnsafeRawBufferPointer, _ dir: String) throws {
        // The data shard: a symlink the harness placed in `dir` (a real shard, see fuzzing/), else the
        // input itself, so entries' offsets and CRC32Cs are checked against some bytes.
        let shard = (dir as NSString).appendingPathComponent("model.ckpt.data-00000-of-00001")
        var st = stat()
        if lstat(shard, &st) != 0 || (st.st_mode & S_IFMT) != S_IFLNK { _ = try write(bytes, dir, "model.ckpt.data-00000-of-00001") }
        let path = try write(bytes, dir, "model.ckpt.index")
        do { try ReaderEntryPoints.bundleProtos(Array(bytes), path: path) } catch is BertError {}
        try ReaderEntryPoints.tensorBundle(indexPath: path)
    }

    static func pytorch(_ bytes: UnsafeRawBufferPointer, _ dir: String) throws {
        do { try ReaderEntryPoints.unpickleStateDict(bytes, path: "data.pkl") } catch is BertError {}
        do { _ = try ReaderEntryPoints.inflate(bytes, limit: 1 << 20, path: "stream") } catch is BertError {}
        let path = try write(bytes, dir, "pytorch_model.bin")
        let raw = try ReaderEntryPoints.torchArchive(path: path)
        var sink: Float = 0
        for t in raw.tensors.values { for v in t.buffer { sink += v } }
        blackHole(sink)
    }

    static func config(_ bytes: UnsafeRawBufferPointer, _ dir: String) throws {
        let path = try write(bytes, dir, "config.json")
        do { _ = try SideFiles.poolingMode(path: path) } catch is BertError {}
        let c = try BertConfig.parse(data: Data(bytes), path: path)
        blackHole(Float(c.headDim + (c.id2label?.count ?? 0)))
    }

    static func vocab(_ bytes: UnsafeRawBufferPointer, _ dir: String) throws {
        let path = try write(bytes, dir, "vocab.txt")
        let tokens = try SideFiles.vocab(path: path, maxTokens: 1 << 20)
        for lower in [true, false] {
            let tok = try WordPieceTokenizer(vocab: tokens, options: TokenizerOptions(doLowerCase: lower), file: path)
            let e = tok.encode("Héllo, WORLD! unaffable 東京 naïve [SEP] ##ing x\u{301}", pair: "a pair of texts", maxLength: 48)
            blackHole(Float(e.ids.count))
        }
    }

    static func artifact(_ bytes: UnsafeRawBufferPointer, _ dir: String) throws {
        // Fix the file size and header checksum so mutations get past them; sections are read unverified.
        var b = Array(bytes)
        fixArtifactHeader(&b)
        let path = try b.withUnsafeBytes { try write($0, dir, "task.bin") }
        let art = try Artifact(path: path, verify: false)
        var size = IRPrinter.print(art.contents.module, options: IRPrintOptions(annotateSizes: true)).utf8.count
        size += StorageReport.format(art).utf8.count
        for name in art.encodedNames { _ = try art.encodedTensor(named: name) }
        size += try VerifyCommand.nonFiniteValues(art).count
        blackHole(Float(size))
    }

    /// Sets `file_size` to the buffer's size and recomputes `header_checksum` when the section table
    /// lies inside the buffer (layout in ArtifactFormat.swift).
    static func fixArtifactHeader(_ b: inout [UInt8]) {
        guard b.count >= ArtifactFormat.headerSize, Array(b[0..<8]) == ArtifactFormat.magic else { return }
        func u64(_ o: Int) -> UInt64 { b[o..<(o + 8)].reversed().reduce(0) { $0 << 8 | UInt64($1) } }
        func put(_ o: Int, _ v: UInt64) { for i in 0..<8 { b[o + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) } }
        put(32, UInt64(b.count))
        let count = u64(16), offset = u64(24)
        guard count <= UInt64(ArtifactFormat.maxSections), offset <= UInt64(b.count),
              count * UInt64(ArtifactFormat.sectionEntrySize) <= UInt64(b.count) - offset else { return }
        let table = b[Int(offset)..<(Int(offset) + Int(count) * ArtifactFormat.sectionEntrySize)]
        let hashed = Array(b[0..<40]) + table
        put(40, hashed.withUnsafeBytes { bk_hash64($0.baseAddress!, $0.count, 0) })
    }

    static func input(_ bytes: UnsafeRawBufferPointer) throws {
        // First byte: bit 0 picks the format, bit 1 --skip-bad-lines; the rest is the file.
        guard let mode = bytes.first else { return }
        let format: InputReader.Format = mode & 1 == 0 ? .tsv : .jsonl
        let file = try InputReader.parse(Data(bytes.dropFirst()), path: "input." + format.rawValue, format: format,
                                         skipBadLines: mode & 2 != 0)
        blackHole(Float(file.rows.count + file.bad.count))
    }

    static func ir(_ bytes: UnsafeRawBufferPointer) throws {
        guard let text = String(validating: bytes, as: UTF8.self) else { return }
        let (module, weights) = try IRParser.parseWithLiterals(text, file: "fuzz.ir")
        try Verifier.verify(module, weights: weights, file: "fuzz.ir")
        blackHole(Float(IRPrinter.print(module).utf8.count))
    }

    /// Writes `bytes` to `dir/name` (replacing it) and returns the path.
    static func write(_ bytes: UnsafeRawBufferPointer, _ dir: String, _ name: String) throws -> String {
        let path = (dir as NSString).appendingPathComponent(name)
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw FuzzHarnessFault(message: "cannot write \(path)") }
        defer { close(fd) }
        var done = 0
        while done < bytes.count {
            let n = posixWrite(fd, bytes.baseAddress! + done, bytes.count - done)
            guard n > 0 else { throw FuzzHarnessFault(message: "cannot write \(path)") }
            done += n
        }
        return path
    }

    @inline(never) static func blackHole(_ x: Float) { if x == 0x1p100 { print("") } }
}

private func posixWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int { write(fd, p, n) }

/// The harness itself failed (not a finding about the reader).
public struct FuzzHarnessFault: Error { public var message: String }
