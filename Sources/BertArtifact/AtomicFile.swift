/// `AtomicFile`: writes a file through a temp file in the destination folder, fsync and rename,
/// so readers never see a partial file and a failure leaves nothing behind. The temp file is
/// registered with `bk_cleanup_register` while it exists, so the SIGINT/SIGTERM/SIGHUP handler the
/// CLIs install (`Interrupts.install`) removes it when the process is interrupted.
/// Test hook: with `BERTC_TEST_PAUSE_BEFORE_RENAME=<seconds>` in the environment the writer sleeps
/// after the temp file is complete and before the rename, so tests can interrupt it deterministically.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BertIR
import CBertKernels

public enum AtomicFile {
    /// Runs `body` against a temp file next to `path` (`.NAME.tmp.<pid>.<random>`), then flushes,
    /// fsyncs and renames it to `path`. On any error the temp file is removed and `path` is untouched.
    /// Returns the size of the file written.
    @discardableResult
    public static func write(to path: String, _ body: (inout FileOutput) throws -> Void) throws -> Int {
        let (dir, base) = split(path)
        guard !base.isEmpty, base != ".", base != ".." else { throw BertError(path, "not a file name") }
        let tmp = (dir.isEmpty ? "" : dir + "/") + ".\(base).tmp.\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
        let slot = bk_cleanup_register(tmp)
        defer { bk_cleanup_unregister(slot) }
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
            testPauseBeforeRename()
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

    /// Makes SIGINT, SIGTERM and SIGHUP remove the temp files being written, then end the process
    /// by that signal. For the command-line tools' mains; call once, early.
    public static func removeTempFilesOnInterrupt() { bk_cleanup_install() }

    /// The `BERTC_TEST_PAUSE_BEFORE_RENAME` test hook (seconds, fractions allowed).
    private static func testPauseBeforeRename() {
        guard let v = getenv("BERTC_TEST_PAUSE_BEFORE_RENAME"), let s = Double(String(cString: v)), s > 0, s < 3600 else { return }
        usleep(useconds_t(s * 1_000_000))
    }

    /// Best effort: make the rename durable.
    private static func syncDirectory(_ dir: String) {
        let dfd = open(dir, O_RDONLY)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }
    }
}
