import BertIR
import CBertKernels

/// Turns a C status code from the kernel library into a thrown `BertError`.
@inline(__always)
func check(_ status: bk_status, _ what: @autoclosure () -> String) throws {
    guard status == BK_OK else {
        let reason: String
        switch status {
        case BK_ERR_ARGUMENT: reason = "invalid argument"
        case BK_ERR_NOMEM: reason = "out of memory"
        case BK_ERR_UNSUPPORTED: reason = "unsupported on this CPU"
        default: reason = "status \(status.rawValue)"
        }
        throw BertError("kernel \(what()) failed: \(reason)")
    }
}
