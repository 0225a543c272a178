/// `FileOutput`: a small buffered writer over a POSIX file descriptor (little-endian integers,
/// alignment padding, large writes straight from the caller's memory, in-place patches).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BertIR

public struct FileOutput {
    /// The file descriptor being written (opened read-write by `AtomicFile`).
    public let fd: Int32
    /// The name used in error messages (the destination path).
    public let path: String
    /// The offset of the next byte appended.
    public private(set) var position: Int = 0
    private var buffer: [UInt8] = []
    private let bufferLimit = 1 << 20

    init(fd: Int32, path: String) {
        self.fd = fd; self.path = path
        buffer.reserveCapacity(bufferLimit)
    }

    /// Appends raw bytes. Large writes bypass the buffer (no copy).
    public mutating func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count > 0, let base = bytes.baseAddress else { return }
        if bytes.count >= bufferLimit / 4 {
            try flush()
            try writeAll(base, bytes.count, at: position)
        } else {
            if buffer.count + bytes.count > bufferLimit { try flush() }
            buffer.append(contentsOf: bytes)
        }
        position += bytes.count
    }

    public mutating func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    public mutating func write(_ s: String) throws {
        try write(Array(s.utf8))
    }

    public mutating func writeLE<T: FixedWidthInteger>(_ v: T) throws {
        var le = v.littleEndian
        try withUnsafeBytes(of: &le) { try write($0) }
    }

    /// Appends zero bytes until `position` is a multiple of `alignment`.
    public mutating func pad(to alignment: Int) throws {
        let target = ArtifactFormat.align(position, alignment)
        if target > position { try write([UInt8](repeating: 0, count: target - position)) }
    }

    /// Writes everything buffered to the file.
    public mutating func flush() throws {
        guard !buffer.isEmpty else { return }
        let start = position - buffer.count
        try buffer.withUnsafeBytes { try writeAll($0.baseAddress!, $0.count, at: start) }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Overwrites bytes at `offset` (which must already have been appended); flushes first.
    public mutating func patch(_ bytes: [UInt8], at offset: Int) throws {
        try flush()
        guard offset >= 0, offset + bytes.count <= position else {
            throw BertError(path, "internal error: patch outside the written bytes")
        }
        try bytes.withUnsafeBytes { b in
            if let base = b.baseAddress { try writeAll(base, b.count, at: offset) }
        }
    }

    private func writeAll(_ p: UnsafeRawPointer, _ n: Int, at offset: Int) throws {
        var done = 0
        while done < n {
            let r = pwrite(fd, p + done, n - done, off_t(offset + done))
            if r < 0 {
                if errno == EINTR { continue }
                throw BertError(path, "cannot write: \(String(cString: strerror(errno)))")
            }
            if r == 0 { throw BertError(path, "cannot write: no progress") }
            done += r
        }
    }
}
