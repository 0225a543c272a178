import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A built tool run in a child process whose own peak resident memory is measured: wait4 returns
/// the rusage of that one child (RUSAGE_CHILDREN would mix in every earlier child of the test
/// process). The child runs under an address-space limit (`ulimit -v`, set by sh before it execs
/// the tool, so the pid is the tool's), so a runaway allocation fails at once instead of paging
/// the machine.
struct MeasuredRun {
    /// Exit status, or nil when the tool was killed by a signal.
    var status: Int32?
    var signal: Int32
    var out: String
    var err: String
    var maxRSSBytes: Int

    var errLines: [Substring] { err.split(separator: "\n") }
}

func runMeasured(_ tool: String, _ args: [String], addressSpaceMB: Int = 1024) throws -> MeasuredRun {
    let dir = try TestPaths.tempDir()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let outPath = dir + "/stdout", errPath = dir + "/stderr"
    let script = "ulimit -v \(addressSpaceMB * 1024) && exec \"$0\" \"$@\" >'\(outPath)' 2>'\(errPath)'"
    let argv = ["/bin/sh", "-c", script, TestPaths.executable(tool)] + args
    var cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
    defer { for p in cargs { free(p) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, "/bin/sh", nil, nil, &cargs, environ)
    guard rc == 0 else { throw NSError(domain: "posix_spawn", code: Int(rc)) }
    var status: Int32 = 0
    var usage = rusage()
    while wait4(pid, &status, 0, &usage) < 0 {
        guard errno == EINTR else { throw NSError(domain: "wait4", code: Int(errno)) }
    }
    let sig = status & 0x7F
    let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
    let err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
    return MeasuredRun(status: sig == 0 ? (status >> 8) & 0xFF : nil, signal: sig, out: out, err: err,
                       maxRSSBytes: Int(usage.ru_maxrss) * 1024)
}
