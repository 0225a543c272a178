/// The element types of torch storages, from the storage class named in a persistent id.
enum TorchDType: String {
    case f32 = "float32", f16 = "float16", bf16 = "bfloat16", f64 = "float64"
    case i64 = "int64", i32 = "int32", u8 = "uint8", bool = "bool", untyped = "untyped bytes"

    init?(storageType: String) {
        switch storageType {
        case "torch.FloatStorage": self = .f32
        case "torch.HalfStorage": self = .f16
        case "torch.BFloat16Storage": self = .bf16
        case "torch.DoubleStorage": self = .f64
        case "torch.LongStorage": self = .i64
        case "torch.IntStorage": self = .i32
        case "torch.ByteStorage": self = .u8
        case "torch.BoolStorage": self = .bool
        case "torch.storage.UntypedStorage", "torch.storage.TypedStorage": self = .untyped
        default: return nil
        }
    }

    var size: Int {
        switch self {
        case .f32, .i32: return 4
        case .f16, .bf16: return 2
        case .f64, .i64: return 8
        case .u8, .bool, .untyped: return 1
        }
    }

    /// Integer types whose mask-named tensors are kept as `IntegerMask`s.
    var isInteger: Bool { self == .i64 || self == .i32 || self == .u8 || self == .bool }
}
