/// A pickle reader that executes no code: it interprets the protocol-2 opcodes `torch.save` emits for
/// state dicts into `PickleValue`s. GLOBAL / STACK_GLOBAL accept only the names a state dict needs
/// (`TorchGlobals.allowed`) and refuse anything else by name; REDUCE calls only OrderedDict,
/// `_rebuild_tensor_v2` and `_rebuild_parameter`; BINPERSID accepts only torch's
/// `('storage', type, key, location, numel)` tuples.
import BertIR

/// A storage referenced by a persistent id: `<archive>/data/<key>`.
struct TorchStorageRef {
    var key: String
    /// The storage class name, e.g. "torch.FloatStorage".
    var type: String
    var numel: Int
}

/// A tensor rebuilt by `_rebuild_tensor_v2`: a strided view into a storage.
struct TorchTensorRef {
    var storage: TorchStorageRef
    var offset: Int
    var size: [Int]
    var stride: [Int]
}

/// Containers are classes registered in the unpickler's arena, which empties them all when done, so
/// releasing a deeply nested (or cyclic) hostile pickle never recurses or leaks.
final class PickleList { var items: [PickleValue] = [] }
final class PickleTuple {
    var items: [PickleValue]
    init(_ items: [PickleValue]) { self.items = items }
}
final class PickleDict { var items: [(PickleValue, PickleValue)] = [] }

enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case tuple(PickleTuple)
    case list(PickleList)
    case dict(PickleDict)
    case global(String)
    case storage(TorchStorageRef)
    case tensor(TorchTensorRef)

    var kind: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int: return "int"
        case .float: return "float"
        case .string: return "str"
        case .tuple: return "tuple"
        case .list: return "list"
        case .dict: return "dict"
        case .global(let g): return g
        case .storage: return "storage"
        case .tensor: return "tensor"
        }
    }
}

enum TorchGlobals {
    static let storageTypes: Set<String> = [
        "torch.FloatStorage", "torch.HalfStorage", "torch.BFloat16Storage", "torch.LongStorage", "torch.IntStorage",
        "torch.ByteStorage", "torch.BoolStorage", "torch.DoubleStorage", "torch.storage.UntypedStorage",
        "torch.storage.TypedStorage",
    ]
    static let allowed: Set<String> = storageTypes.union([
        "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
        "torch.float32", "torch.float16", "torch.bfloat16", "torch.int64", "torch.uint8", "torch.bool",
    ])
}

struct Unpickler {
    let bytes: UnsafeRawBufferPointer
    /// The file named in errors, and the pickle's name inside it.
    let file: String
    let what: String
    var pos = 0
    var stack: [PickleValue] = []
    var marks: [Int] = []
    var memo: [Int: PickleValue] = [:]
    var lists: [PickleList] = []
    var tuples: [PickleTuple] = []
    var dicts: [PickleDict] = []

    init(_ bytes: UnsafeRawBufferPointer, file: String, what: String) {
        self.bytes = bytes
        self.file = file
        self.what = what
    }

    func fail(_ m: String) -> BertError { BertError(file, "\(what): \(m)") }

    mutating func byte() throws -> UInt8 {
        guard pos < bytes.count else { throw fail("pickle ends without STOP") }
        defer { pos += 1 }
        return bytes[pos]
    }

    mutating func take(_ n: Int) throws -> UnsafeRawBufferPointer {
        guard n >= 0, n <= bytes.count - pos else { throw fail("pickle ends inside an argument of \(n) bytes at offset \(pos)") }
        defer { pos += n }
        return UnsafeRawBufferPointer(rebasing: bytes[pos..<(pos + n)])
    }

    mutating func le(_ n: Int) throws -> UInt64 {
        let b = try take(n)
        var v: UInt64 = 0
        for i in (0..<n).reversed() { v = v << 8 | UInt64(b[i]) }
        return v
    }

