/// Raw DEFLATE decompression (RFC 1951): stored, fixed-InflateHuffman and dynamic-InflateHuffman blocks, decoded
/// with canonical InflateHuffman codes (counts per length plus symbols in code order, as zlib's puff does).
/// Strict: over-subscribed or incomplete codes (except a single one-bit code), invalid symbols,
/// distances beyond the output, a truncated stream and output beyond the declared size are errors.
import BertIR

enum Inflate {
    /// Inflates the raw deflate stream `input`, producing at most `limit` bytes. Errors name `file`
    /// and `what` (the zip entry).
    static func inflate(_ input: UnsafeRawBufferPointer, limit: Int, file: String, what: String) throws -> [UInt8] {
        var s = InflateState(input: input, limit: limit)
        do {
            try s.run()
        } catch let e as InflateFault {
            throw BertError(file, "\(what): corrupt deflate data: \(e.message)")
        }
        return s.out
    }
}

struct InflateFault: Error { let message: String }

/// A canonical InflateHuffman code: how many codes of each length 0...15, and the symbols in code order.
struct InflateHuffman {
    var count = [Int](repeating: 0, count: 16)
    var symbol: [Int]

    /// Builds the code from per-symbol lengths; returns the code and the number of unused codes
    /// (0 for a complete code; negative means over-subscribed).
    /// Lookup of the next `fastBits` input bits (LSB first): symbol << 4 | code length, 0 when the
    /// code is longer (decoded bit by bit).
    var fast = [UInt16](repeating: 0, count: 1 << InflateHuffman.fastBits)
    static let fastBits = 9

    init(lengths: ArraySlice<Int>) {
        symbol = [Int](repeating: 0, count: lengths.count)
        for l in lengths { count[l] += 1 }
        var offs = [Int](repeating: 0, count: 16)
        for len in 1..<15 { offs[len + 1] = offs[len] + count[len] }
        for (i, l) in lengths.enumerated() where l != 0 {
            symbol[offs[l]] = i
            offs[l] += 1
        }
        // Canonical codes in (length, symbol) order; fill the table with each short code bit-reversed.
        var code = 0, index = 0
        for len in 1...15 {
            for k in 0..<count[len] {
                if len <= Self.fastBits {
                    var rev = 0
                    for b in 0..<len where code >> b & 1 != 0 { rev |= 1 << (len - 1 - b) }
                    var f = rev
                    while f < fast.count {
                        fast[f] = UInt16(symbol[index + k] << 4 | len)
                        f += 1 << len
                    }
                }
                code += 1
            }
            index += count[len]
            code <<= 1
        }
    }

    /// Codes left unused: 0 complete, > 0 incomplete, < 0 over-subscribed.
    var left: Int {
        var left = 1
        for len in 1...15 {
            left <<= 1
            left -= count[len]
            if left < 0 { return left }
        }
        return left
    }
}

struct InflateState {
    let input: UnsafeRawBufferPointer
    let limit: Int
    var pos = 0
    var bitBuf: UInt64 = 0
    var bitCount = 0
    var out: [UInt8] = []

    init(input: UnsafeRawBufferPointer, limit: Int) {
        self.input = input
        self.limit = limit
        // Reserve only what the input can plausibly expand to; the array grows with real output.
        out.reserveCapacity(min(limit, input.count &* 4 &+ 1024))
    }

    mutating func bits(_ n: Int) throws -> Int {
        while bitCount < n {
            guard pos < input.count else { throw InflateFault(message: "stream ends early") }
            bitBuf |= UInt64(input[pos]) << UInt64(bitCount)
            pos += 1
            bitCount += 8
        }
        let v = Int(bitBuf & ((1 << UInt64(n)) - 1))
        bitBuf >>= UInt64(n)
        bitCount -= n
        return v
    }

    mutating func decode(_ h: InflateHuffman) throws -> Int {
        while bitCount <= 56 && pos < input.count {
            bitBuf |= UInt64(input[pos]) << UInt64(bitCount)
            pos += 1
            bitCount += 8
        }
        let entry = Int(h.fast[Int(bitBuf & UInt64(h.fast.count - 1))])
        let len = entry & 15
        if entry != 0 && len <= bitCount {
            bitBuf >>= UInt64(len)
            bitCount -= len
            return entry >> 4
        }
        var code = 0, first = 0, index = 0
        for len in 1...15 {
            code |= try bits(1)
            let c = h.count[len]
            if code - c < first { return h.symbol[index + (code - first)] }
            index += c
            first += c
            first <<= 1
            code <<= 1
        }
        throw InflateFault(message: "invalid InflateHuffman code")
    }

