/// `AtomicFile`: writes a file through a temp file in the destination folder, fsync and rename,
/// so readers never see a partial file and a failure leaves nothing behind.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BertIR

public enum AtomicFile {
    /// Runs `body` against a temp file next to `path` (`.NAME.tmp.<pid>.<random>`), then flushes,
    /// fsyncs and renames it to `path`. On any error the temp file is removed and `path` is untouched.
    /// Returns the size of the file written.
    @discardableResult
    public static func write(to path: String, _ body: (inout FileOutput) throws -> Void) throws -> Int {
        let (dir, base) = split(path)
        guard !base.isEmpty, base != ".", base != ".." else { throw BertError(path, "not a file name") }
        let tmp = (dir.isEmpty ? "" : dir + "/") + ".\(base).tmp.\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(tmp, O_RDWR | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else { throw BertError(path, "cannot create: \(String(cString: strerror(errno)))") }
        var closed = false
        do {
            var out = FileOutput(fd: fd, path: path)
            try body(&out)
            try out.flush()
            let size = out.position
            guard ftruncate(fd, off_t(size)) == 0 else {
                throw BertError(path, "cannot truncate: \(String(cString: strerror(errno)))")
            }
            guard fsync(fd) == 0 else { throw BertError(path, "cannot sync: \(String(cString: strerror(errno)))") }
            closed = true
            guard close(fd) == 0 else { throw BertError(path, "cannot close: \(String(cString: strerror(errno)))") }
            guard rename(tmp, path) == 0 else {
                throw BertError(path, "cannot rename into place: \(String(cString: strerror(errno)))")
            }
            syncDirectory(dir.isEmpty ? "." : dir)
            return size
        } catch {
            if !closed { close(fd) }
            unlink(tmp)
            throw error
        }
    }

    /// Folder and file name of `path`.
    static func split(_ path: String) -> (String, String) {
        guard let slash = path.lastIndex(of: "/") else { return ("", path) }
        let dir = String(path[..<slash])
        return (dir.isEmpty ? "/" : dir, String(path[path.index(after: slash)...]))
    }

    /// Best effort: make the rename durable.
    private static func syncDirectory(_ dir: String) {
        let dfd = open(dir, O_RDONLY)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }
    }
}
