import Foundation

/// Named tensors in the safetensors format (Hugging Face), so that weights move to and from
/// Python (`safetensors.torch.load_file` / `save_file`).
///
/// Layout: 8-byte little-endian header length `L`; `L` bytes of JSON
/// `{name: {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {str: str}}`
/// (padded with spaces to a multiple of 8); then the data, raw little-endian values of each
/// tensor's dtype, each tensor at `[begin, end)` relative to the start of the data.
///
/// Tensors are held as `Float`. The reader converts every dtype of ``DataType`` (see there for
/// the rule of each); integer tensors keep their dtype in ``dataTypes``, so a PyTorch
/// `num_batches_tracked` (`I64`) is written back as `I64`. The reader checks, before allocating
/// anything the header asks for, that every range lies inside the file, matches its shape
/// (`end − begin = size of dtype · Π shape`) and does not overlap another.
public struct Safetensors: Sendable, Equatable {
    /// The element types of the format that ConvKit reads, and how each becomes a `Float`.
    public enum DataType: String, Sendable, Hashable, CaseIterable {
        /// IEEE binary32: as is.
        case f32 = "F32"
        /// IEEE binary16: exact (every binary16 value is a binary32 value).
        case f16 = "F16"
        /// bfloat16 (the top half of a binary32): exact.
        case bf16 = "BF16"
        /// IEEE binary64: rounded to the nearest `Float`. A finite value beyond `Float`'s range
        /// (|x| ≥ 2¹²⁸ after rounding) is `.invalidValue`; NaN and ±∞ stay what they are.
        case f64 = "F64"
        /// 64-bit signed integer: exact for |v| ≤ 2²⁴ = 16,777,216, where every integer is a
        /// `Float` (above it, neighbours are 2 or more apart and a counter would stop counting);
        /// a larger value is `.invalidValue`.
        case i64 = "I64"
        /// 32-bit signed integer: as ``i64``.
        case i32 = "I32"

        /// Bytes per element.
        public var size: Int {
            switch self {
            case .f16, .bf16: return 2
            case .f32, .i32: return 4
            case .f64, .i64: return 8
            }
        }

        var isInteger: Bool { self == .i64 || self == .i32 }
    }

    /// The tensors in file order (ascending data offset).
    public var tensors: [(name: String, tensor: Tensor)]
    /// The optional `"__metadata__"` string map.
    public var metadata: [String: String]
    /// The dtype each tensor is written as, by name; a tensor not listed is `F32`. The reader
    /// lists the integer tensors (`I64`, `I32`); floating-point tensors of every width are held
    /// and written as `F32`. ``encoded()`` writes `F32`, `F64`, `I64` and `I32`.
    public var dataTypes: [String: DataType]

    /// Largest header accepted (the reference implementation's cap).
    public static let maximumHeaderLength = 100_000_000

