#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only memory map of a whole file. Tensors point into it; it lives as long as any of them.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let base: UnsafeRawPointer
    public let size: Int

    /// Kept open for `copy(from:count:to:)` (pread); closed with the map.
    private let fd: Int32

    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw BertError(path, "cannot open: \(String(cString: strerror(errno)))") }
        var ok = false
        defer { if !ok { close(fd) } }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw BertError(path, "cannot stat: \(String(cString: strerror(errno)))") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw BertError(path, "not a regular file") }
        size = Int(st.st_size)
        if size == 0 {
            // mmap of length 0 fails; keep a valid, never-dereferenced pointer.
            base = UnsafeRawPointer(UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 64))
        } else {
            let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
            guard let p, p != MAP_FAILED else { throw BertError(path, "cannot map: \(String(cString: strerror(errno)))") }
            // Where the page cache holds the file in 2 MiB folios, the kernel may map each one whole on a single
            // fault: touching one bias would make 2 MiB of packed-and-released weights resident again. Small pages
            // only (a hint; ignored where unsupported).
            #if os(Linux)
            _ = madvise(p, size, MADV_NOHUGEPAGE)
            #endif
            base = UnsafeRawPointer(p)
        }
        self.fd = fd
        ok = true
    }

    /// The bytes in `range`, which the caller has checked lies within the file.
    public func bytes(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        precondition(range.lowerBound >= 0 && range.upperBound <= size)
        return UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count)
    }

    /// Copies `count` bytes at `p` (inside this map) to `dst` with pread(2) instead of touching the map, so a
    /// few rows of a large table can be read without the kernel mapping (and keeping resident) the pages
    /// around them. Falls back to copying from the map if the file cannot be read.
    public func copy(from p: UnsafeRawPointer, count: Int, to dst: UnsafeMutableRawPointer) {
        guard size > 0, p >= base, count >= 0, p - base <= size - count else { return }
        var done = 0
        while fd >= 0, done < count {
            let n = pread(fd, dst + done, count - done, off_t(p - base + done))
            if n <= 0 { break }
            done += n
        }
        if done < count { (dst + done).copyMemory(from: p + done, byteCount: count - done) }
    }

    /// Hands the whole pages inside `[p, p + count)` back to the kernel (MADV_DONTNEED): they leave the
    /// resident set and are read again from the page cache if touched. Only ranges inside this map.
    public func release(_ p: UnsafeRawPointer, count: Int) {
        guard size > 0, p >= base, count >= 0, p - base <= size - count else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard page > 0 else { return }
        let start = (Int(bitPattern: p) + page - 1) / page * page, end = (Int(bitPattern: p) + count) / page * page
        if end > start { _ = madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, MADV_DONTNEED) }
    }

    deinit {
        if fd >= 0 { close(fd) }
        if size > 0 { munmap(UnsafeMutableRawPointer(mutating: base), size) }
        else { UnsafeMutableRawPointer(mutating: base).deallocate() }
    }
}
