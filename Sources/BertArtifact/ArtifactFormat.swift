/// The byte layout of a bertc artifact (`task.bin`), version 1, and its constants.
///
/// All integers are little-endian. Offsets are absolute file offsets.
///
///     header (64 bytes)
///       0  u8[8]  magic "BERTCART"
///       8  u32    version (1); bumped only when the structure below changes
///      12  u32    flags (0; a reader refuses flags it does not know)
///      16  u64    section_count (1...64)
///      24  u64    section_table_offset (64 in files this writer makes)
///      32  u64    file_size (the exact size of the file)
///      40  u64    header_checksum: bk_hash64(seed 0) of header bytes [0, 40) followed by the section table bytes
///      48  u8[16] reserved, zero
///
///     section table: section_count entries of 32 bytes
///       u32 kind, u32 reserved (0), u64 offset, u64 size, u64 checksum (bk_hash64 of the section bytes, seed 0)
///
///     sections (each kind at most once; no two sections overlap; all inside the file)
///       1 IR            UTF-8 text printed by IRPrinter (read back with IRParser)
///       2 METADATA      UTF-8 JSON: {"format": "bertc-artifact", "producer": "bertc 0.1",
///                       "metadata": ModelMetadata, "vocab": "inline" | "base",
///                       "base": null | {"path": "...", "fingerprint": "16 hex digits", "format": "..."}}
///       3 VOCAB         vocab lines joined by "\n" (present exactly when "vocab" is "inline")
///       4 TENSOR_TABLE  u64 count, then per tensor:
///                         u32 name_len, name bytes (UTF-8), u8 dtype (0 f32, 1 f16, 2 bf16, 3 i64, 4 i32),
///                         u8 encoding, u16 ndim, u64 dims[ndim],
///                         u64 data_offset (absolute, a multiple of 64, inside DATA), u64 byte_count
///       5 DATA          tensor bytes; each tensor starts at a 64-byte aligned absolute offset, gaps are zero.
///                       The section itself starts at a 64-byte aligned offset.
///
/// Encodings (the IR declaration's storage must match):
///       0 dense f32   storage dense: shape x 4 bytes, the values
///       1 mask        storage mask: MaskEncoding (BertSparse) of the zeroed positions; the values are the
///                     base's tensor with those entries set to 0
///       2 csr         storage csr: CSRMatrix.serialized() (rows, cols, nnz, index width; row pointers,
///                     column indices and values each 64-byte aligned within the blob)
///       3 delta       storage delta: SparseDelta.serialized() (changed positions, then their f32 values)
/// Every tensor with storage dense, mask, csr or delta has exactly one table entry; `shared` tensors
/// have none and, like mask and delta, are resolved from the base model at load time.
/// Unknown section kinds are skipped (checked for bounds, overlap and checksum), so optional
/// sections can be added without a version bump.
public enum ArtifactFormat {
    public static let magic: [UInt8] = Array("BERTCART".utf8)
    public static let version: UInt32 = 1
    public static let headerSize = 64
    public static let sectionEntrySize = 32
    public static let maxSections = 64
    /// Alignment of the DATA section and of every tensor in it.
    public static let dataAlignment = 64
    public static let producer = "bertc 0.1"
    public static let formatName = "bertc-artifact"

    /// dtype codes in the tensor table.
    public static func dtypeCode(_ d: DType) -> UInt8 {
        switch d {
        case .f32: return 0
        case .f16: return 1
        case .bf16: return 2
        case .i64: return 3
        case .i32: return 4
        }
    }

    public static func dtype(code: UInt8) -> DType? {
        switch code {
        case 0: return .f32
        case 1: return .f16
        case 2: return .bf16
        case 3: return .i64
        case 4: return .i32
        default: return nil
        }
    }

    /// Encoding codes in the tensor table.
    public static let encodingDenseF32: UInt8 = 0
    public static let encodingMask: UInt8 = 1
    public static let encodingCSR: UInt8 = 2
    public static let encodingDelta: UInt8 = 3

    /// The encoding a storage decision is written with (nil: no data).
    public static func encoding(for storage: Storage) -> UInt8? {
        switch storage {
        case .dense: return encodingDenseF32
        case .mask: return encodingMask
        case .csr: return encodingCSR
        case .delta: return encodingDelta
        case .shared: return nil
        }
    }

    /// `n` rounded up to a multiple of `a` (a power of two).
    static func align(_ n: Int, _ a: Int) -> Int { (n + a - 1) & ~(a - 1) }
}

import BertIR

/// The kinds of section an artifact holds.
public enum SectionKind: UInt32, Sendable, CaseIterable {
    case ir = 1, metadata = 2, vocab = 3, tensorTable = 4, data = 5

    public var name: String {
        switch self {
        case .ir: return "IR"
        case .metadata: return "METADATA"
        case .vocab: return "VOCAB"
        case .tensorTable: return "TENSOR_TABLE"
        case .data: return "DATA"
        }
    }
}