    mutating func line() throws -> String {
        guard let nl = bytes[pos...].firstIndex(of: 0x0A) else { throw fail("pickle ends inside a GLOBAL name") }
        let s = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[pos..<nl]), as: UTF8.self)
        pos = nl + 1
        return s
    }

    mutating func pop() throws -> PickleValue {
        guard let v = stack.popLast() else { throw fail("pickle stack underflow at offset \(pos - 1)") }
        if let m = marks.last, stack.count < m { throw fail("pickle pops past a MARK at offset \(pos - 1)") }
        return v
    }

    /// The values pushed since the last MARK, removing them and the mark.
    mutating func popMark() throws -> [PickleValue] {
        guard let m = marks.popLast() else { throw fail("pickle has no MARK at offset \(pos - 1)") }
        let items = Array(stack[m...])
        stack.removeSubrange(m...)
        return items
    }

    mutating func string(_ n: Int) throws -> PickleValue {
        let b = try take(n)
        guard let s = String(bytes: b, encoding: .utf8) else { throw fail("pickle string at offset \(pos - n) is not UTF-8") }
        return .string(s)
    }

    mutating func global(_ module: String, _ name: String) throws -> PickleValue {
        let full = module + "." + name
        guard TorchGlobals.allowed.contains(full) else { throw BertError(file, "refusing to unpickle global '\(full)'") }
        return .global(full)
    }

    mutating func memoGet(_ i: Int) throws -> PickleValue {
        guard let v = memo[i] else { throw fail("pickle memo entry \(i) is missing") }
        return v
    }

    mutating func memoPut(_ i: Int) throws {
        guard let v = stack.last else { throw fail("pickle memoizes an empty stack") }
        memo[i] = v
    }

    func int(_ v: PickleValue, _ role: String) throws -> Int {
        guard case .int(let i) = v else { throw fail("\(role) is a \(v.kind), not an int") }
        return i
    }

    func ints(_ v: PickleValue, _ role: String) throws -> [Int] {
        guard case .tuple(let t) = v else { throw fail("\(role) is a \(v.kind), not a tuple") }
        return try t.items.map { try int($0, role) }
    }

    mutating func call(_ f: PickleValue, _ args: PickleValue) throws -> PickleValue {
        guard case .global(let name) = f else { throw fail("REDUCE calls a \(f.kind)") }
        guard case .tuple(let at) = args else { throw fail("REDUCE of \(name) with \(args.kind) arguments") }
        let a = at.items
        switch name {
        case "collections.OrderedDict":
            guard a.isEmpty else { throw fail("OrderedDict called with arguments") }
            return newDict()
        case "torch._utils._rebuild_tensor_v2":
            guard a.count == 6 || a.count == 7 else { throw fail("_rebuild_tensor_v2 takes 6 or 7 arguments, got \(a.count)") }
            guard case .storage(let s) = a[0] else { throw fail("_rebuild_tensor_v2 storage is a \(a[0].kind)") }
            let t = TorchTensorRef(storage: s, offset: try int(a[1], "storage offset"), size: try ints(a[2], "tensor size"),
                                   stride: try ints(a[3], "tensor stride"))
            return .tensor(t)
        case "torch._utils._rebuild_parameter":
            guard a.count == 3, case .tensor = a[0] else { throw fail("_rebuild_parameter expects (tensor, requires_grad, hooks)") }
            return a[0]
        default:
            throw fail("refusing to call '\(name)'")
        }
    }

    mutating func newDict() -> PickleValue {
        let d = PickleDict()
        dicts.append(d)
        return .dict(d)
    }

    mutating func tuple(_ items: [PickleValue]) -> PickleValue {
        let t = PickleTuple(items)
        tuples.append(t)
        return .tuple(t)
    }

    /// Empties every container, so none holds another when they are released.
    mutating func teardown() {
        stack.removeAll()
        memo.removeAll()
        for l in lists { l.items.removeAll() }
        for t in tuples { t.items.removeAll() }
        for d in dicts { d.items.removeAll() }
        lists.removeAll()
        tuples.removeAll()
        dicts.removeAll()
    }

    /// Unpickles a state dict: the top-level dict's (name, tensor) pairs in order; values that are
    /// not tensors are left out. The containers are emptied before returning.
    mutating func stateDict() throws -> [(String, TorchTensorRef)] {
        defer { teardown() }
        let top = try load()
        guard case .dict(let d) = top else { throw fail("pickle holds a \(top.kind), not a state dict") }
        var out: [(String, TorchTensorRef)] = []
        for (k, v) in d.items {
            guard case .string(let name) = k else { throw fail("state dict key is a \(k.kind), not a string") }
            if case .tensor(let t) = v { out.append((name, t)) }
        }
        return out
    }

    /// Runs the pickle to STOP and returns the value on top of the stack.
    mutating func load() throws -> PickleValue {
        while true {
            let op = try byte()
            switch op {
            case 0x80: // PROTO
                let v = try byte()
                guard v <= 5 else { throw fail("unsupported pickle protocol \(v)") }
            case 0x95: _ = try le(8) // FRAME
            case 0x7D: stack.append(newDict()) // EMPTY_DICT
            case 0x5D: let l = PickleList(); lists.append(l); stack.append(.list(l)) // EMPTY_LIST
            case 0x29: stack.append(tuple([])) // EMPTY_TUPLE
            case 0x28: // MARK
                guard marks.count < 10_000 else { throw fail("pickle nests MARKs too deeply") }
                marks.append(stack.count)
            case 0x58: stack.append(try string(Int(try le(4)))) // BINUNICODE
            case 0x8C: stack.append(try string(Int(try byte()))) // SHORT_BINUNICODE
            case 0x8D: // BINUNICODE8
                let n = try le(8)
                guard n <= UInt64(bytes.count) else { throw fail("pickle string length \(n) exceeds the pickle") }
                stack.append(try string(Int(n)))
            case 0x4A: stack.append(.int(Int(Int32(bitPattern: UInt32(try le(4)))))) // BININT
            case 0x4B: stack.append(.int(Int(try byte()))) // BININT1
            case 0x4D: stack.append(.int(Int(try le(2)))) // BININT2
            case 0x8A: // LONG1
                let n = Int(try byte())
                guard n <= 8 else { throw fail("pickle LONG1 of \(n) bytes is too large") }
                if n == 0 { stack.append(.int(0)); break }
                let u = try le(n)
                let shift = UInt64(64 - 8 * n)
                stack.append(.int(Int(Int64(bitPattern: u << shift) >> Int64(shift))))
            case 0x47: // BINFLOAT (big-endian)
                let b = try take(8)
                var u: UInt64 = 0
                for x in b { u = u << 8 | UInt64(x) }
                stack.append(.float(Double(bitPattern: u)))
            case 0x88: stack.append(.bool(true))
            case 0x89: stack.append(.bool(false))
            case 0x4E: stack.append(.none)
            case 0x74: stack.append(tuple(try popMark())) // TUPLE
            case 0x85: let a = try pop(); stack.append(tuple([a]))
            case 0x86: let b = try pop(); let a = try pop(); stack.append(tuple([a, b]))
            case 0x87: let c = try pop(); let b = try pop(); let a = try pop(); stack.append(tuple([a, b, c]))
            case 0x71: try memoPut(Int(try byte())) // BINPUT
            case 0x72: try memoPut(Int(try le(4))) // LONG_BINPUT
            case 0x94: try memoPut(memo.count) // MEMOIZE
            case 0x68: stack.append(try memoGet(Int(try byte()))) // BINGET
            case 0x6A: stack.append(try memoGet(Int(try le(4)))) // LONG_BINGET
            case 0x63: // GLOBAL
                let module = try line()
                let name = try line()
                stack.append(try global(module, name))
            case 0x93: // STACK_GLOBAL
                let n = try pop(), m = try pop()
                guard case .string(let module) = m, case .string(let name) = n else { throw fail("STACK_GLOBAL of non-strings") }
                stack.append(try global(module, name))
            case 0x52: // REDUCE
                let args = try pop(), f = try pop()
                stack.append(try call(f, args))
            case 0x62: // BUILD: state on dicts (OrderedDict._metadata) and tensors is ignored
                _ = try pop()
                let target = try pop()
                switch target {
                case .dict, .tensor: stack.append(target)
                default: throw fail("BUILD on a \(target.kind)")
                }
            case 0x73: // SETITEM
                let v = try pop(), k = try pop()
                guard case .dict(let d) = try pop() else { throw fail("SETITEM on a non-dict") }
                d.items.append((k, v))
                stack.append(.dict(d))
            case 0x75: // SETITEMS
                let items = try popMark()
                guard items.count % 2 == 0 else { throw fail("SETITEMS with an odd number of values") }
                guard case .dict(let d) = try pop() else { throw fail("SETITEMS on a non-dict") }
                for i in stride(from: 0, to: items.count, by: 2) { d.items.append((items[i], items[i + 1])) }
                stack.append(.dict(d))
            case 0x61: // APPEND
                let v = try pop()
                guard case .list(let l) = try pop() else { throw fail("APPEND on a non-list") }
                l.items.append(v)
                stack.append(.list(l))
            case 0x65: // APPENDS
                let items = try popMark()
                guard case .list(let l) = try pop() else { throw fail("APPENDS on a non-list") }
                l.items.append(contentsOf: items)
                stack.append(.list(l))
            case 0x51: // BINPERSID
                let pid = try pop()
                guard case .tuple(let pt) = pid, case let t = pt.items, t.count == 5, case .string("storage") = t[0],
                      case .global(let type) = t[1], TorchGlobals.storageTypes.contains(type),
                      case .string(let key) = t[2], case .int(let numel) = t[4], numel >= 0 else {
                    throw fail("persistent id is not a ('storage', type, key, location, numel) tuple")
                }
                stack.append(.storage(TorchStorageRef(key: key, type: type, numel: numel)))
            case 0x2E: // STOP
                guard marks.isEmpty, let top = stack.last else { throw fail("pickle stops with an unbalanced stack") }
                return top
            default:
                throw fail("unsupported pickle opcode 0x\(String(op, radix: 16)) at offset \(pos - 1)")
            }
        }
    }
}
