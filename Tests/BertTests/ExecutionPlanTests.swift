/// The engine's step plan: which adjacent ops run fused or grouped.
import XCTest
import BertIR
@testable import BertRuntime

final class ExecutionPlanTests: XCTestCase {
    private func plan(_ body: String) throws -> [Step] {
        ExecutionPlan.steps(try IRParser.parse("module @m {\n\(body)\n}"))
    }

    /// Q, K and V over one input are one step; a linear whose GELU follows is not grouped with them, and with the
    /// linear reading that GELU it makes a feed-forward step; linears over different inputs stay single.
    func testGroupsLinearsOverOneInput() throws {
        let steps = try plan("""
          %x = input {name = "input_ids"} : i32[B, S]
          %0 = embeddings %x, %x, @w, @p, @t : f32[B, S, 4]
          %1 = linear %0, @q : f32[B, S, 4]
          %2 = linear %0, @k : f32[B, S, 4]
          %3 = linear %0, @v : f32[B, S, 4]
          %4 = attention %1, %2, %3, %x {heads = 1} : f32[B, S, 4]
          %5 = linear %4, @o : f32[B, S, 4]
          %6 = linear %0, @up : f32[B, S, 8]
          %7 = linear %0, @up2 : f32[B, S, 8]
          %8 = gelu %7 : f32[B, S, 8]
          %9 = linear %8, @down : f32[B, S, 4]
          output %9 {name = "out"}
        """)
        XCTAssertEqual(steps, [.op(0), .op(1), .linears([2, 3, 4]), .op(5), .op(6), .op(7), .feedForward(up: 8, gelu: 9, down: 10),
                               .op(11)])
    }

    /// At most four linears per group (bk_csr_linear_multi's BK_CSR_MAX_PARTS).
    func testGroupsAtMostFour() throws {
        let body = ["  %x = input {name = \"input_ids\"} : i32[B, S]", "  %0 = embeddings %x, %x, @w, @p, @t : f32[B, S, 4]"]
            + (1...6).map { "  %\($0) = linear %0, @l\($0) : f32[B, S, 4]" }
        XCTAssertEqual(try plan(body.joined(separator: "\n")), [.op(0), .op(1), .linears([2, 3, 4, 5]), .linears([6, 7])])
    }

    /// linear + gelu without a following linear keeps the GEMM fusion; a GELU result read twice is no feed-forward.
    func testFeedForwardNeedsSingleReaders() throws {
        let head = "  %x = input {name = \"input_ids\"} : i32[B, S]\n  %0 = embeddings %x, %x, @w, @p, @t : f32[B, S, 4]\n"
        XCTAssertEqual(try plan(head + """
          %1 = linear %0, @up : f32[B, S, 8]
          %2 = gelu %1 : f32[B, S, 8]
          output %2 {name = "out"}
        """), [.op(0), .op(1), .linearGelu(linear: 2, gelu: 3), .op(4)])
        XCTAssertEqual(try plan(head + """
          %1 = linear %0, @up : f32[B, S, 8]
          %2 = gelu %1 : f32[B, S, 8]
          %3 = linear %2, @down : f32[B, S, 4]
          %4 = add %2, %2 : f32[B, S, 8]
          output %3 {name = "out"}
        """), [.op(0), .op(1), .linearGelu(linear: 2, gelu: 3), .op(4), .op(5), .op(6)])
    }

    /// A linear or feed-forward block whose result only feeds add + layer_norm takes them into its step, the linear's
    /// result as either operand of the add; an add read twice leaves the linear alone and the add unfused.
    func testLinearAndFeedForwardTakeTheirAddNorm() throws {
        let head = "  %x = input {name = \"input_ids\"} : i32[B, S]\n  %0 = embeddings %x, %x, @w, @p, @t : f32[B, S, 4]\n"
        XCTAssertEqual(try plan(head + """
          %1 = linear %0, @o : f32[B, S, 4]
          %2 = add %1, %0 : f32[B, S, 4]
          %3 = layer_norm %2, @g, @b {eps = 1.0e-12} : f32[B, S, 4]
          %4 = linear %3, @up : f32[B, S, 8]
          %5 = gelu %4 : f32[B, S, 8]
          %6 = linear %5, @down : f32[B, S, 4]
          %7 = add %3, %6 : f32[B, S, 4]
          %8 = layer_norm %7, @g, @b {eps = 1.0e-12} : f32[B, S, 4]
          output %8 {name = "out"}
        """), [.op(0), .op(1), .linearNorm(linear: 2, add: 3, norm: 4),
               .feedForwardNorm(up: 5, gelu: 6, down: 7, add: 8, norm: 9), .op(10)])
        XCTAssertEqual(try plan(head + """
          %1 = linear %0, @o : f32[B, S, 4]
          %2 = add %1, %0 : f32[B, S, 4]
          %3 = layer_norm %2, @g, @b {eps = 1.0e-12} : f32[B, S, 4]
          output %2 {name = "sum"}
          output %3 {name = "out"}
        """), [.op(0), .op(1), .op(2), .op(3), .op(4), .op(5), .op(6)])
    }
}
