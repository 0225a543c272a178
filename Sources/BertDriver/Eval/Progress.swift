#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A progress bar with throughput on stderr, for long inputs: shown only when stderr is a terminal
/// and there are at least `minimumRows` rows; redrawn at most ten times a second, erased at the end.
final class Progress {
    static let minimumRows = 64
    let total: Int
    private var done = 0
    private let start = DispatchTime.now().uptimeNanoseconds
    private var lastDraw: UInt64 = 0

    /// nil when no bar should be shown.
    init?(total: Int, terminal: Bool = isatty(2) == 1) {
        guard terminal, total >= Progress.minimumRows else { return nil }
        self.total = total
    }

    func advance(by n: Int) {
        done += n
        let now = DispatchTime.now().uptimeNanoseconds
        guard now - lastDraw >= 100_000_000 || done >= total else { return }
        lastDraw = now
        Console.err("\r" + Progress.line(done: done, total: total, seconds: Double(now - start) / 1e9) + "\u{1B}[K")
    }

    /// Erases the bar.
    func finish() { Console.err("\r\u{1B}[K") }

    /// `[=========>          ]  512/1000 rows   45.2 rows/s  eta 11s`.
    static func line(done: Int, total: Int, seconds: Double, width: Int = 30) -> String {
        let fraction = total == 0 ? 1 : min(1, Double(done) / Double(total))
        let filled = Int((fraction * Double(width)).rounded(.down))
        var bar = String(repeating: "=", count: filled)
        if filled < width { bar += ">" + String(repeating: " ", count: width - filled - 1) }
        let rate = seconds > 0 ? Double(done) / seconds : 0
        var s = "[\(bar)] " + String(repeating: " ", count: max(0, String(total).count - String(done).count))
            + "\(done)/\(total) rows  " + String(format: "%.1f", rate) + " rows/s"
        if rate > 0 && done < total { s += "  eta \(Int((Double(total - done) / rate).rounded(.up)))s" }
        return s
    }
}