    public init(tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:],
                dataTypes: [String: DataType] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
        self.dataTypes = dataTypes
    }

    /// Same names, shapes, values (bit for bit as `Float` values compare), metadata and dtypes.
    public static func == (a: Safetensors, b: Safetensors) -> Bool {
        a.metadata == b.metadata && a.tensors.count == b.tensors.count
            && zip(a.tensors, b.tensors).allSatisfy { $0.name == $1.name && $0.tensor == $1.tensor }
            && a.dataTypes.filter { $0.value != .f32 } == b.dataTypes.filter { $0.value != .f32 }
    }

    /// The tensor called `name`, if present.
    public subscript(name: String) -> Tensor? { tensors.first { $0.name == name }?.tensor }

    // MARK: Writing

    /// The file's bytes. Tensors are written in the order given, each in its ``dataTypes`` dtype.
    ///
    /// - Throws: ``FileFormatError`` `.malformedHeader` for duplicate or reserved names;
    ///   `.unsupportedType` for a tensor listed as `F16` or `BF16` (not written: a narrowing);
    ///   `.invalidValue` for an `I64`/`I32` tensor holding a value that is not a whole number in
    ///   the type's range (naming the tensor, the element and the value).
    public func encoded() throws(FileFormatError) -> [UInt8] {
        var seen = Set<String>()
        var entries: [String] = []
        var offset = 0
        for (name, tensor) in tensors {
            if name == "__metadata__" || !seen.insert(name).inserted {
                throw FileFormatError(.malformedHeader, "safetensors: tensor name '\(name)' is reserved or duplicated")
            }
            let dtype = dataTypes[name] ?? .f32
            let end = offset + dtype.size * tensor.count
            let shape = tensor.shape.dimensions.map(String.init).joined(separator: ",")
            entries.append("\(Self.jsonString(name)):{\"dtype\":\"\(dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        if !metadata.isEmpty {
            let fields = metadata.sorted { $0.key < $1.key }.map { "\(Self.jsonString($0.key)):\(Self.jsonString($0.value))" }
            entries.insert("\"__metadata__\":{\(fields.joined(separator: ","))}", at: 0)
        }
        var header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
        while header.count % 8 != 0 { header.append(0x20) }  // pad with spaces: data 8-byte aligned
        var out = ByteIO.littleEndian(UInt64(header.count), size: 8)
        out.reserveCapacity(8 + header.count + offset)
        out += header
        for (name, tensor) in tensors { out += try Self.encode(tensor.scalars, as: dataTypes[name] ?? .f32, name: name) }
        return out
    }

    /// Little-endian bytes of `values` in `dtype` (F32, F64, I64 or I32).
    private static func encode(_ values: [Float], as dtype: DataType, name: String) throws(FileFormatError) -> [UInt8] {
        switch dtype {
        case .f32:
            return ByteIO.float32LittleEndian(values)
        case .f16, .bf16:
            throw FileFormatError(.unsupportedType,
                "safetensors: tensor '\(name)' is listed as \(dtype.rawValue); ConvKit writes F32, F64, I64 and I32")
        case .f64:
            var out: [UInt8] = []
            out.reserveCapacity(8 * values.count)
            for v in values { out += ByteIO.littleEndian(Double(v).bitPattern, size: 8) }
            return out
        case .i64, .i32:
            let limit: Float = dtype == .i64 ? 0x1p63 : 0x1p31
            var out: [UInt8] = []
            out.reserveCapacity(dtype.size * values.count)
            for (i, v) in values.enumerated() {
                guard v.isFinite, v.rounded(.towardZero) == v, v >= -limit, v < limit else {
                    throw FileFormatError(.invalidValue,
                        "safetensors: tensor '\(name)' element \(i) is \(v), not a whole number that \(dtype.rawValue) holds")
                }
                out += ByteIO.littleEndian(UInt64(bitPattern: Int64(v)), size: dtype.size)
            }
            return out
        }
    }

    /// `Float`s from `count` little-endian values of `dtype` at `offset` (range checked by the
    /// caller), converted by the rules of ``DataType``.
    private static func decode(_ bytes: [UInt8], offset: Int, count: Int, as dtype: DataType, name: String)
        throws(FileFormatError) -> [Float] {
        if dtype == .f32 { return ByteIO.floats(bytes, offset: offset, count: count) }
        require(offset >= 0 && count >= 0 && offset <= bytes.count && count <= (bytes.count - offset) / dtype.size,
                "internal: safetensors range outside the file")
        func word(_ i: Int) -> UInt64 {
            var v: UInt64 = 0
            let p = offset + i * dtype.size
            for k in (0..<dtype.size).reversed() { v = v << 8 | UInt64(bytes[p + k]) }
            return v
        }
        var out = [Float](repeating: 0, count: count)
        for i in 0..<count {
            let bits = word(i)
            switch dtype {
            case .f32:
                out[i] = Float(bitPattern: UInt32(truncatingIfNeeded: bits))
            case .bf16:
                out[i] = Float(bitPattern: UInt32(truncatingIfNeeded: bits) << 16)
            case .f16:
                out[i] = Self.halfToFloat(UInt16(truncatingIfNeeded: bits))
            case .f64:
                let d = Double(bitPattern: bits)
                let f = Float(d)
                if d.isFinite && !f.isFinite {
                    throw FileFormatError(.invalidValue,
                        "safetensors: tensor '\(name)' element \(i) is \(d), beyond Float's range (±\(Float.greatestFiniteMagnitude))")
                }
                out[i] = f
            case .i64, .i32:
                let v = dtype == .i64 ? Int64(bitPattern: bits) : Int64(Int32(truncatingIfNeeded: bits))
                if v < -(1 << 24) || v > (1 << 24) {
                    throw FileFormatError(.invalidValue,
                        "safetensors: tensor '\(name)' element \(i) is \(v); integers are read into Float only within ±2^24 = 16777216, where each is exact")
                }
                out[i] = Float(v)
            }
        }
        return out
    }

    /// IEEE binary16 → binary32, exactly (subnormals, ±∞ and NaN payloads included).
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = Int((h >> 10) & 0x1F), fraction = UInt32(h & 0x3FF)
        if exponent == 0x1F { return Float(bitPattern: sign | 0x7F80_0000 | fraction << 13) }
        if exponent == 0 {
            // Zero or subnormal: fraction · 2⁻²⁴, exact in binary32.
            let magnitude = Float(fraction) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        }
        return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | fraction << 13)
    }

    /// Writes the file at `path` (atomically).
    public func write(to path: String) throws(FileFormatError) {
        try ByteIO.write(try encoded(), to: path)
    }

    private static func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }

    // MARK: Reading

    /// Most tensors in one file (zero-size tensors included): 64× the largest F32-loadable models'
    /// counts (Llama 3 405B: 1,137 tensors), while the header alone could list millions.
    public static let maximumTensorCount = 65_536
    /// Most `__metadata__` entries.
    public static let maximumMetadataCount = 65_536
    /// Largest rank (NumPy 2's maximum).
    public static let maximumRank = 64

    /// Parses a safetensors file's bytes.
    ///
    /// The JSON header is read in place, in one pass, building only the entries it lists; memory
    /// stays within a small multiple of the file size.
    ///
    /// - Throws: ``FileFormatError``: `.truncated` (shorter than 8 bytes, or a header length
    ///   past the end of the file), `.tooLarge` (header over ``maximumHeaderLength``, more than
    ///   ``maximumTensorCount`` tensors or ``maximumMetadataCount`` metadata entries),
    ///   `.malformedHeader` (not a JSON object, missing, mistyped or duplicated fields or names,
    ///   nesting deeper than 64), `.unsupportedType` (a dtype outside ``DataType``), `.invalidValue`
    ///   (a value ``DataType`` cannot convert: an integer beyond ±2²⁴, an `F64` beyond `Float`'s range), `.invalidShape`
    ///   (negative or overflowing dimensions, rank over ``maximumRank``), `.invalidOffsets`
    ///   (reversed, out of range or overlapping offsets), `.inconsistentSize` (offsets that do not
    ///   span `size of dtype · Π shape` bytes).
    public init(parsing bytes: [UInt8]) throws(FileFormatError) {
        var reader = ByteReader(bytes, format: "safetensors")
        let announced = try reader.uintLittleEndian(8, "header length")
        if announced > UInt64(Self.maximumHeaderLength) {
            throw FileFormatError(.tooLarge,
                "safetensors: header length \(announced) exceeds the limit of \(Self.maximumHeaderLength) bytes")
        }
        let headerLength = Int(announced)
        if headerLength > reader.remaining {
            throw FileFormatError(.truncated,
                "safetensors: header length \(headerLength) runs past the end of the file (\(reader.remaining) bytes after the length)")
        }
        let dataStart = 8 + headerLength, dataSize = bytes.count - dataStart
        var json = JSONReader(bytes: bytes, start: 8, end: dataStart)
        var metadata: [String: String] = [:]
        var sawMetadata = false
        var names = Set<String>()
        var entries: [(name: String, dtype: DataType, shape: Shape, begin: Int, end: Int)] = []
        guard json.peek() == UInt8(ascii: "{") else {
            throw FileFormatError(.malformedHeader, "safetensors: header must be a JSON object")
        }
        try json.object { (json, name) throws(FileFormatError) in
            if name == "__metadata__" {
                if sawMetadata { throw json.fail("__metadata__ appears twice") }
                sawMetadata = true
                guard json.peek() == UInt8(ascii: "{") else {
                    throw FileFormatError(.malformedHeader, "safetensors: __metadata__ must be an object of strings")
                }
                try json.object { (json, key) throws(FileFormatError) in
                    guard json.peek() == UInt8(ascii: "\"") else {
                        throw FileFormatError(.malformedHeader, "safetensors: __metadata__[\(key)] must be a string")
                    }
                    if metadata.count == Self.maximumMetadataCount {
                        throw FileFormatError(.tooLarge, "safetensors: more than \(Self.maximumMetadataCount) __metadata__ entries")
                    }
                    if metadata.updateValue(try json.string(), forKey: key) != nil {
                        throw json.fail("__metadata__ key '\(key)' appears twice")
                    }
                }
                return
            }
            if entries.count == Self.maximumTensorCount {
                throw FileFormatError(.tooLarge, "safetensors: more than \(Self.maximumTensorCount) tensors")
            }
            if !names.insert(name).inserted { throw json.fail("tensor name '\(name)' appears twice") }
            entries.append(try Self.entry(&json, name: name, dataSize: dataSize))
        }
        json.skipSpace()
        if !json.atEnd { throw json.fail("only spaces may follow the header object") }
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        for k in entries.indices.dropFirst() where entries[k].begin < entries[k - 1].end {
            throw FileFormatError(.invalidOffsets,
                "safetensors: tensors '\(entries[k - 1].name)' [\(entries[k - 1].begin), \(entries[k - 1].end)) and '\(entries[k].name)' [\(entries[k].begin), \(entries[k].end)) overlap")
        }
        var tensors: [(name: String, tensor: Tensor)] = []
        var dataTypes: [String: DataType] = [:]
        tensors.reserveCapacity(entries.count)
        for e in entries {
            let values = try Self.decode(bytes, offset: dataStart + e.begin, count: e.shape.count, as: e.dtype, name: e.name)
            tensors.append((e.name, Tensor(uncheckedShape: e.shape, scalars: values)))
            if e.dtype.isInteger { dataTypes[e.name] = e.dtype }
        }
        self.tensors = tensors
        self.metadata = metadata
        self.dataTypes = dataTypes
    }

    /// One tensor entry `{"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}`, checked
    /// against the data size.
    private static func entry(_ json: inout JSONReader, name: String, dataSize: Int) throws(FileFormatError)
        -> (name: String, dtype: DataType, shape: Shape, begin: Int, end: Int) {
        guard json.peek() == UInt8(ascii: "{") else {
            throw FileFormatError(.malformedHeader, "safetensors: entry '\(name)' must be an object")
        }
        var dtype: String?, dimensions: [Int]?, offsets: [Int]?
        try json.object { (json, field) throws(FileFormatError) in
            switch field {
            case "dtype":
                if dtype != nil { throw json.fail("entry '\(name)' has two dtypes") }
                guard json.peek() == UInt8(ascii: "\"") else {
                    throw FileFormatError(.malformedHeader, "safetensors: entry '\(name)' lacks a string dtype")
                }
                dtype = try json.string()
            case "shape":
                if dimensions != nil { throw json.fail("entry '\(name)' has two shapes") }
                dimensions = try json.integers(atMost: maximumRank, "shape of '\(name)'", tooMany: .invalidShape)
            case "data_offsets":
                if offsets != nil { throw json.fail("entry '\(name)' has two data_offsets") }
                offsets = try json.integers(atMost: 2, "data_offsets of '\(name)'", tooMany: .malformedHeader)
            default:
                try json.skipValue()
            }
        }
        guard let dtype else {
            throw FileFormatError(.malformedHeader, "safetensors: entry '\(name)' lacks a string dtype")
        }
        guard let type = DataType(rawValue: dtype) else {
            throw FileFormatError(.unsupportedType,
                "safetensors: tensor '\(name)' has dtype \(dtype); ConvKit reads \(DataType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let dimensions else {
            throw FileFormatError(.malformedHeader, "safetensors: entry '\(name)' lacks a shape array")
        }
        let shape: Shape
        do { shape = try Shape(dimensions) } catch {
            throw FileFormatError(.invalidShape, "safetensors: tensor '\(name)': \(error.message)")
        }
        guard let offsets, offsets.count == 2 else {
            throw FileFormatError(.malformedHeader, "safetensors: tensor '\(name)' needs data_offsets [begin, end] of integers")
        }
        let begin = offsets[0], end = offsets[1]
        if begin < 0 || end < begin || end > dataSize {
            throw FileFormatError(.invalidOffsets,
                "safetensors: tensor '\(name)' has data_offsets [\(begin), \(end)], expected 0 <= begin <= end <= \(dataSize) (data size)")
        }
        let (bytesNeeded, overflow) = shape.count.multipliedReportingOverflow(by: type.size)
        if overflow || bytesNeeded != end - begin {
            throw FileFormatError(.inconsistentSize,
                "safetensors: tensor '\(name)' of shape \(shape) and dtype \(type.rawValue) needs \(overflow ? "more than Int.max" : String(bytesNeeded)) bytes, data_offsets span \(end - begin)")
        }
        return (name, type, shape, begin, end)
    }

    /// Reads and parses the file at `path`.
    public init(contentsOf path: String) throws(FileFormatError) {
        let raw = try ByteIO.read(path)
        do { try self.init(parsing: raw) } catch {
            throw FileFormatError(error.reason, "\(path): \(error.message)")
        }
    }
}

