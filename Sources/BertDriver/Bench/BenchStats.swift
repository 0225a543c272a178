/// Timing helpers for `bertrun bench`: a monotonic clock, percentiles and the process's peak RSS.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum BenchStats {
    /// Monotonic time in seconds.
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// Nearest-rank percentile (p in 0...100) of `samples`; 0 when empty.
    static func percentile(_ samples: [Double], _ p: Double) -> Double {
        guard !samples.isEmpty else { return 0 }
        let sorted = samples.sorted()
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }

    /// Median: the mean of the two middle samples for an even count.
    static func median(_ samples: [Double]) -> Double {
        guard !samples.isEmpty else { return 0 }
        let s = samples.sorted(), n = s.count
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
    }

    /// Peak resident set size of this process so far, in bytes. On Linux, VmHWM from /proc/self/status:
    /// ru_maxrss carries over the peak of the process that exec'd bertrun (a Python script, say).
    static func peakRSSBytes() -> Int {
        var u = rusage()
        #if os(Linux)
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
           let kb = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") {
            return kb * 1024
        }
        guard getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u) == 0 else { return 0 }
        return Int(u.ru_maxrss) * 1024
        #else
        guard getrusage(RUSAGE_SELF, &u) == 0 else { return 0 }
        return Int(u.ru_maxrss)
        #endif
    }
}