    mutating func run() throws {
        var last = false
        while !last {
            last = try bits(1) == 1
            switch try bits(2) {
            case 0: try stored()
            case 1: try codes(Self.fixedLen, Self.fixedDist)
            case 2: try dynamic()
            default: throw InflateFault(message: "invalid block type 3")
            }
        }
    }

    mutating func stored() throws {
        // Skip to the byte boundary; whole bytes already buffered go back to the input.
        pos -= bitCount / 8
        bitBuf = 0
        bitCount = 0
        guard pos + 4 <= input.count else { throw InflateFault(message: "stream ends early") }
        let len = Int(input[pos]) | Int(input[pos + 1]) << 8
        let nlen = Int(input[pos + 2]) | Int(input[pos + 3]) << 8
        pos += 4
        guard len == (~nlen & 0xFFFF) else { throw InflateFault(message: "stored block length does not match its complement") }
        guard pos + len <= input.count else { throw InflateFault(message: "stream ends early") }
        guard out.count + len <= limit else { throw InflateFault(message: "output exceeds the declared size \(limit)") }
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[pos..<(pos + len)]))
        pos += len
    }

    static let lenBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    static let lenExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    static let distBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
                           4097, 6145, 8193, 12289, 16385, 24577]
    static let distExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]

    static let fixedLen: InflateHuffman = {
        var l = [Int](repeating: 8, count: 288)
        for i in 144..<256 { l[i] = 9 }
        for i in 256..<280 { l[i] = 7 }
        return InflateHuffman(lengths: l[...])
    }()
    static let fixedDist = InflateHuffman(lengths: [Int](repeating: 5, count: 30)[...])

    mutating func codes(_ lencode: InflateHuffman, _ distcode: InflateHuffman) throws {
        while true {
            let sym = try decode(lencode)
            if sym < 256 {
                guard out.count < limit else { throw InflateFault(message: "output exceeds the declared size \(limit)") }
                out.append(UInt8(sym))
            } else if sym == 256 {
                return
            } else {
                let li = sym - 257
                guard li < 29 else { throw InflateFault(message: "invalid length symbol \(sym)") }
                let len = Self.lenBase[li] + (try bits(Self.lenExtra[li]))
                let ds = try decode(distcode)
                guard ds < 30 else { throw InflateFault(message: "invalid distance symbol \(ds)") }
                let dist = Self.distBase[ds] + (try bits(Self.distExtra[ds]))
                guard dist <= out.count else { throw InflateFault(message: "distance \(dist) is beyond the \(out.count) bytes of output") }
                guard out.count + len <= limit else { throw InflateFault(message: "output exceeds the declared size \(limit)") }
                let start = out.count - dist
                for i in 0..<len { out.append(out[start + i]) }
            }
        }
    }

    static let order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    mutating func dynamic() throws {
        let nlen = try bits(5) + 257
        let ndist = try bits(5) + 1
        let ncode = try bits(4) + 4
        guard nlen <= 286, ndist <= 30 else { throw InflateFault(message: "too many length or distance codes (\(nlen), \(ndist))") }
        var lengths = [Int](repeating: 0, count: 320)
        for i in 0..<ncode { lengths[Self.order[i]] = try bits(3) }
        let lencodeCL = InflateHuffman(lengths: lengths[0..<19])
        guard lencodeCL.left == 0 else { throw InflateFault(message: "incomplete or over-subscribed code-length code") }
        var index = 0
        while index < nlen + ndist {
            var sym = try decode(lencodeCL)
            if sym < 16 {
                lengths[index] = sym
                index += 1
            } else {
                var len = 0
                if sym == 16 {
                    guard index > 0 else { throw InflateFault(message: "repeat with no previous length") }
                    len = lengths[index - 1]
                    sym = 3 + (try bits(2))
                } else if sym == 17 {
                    sym = 3 + (try bits(3))
                } else {
                    sym = 11 + (try bits(7))
                }
                guard index + sym <= nlen + ndist else { throw InflateFault(message: "too many code lengths") }
                for _ in 0..<sym {
                    lengths[index] = len
                    index += 1
                }
            }
        }
        guard lengths[256] != 0 else { throw InflateFault(message: "no end-of-block code") }
        let lencode = InflateHuffman(lengths: lengths[0..<nlen])
        let l1 = lencode.left
        guard l1 == 0 || (l1 > 0 && lencode.count[0] + lencode.count[1] == nlen) else {
            throw InflateFault(message: "incomplete or over-subscribed literal/length code")
        }
        let distcode = InflateHuffman(lengths: lengths[nlen..<(nlen + ndist)])
        let l2 = distcode.left
        guard l2 == 0 || (l2 > 0 && distcode.count[0] + distcode.count[1] == ndist) else {
            throw InflateFault(message: "incomplete or over-subscribed distance code")
        }
        try codes(lencode, distcode)
    }
}