/// A one-pass reader of the JSON text (RFC 8259) in `bytes[start..<end]`: it builds only the
/// strings and integers its caller asks for, and skips everything else.
struct JSONReader {
    let bytes: [UInt8]
    let start: Int
    let end: Int
    private(set) var position: Int
    /// Deepest nesting of a skipped value (bounds the recursion).
    static let maximumDepth = 64

    init(bytes: [UInt8], start: Int, end: Int) {
        self.bytes = bytes
        self.start = start
        self.end = end
        position = start
    }

    var atEnd: Bool { position == end }

    func fail(_ what: String) -> FileFormatError {
        FileFormatError(.malformedHeader, "safetensors: header JSON: \(what) (at byte \(position - start) of the header)")
    }

    mutating func skipSpace() {
        while position < end {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    /// The next byte after white space (not consumed).
    mutating func peek() -> UInt8? {
        skipSpace()
        return position < end ? bytes[position] : nil
    }

    private mutating func expect(_ c: Unicode.Scalar) throws(FileFormatError) {
        guard peek() == UInt8(ascii: c) else { throw fail("expected '\(c)'") }
        position += 1
    }

    /// `{"key": value, ...}`: `member` is called with the reader at each value and must read it.
    mutating func object(_ member: (inout JSONReader, String) throws(FileFormatError) -> Void) throws(FileFormatError) {
        try expect("{")
        if peek() == UInt8(ascii: "}") { position += 1; return }
        while true {
            guard peek() == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            let key = try string()
            try expect(":")
            try member(&self, key)
            switch peek() {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "}"): position += 1; return
            default: throw fail("expected ',' or '}' in an object")
            }
        }
    }

    /// `[integer, ...]` with at most `limit` entries (else `tooMany`).
    mutating func integers(atMost limit: Int, _ what: String, tooMany: FileFormatError.Reason) throws(FileFormatError) -> [Int] {
        guard peek() == UInt8(ascii: "[") else {
            throw FileFormatError(.malformedHeader, "safetensors: \(what) must be an array of integers")
        }
        position += 1
        var values: [Int] = []
        if peek() == UInt8(ascii: "]") { position += 1; return values }
        while true {
            if values.count == limit {
                throw FileFormatError(tooMany, "safetensors: \(what) has more than \(limit) entries")
            }
            values.append(try integer(what))
            switch peek() {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "]"): position += 1; return values
            default: throw fail("expected ',' or ']' in an array")
            }
        }
    }

