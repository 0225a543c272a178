#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BertIR

/// Writing to the terminal and turning errors into exit codes.
enum Console {
    static func out(_ s: String) { writeAll(1, s) }
    static func err(_ s: String) { writeAll(2, s) }

    /// Writes the whole string to a file descriptor (retrying short writes and EINTR).
    static func writeAll(_ fd: Int32, _ s: String) {
        var bytes = Array(s.utf8)
        var done = 0
        bytes.withUnsafeMutableBytes { buf in
            while done < buf.count {
                let n = write(fd, buf.baseAddress! + done, buf.count - done)
                if n < 0 { if errno == EINTR { continue }; return }
                done += n
            }
        }
    }

    /// Runs a command body and maps its errors to the tool's exit codes:
    /// 0 success, 1 a fault in an input file or at run time, 64 a bad command line.
    static func exitCode(tool: String, _ body: () throws -> Void) -> Int32 {
        do {
            try body()
            return 0
        } catch let e as HelpRequested {
            out(e.text)
            return 0
        } catch let e as UsageError {
            err("\(tool): error: \(e)\n")
            return 64
        } catch let e as BertError {
            err("\(tool): error: \(oneLine(e.description))\n")
            return 1
        } catch {
            err("\(tool): error: \(oneLine(String(describing: error)))\n")
            return 1
        }
    }

    static func oneLine(_ s: String) -> String {
        s.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).joined(separator: " ")
    }
}
