import CBertKernels
import XCTest

/// Runs `body` once per ISA level this CPU supports (portable, AVX2, AVX-512), then restores the
/// detected level: kernel tests check every code path the dispatcher can take.
func forEachISA(_ body: (String) throws -> Void) rethrows {
    let best = bk_isa_detect()
    defer { _ = bk_isa_set(best) }
    for level in [BK_ISA_PORTABLE, BK_ISA_AVX2, BK_ISA_AVX512] where level.rawValue <= best.rawValue {
        XCTAssertEqual(bk_isa_set(level), BK_OK)
        XCTAssertEqual(bk_isa_current(), level)
        try body(String(cString: bk_isa_name(level)))
    }
}
