/// `share-base`: marks every dense tensor that is bitwise identical to the base model's tensor of the
/// same name and shape as `storage = shared`, so the artifact stores only a reference. Does nothing
/// without a base. Tensors smaller than `min-bytes` stay dense.
///
/// Then, layer by layer: an encoder layer whose tensors (all tensors named `encoder.layer.<i>.*`) are
/// all shared is shared as a unit (counted in `layers-shared`); `IRPrinter` prints such a layer as one
/// `layer @encoder.layer.<i> {storage = shared, ...}` line, derived from the names and storage alone.
import BertIR

public struct ShareBasePass: ModulePass {
    public static let name = "share-base"
    public static let summary = "Share tensors bitwise identical to the base model's instead of storing them"
    public static let options = [
        PassOption(name: "min-bytes", summary: "Tensors smaller than this many bytes stay dense", defaultValue: "0"),
    ]
    public static let statistics = [
        PassStatistic(name: "tensors-shared", summary: "Number of tensors shared with the base"),
        PassStatistic(name: "bytes-shared", summary: "Number of bytes shared with the base"),
        PassStatistic(name: "tensors-kept", summary: "Number of dense tensors kept"),
        PassStatistic(name: "layers-shared", summary: "Number of encoder layers shared with the base as a unit"),
    ]

    public let minBytes: Int

    public init(options: [String: String]) throws {
        minBytes = try Self.intOption("min-bytes", in: options)
    }

    public func run(_ context: PassContext) throws {
        guard let base = context.base else { return }
        for i in context.module.tensors.indices {
            let t = context.module.tensors[i]
            guard t.storage == .dense else { continue }
            guard t.dtype == .f32,
                  let bytes = IRPrinter.safeElementCount(t.shape).map({ $0.multipliedReportingOverflow(by: 4) }),
                  !bytes.overflow, bytes.partialValue >= minBytes,
                  let mine = context.weights[t.name], let theirs = base[t.name],
                  mine.shape == t.shape, theirs.shape == t.shape,
                  mine.bitwiseEqual(theirs) else {
                context.bump("tensors-kept")
                continue
            }
            context.module.tensors[i].storage = .shared
            context.bump("tensors-shared")
            context.bump("bytes-shared", by: bytes.partialValue)
        }
        let layers = Self.sharedLayers(context.module).count
        if layers > 0 { context.bump("layers-shared", by: layers) }
    }

    /// The encoder layers (`encoder.layer.<i>`, in order of first appearance) whose tensors are all shared.
    public static func sharedLayers(_ m: Module) -> [String] {
        var order: [String] = []
        var allShared: [String: Bool] = [:]
        for t in m.tensors {
            guard let layer = IRPrinter.encoderLayer(of: t.name) else { continue }
            if allShared[layer] == nil { order.append(layer); allShared[layer] = true }
            if t.storage != .shared { allShared[layer] = false }
        }
        return order.filter { allShared[$0] == true }
    }
}