    /// A JSON number that is an integer fitting in `Int` (no fraction, no exponent).
    mutating func integer(_ what: String) throws(FileFormatError) -> Int {
        skipSpace()
        let negative = position < end && bytes[position] == UInt8(ascii: "-")
        if negative { position += 1 }
        let digitsStart = position
        var value = 0, overflow = false
        while position < end, bytes[position] &- 0x30 < 10 {
            let digit = Int(bytes[position] &- 0x30)
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = negative ? times10.subtractingReportingOverflow(digit) : times10.addingReportingOverflow(digit)
            value = next
            overflow = overflow || o1 || o2
            position += 1
        }
        if position == digitsStart {
            throw FileFormatError(.malformedHeader, "safetensors: \(what) must hold integers")
        }
        if bytes[digitsStart] == UInt8(ascii: "0") && position - digitsStart > 1 { throw fail("number with a leading zero") }
        if position < end, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[position]) {
            throw FileFormatError(.malformedHeader, "safetensors: \(what) has a non-integer number")
        }
        if overflow {
            throw FileFormatError(.malformedHeader, "safetensors: \(what) has an integer that does not fit in Int")
        }
        return value
    }

    /// A JSON string, unescaped; it must be valid UTF-8 without lone surrogates.
    mutating func string() throws(FileFormatError) -> String {
        try expect("\"")
        var segment = position
        var unescaped: [UInt8] = []
        var escaped = false
        while true {
            guard position < end else { throw fail("unterminated string") }
            let c = bytes[position]
            if c == UInt8(ascii: "\"") { break }
            if c < 0x20 { throw fail("control character in a string") }
            if c != UInt8(ascii: "\\") { position += 1; continue }
            escaped = true
            unescaped += bytes[segment ..< position]
            position += 1
            guard position < end else { throw fail("unterminated string") }
            let e = bytes[position]
            position += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): unescaped.append(e)
            case UInt8(ascii: "b"): unescaped.append(0x08)
            case UInt8(ascii: "f"): unescaped.append(0x0C)
            case UInt8(ascii: "n"): unescaped.append(0x0A)
            case UInt8(ascii: "r"): unescaped.append(0x0D)
            case UInt8(ascii: "t"): unescaped.append(0x09)
            case UInt8(ascii: "u"):
                var code = try hex4()
                if (0xD800 ..< 0xDC00).contains(code) {  // a high surrogate: a low one must follow
                    guard end - position >= 6, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") else {
                        throw fail("unpaired surrogate in a string")
                    }
                    position += 2
                    let low = try hex4()
                    guard (0xDC00 ..< 0xE000).contains(low) else { throw fail("unpaired surrogate in a string") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let scalar = Unicode.Scalar(code) else { throw fail("unpaired surrogate in a string") }
                unescaped += Array(String(Character(scalar)).utf8)
            default:
                throw fail("invalid escape '\\\(Character(Unicode.Scalar(e)))' in a string")
            }
            segment = position
        }
        let text: String?
        if escaped {
            unescaped += bytes[segment ..< position]
            text = String(validating: unescaped, as: UTF8.self)
        } else {
            text = String(validating: bytes[segment ..< position], as: UTF8.self)
        }
        guard let text else { throw fail("string is not valid UTF-8") }
        position += 1
        return text
    }

    private mutating func hex4() throws(FileFormatError) -> UInt32 {
        guard end - position >= 4 else { throw fail("truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[position]
            let digit: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = c - UInt8(ascii: "A") + 10
            default: throw fail("invalid \\u escape")
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    /// Reads any JSON value without keeping it; nesting is limited to ``maximumDepth``.
    mutating func skipValue(depth: Int = 0) throws(FileFormatError) {
        if depth >= Self.maximumDepth { throw fail("nested deeper than \(Self.maximumDepth) levels") }
        guard let next = peek() else { throw fail("expected a value") }
        switch next {
        case UInt8(ascii: "{"):
            try object { (json: inout JSONReader, _: String) throws(FileFormatError) in try json.skipValue(depth: depth + 1) }
        case UInt8(ascii: "["):
            position += 1
            if peek() == UInt8(ascii: "]") { position += 1; return }
            while true {
                try skipValue(depth: depth + 1)
                switch peek() {
                case UInt8(ascii: ","): position += 1
                case UInt8(ascii: "]"): position += 1; return
                default: throw fail("expected ',' or ']' in an array")
                }
            }
        case UInt8(ascii: "\""): _ = try string()
        case UInt8(ascii: "t"): try word("true")
        case UInt8(ascii: "f"): try word("false")
        case UInt8(ascii: "n"): try word("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try number()
        default: throw fail("expected a value")
        }
    }

    private mutating func word(_ w: String) throws(FileFormatError) {
        for c in w.utf8 {
            guard position < end, bytes[position] == c else { throw fail("expected '\(w)'") }
            position += 1
        }
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    private mutating func number() throws(FileFormatError) {
        func digits(_ reader: inout JSONReader) -> Int {
            let first = reader.position
            while reader.position < reader.end, reader.bytes[reader.position] &- 0x30 < 10 { reader.position += 1 }
            return reader.position - first
        }
        if bytes[position] == UInt8(ascii: "-") { position += 1 }
        let first = position
        let count = digits(&self)
        if count == 0 || (count > 1 && bytes[first] == UInt8(ascii: "0")) { throw fail("invalid number") }
        if position < end, bytes[position] == UInt8(ascii: ".") {
            position += 1
            if digits(&self) == 0 { throw fail("invalid number") }
        }
        if position < end, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            position += 1
            if position < end, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") { position += 1 }
            if digits(&self) == 0 { throw fail("invalid number") }
        }
    }
}
