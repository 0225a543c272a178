/// Token ids of a batch, padded on the right to the longest sequence.
public struct Batch: Sendable {
    public let size: Int
    public let seq: Int
    public let inputIds: [Int32]
    public let tokenTypeIds: [Int32]
    public let attentionMask: [Int32]
    /// Unpadded length of each row.
    public let lengths: [Int]

    /// Pads `rows` (ids, type ids) with `padId` to the longest row.
    public init(rows: [(ids: [Int32], typeIds: [Int32])], padId: Int32 = 0) {
        size = rows.count
        seq = rows.map(\.ids.count).max() ?? 0
        var ids = [Int32](repeating: padId, count: size * seq)
        var types = [Int32](repeating: 0, count: size * seq)
        var mask = [Int32](repeating: 0, count: size * seq)
        for (b, row) in rows.enumerated() {
            for (s, id) in row.ids.enumerated() {
                ids[b * seq + s] = id
                types[b * seq + s] = s < row.typeIds.count ? row.typeIds[s] : 0
                mask[b * seq + s] = 1
            }
        }
        inputIds = ids; tokenTypeIds = types; attentionMask = mask
        lengths = rows.map(\.ids.count)
    }
}
