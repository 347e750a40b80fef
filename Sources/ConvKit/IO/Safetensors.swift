import Foundation

/// Named tensors in the safetensors format (Hugging Face), so that weights move to and from
/// Python (`safetensors.torch.load_file` / `save_file`).
///
/// Layout: 8-byte little-endian header length `L`; `L` bytes of JSON
/// `{name: {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {str: str}}`
/// (padded with spaces to a multiple of 8); then the data, raw little-endian binary32, each
/// tensor at `[begin, end)` relative to the start of the data.
///
/// Only `F32` is read. The reader checks, before allocating anything the header asks for,
/// that every range lies inside the file, matches its shape (`end − begin = 4·Π shape`) and
/// does not overlap another.
public struct Safetensors: Sendable, Equatable {
    /// The tensors in file order (ascending data offset).
    public var tensors: [(name: String, tensor: Tensor)]
    /// The optional `"__metadata__"` string map.
    public var metadata: [String: String]

    /// Largest header accepted (the reference implementation's cap).
    public static let maximumHeaderLength = 100_000_000

    public init(tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    public static func == (a: Safetensors, b: Safetensors) -> Bool {
        a.metadata == b.metadata && a.tensors.count == b.tensors.count
            && zip(a.tensors, b.tensors).allSatisfy { $0.name == $1.name && $0.tensor == $1.tensor }
    }

    /// The tensor called `name`, if present.
    public subscript(name: String) -> Tensor? { tensors.first { $0.name == name }?.tensor }

    // MARK: Writing

    /// The file's bytes. Tensors are written in the order given.
    ///
    /// - Throws: ``FileFormatError`` `.malformedHeader` for duplicate or reserved names.
    public func encoded() throws(FileFormatError) -> [UInt8] {
        var seen = Set<String>()
        var entries: [String] = []
        var offset = 0
        for (name, tensor) in tensors {
            if name == "__metadata__" || !seen.insert(name).inserted {
                throw FileFormatError(.malformedHeader, "safetensors: tensor name '\(name)' is reserved or duplicated")
            }
            let end = offset + 4 * tensor.count
            let shape = tensor.shape.dimensions.map(String.init).joined(separator: ",")
            entries.append("\(Self.jsonString(name)):{\"dtype\":\"F32\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}")
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
        for (_, tensor) in tensors { out += ByteIO.float32LittleEndian(tensor.scalars) }
        return out
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

    /// Parses a safetensors file's bytes.
    ///
    /// - Throws: ``FileFormatError``: `.truncated` (shorter than 8 bytes, or a header length
    ///   past the end of the file), `.tooLarge` (header over ``maximumHeaderLength``),
    ///   `.malformedHeader` (not a JSON object, missing or mistyped fields), `.unsupportedType`
    ///   (a dtype other than `F32`), `.invalidShape` (negative or overflowing dimensions),
    ///   `.invalidOffsets` (reversed, out of range or overlapping offsets), `.inconsistentSize`
    ///   (offsets that do not span `4·Π shape` bytes).
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
        let headerBytes = try reader.take(headerLength, "header")
        let dataStart = 8 + headerLength, dataSize = bytes.count - dataStart
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: Data(headerBytes), options: [])
        } catch {
            throw FileFormatError(.malformedHeader, "safetensors: header is not valid JSON (\(headerLength) bytes)")
        }
        guard let object = root as? [String: Any] else {
            throw FileFormatError(.malformedHeader, "safetensors: header must be a JSON object")
        }
        var metadata: [String: String] = [:]
        var entries: [(name: String, shape: Shape, begin: Int, end: Int)] = []
        for (name, value) in object {
            if name == "__metadata__" {
                guard let map = value as? [String: Any] else {
                    throw FileFormatError(.malformedHeader, "safetensors: __metadata__ must be an object of strings")
                }
                for (k, v) in map {
                    guard let s = v as? String else {
                        throw FileFormatError(.malformedHeader, "safetensors: __metadata__[\(k)] must be a string")
                    }
                    metadata[k] = s
                }
                continue
            }
            guard let info = value as? [String: Any] else {
                throw FileFormatError(.malformedHeader, "safetensors: entry '\(name)' must be an object")
            }
            guard let dtype = info["dtype"] as? String else {
                throw FileFormatError(.malformedHeader, "safetensors: entry '\(name)' lacks a string dtype")
            }
            if dtype != "F32" {
                throw FileFormatError(.unsupportedType, "safetensors: tensor '\(name)' has dtype \(dtype), only F32 is supported")
            }
            guard let rawShape = info["shape"] as? [Any] else {
                throw FileFormatError(.malformedHeader, "safetensors: entry '\(name)' lacks a shape array")
            }
            var dimensions: [Int] = []
            for d in rawShape {
                guard let v = Self.integer(d) else {
                    throw FileFormatError(.malformedHeader, "safetensors: tensor '\(name)' has a non-integer dimension \(d)")
                }
                dimensions.append(v)
            }
            let shape: Shape
            do { shape = try Shape(dimensions) } catch {
                throw FileFormatError(.invalidShape, "safetensors: tensor '\(name)': \(error.message)")
            }
            guard let offsets = info["data_offsets"] as? [Any], offsets.count == 2,
                  let begin = Self.integer(offsets[0]), let end = Self.integer(offsets[1]) else {
                throw FileFormatError(.malformedHeader, "safetensors: tensor '\(name)' needs data_offsets [begin, end] of integers")
            }
            if begin < 0 || end < begin || end > dataSize {
                throw FileFormatError(.invalidOffsets,
                    "safetensors: tensor '\(name)' has data_offsets [\(begin), \(end)], expected 0 <= begin <= end <= \(dataSize) (data size)")
            }
            let (bytesNeeded, overflow) = shape.count.multipliedReportingOverflow(by: 4)
            if overflow || bytesNeeded != end - begin {
                throw FileFormatError(.inconsistentSize,
                    "safetensors: tensor '\(name)' of shape \(shape) needs \(overflow ? "more than Int.max" : String(bytesNeeded)) bytes, data_offsets span \(end - begin)")
            }
            entries.append((name, shape, begin, end))
        }
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        for k in entries.indices.dropFirst() where entries[k].begin < entries[k - 1].end {
            throw FileFormatError(.invalidOffsets,
                "safetensors: tensors '\(entries[k - 1].name)' [\(entries[k - 1].begin), \(entries[k - 1].end)) and '\(entries[k].name)' [\(entries[k].begin), \(entries[k].end)) overlap")
        }
        var tensors: [(name: String, tensor: Tensor)] = []
        for e in entries {
            let values = ByteIO.floats(bytes, offset: dataStart + e.begin, count: e.shape.count)
            tensors.append((e.name, Tensor(uncheckedShape: e.shape, scalars: values)))
        }
        self.tensors = tensors
        self.metadata = metadata
    }

    /// Reads and parses the file at `path`.
    public init(contentsOf path: String) throws(FileFormatError) {
        let raw = try ByteIO.read(path)
        do { try self.init(parsing: raw) } catch {
            throw FileFormatError(error.reason, "\(path): \(error.message)")
        }
    }

    /// An exact integer from a JSON number: Foundation reports integers with an integer
    /// `objCType` (`i`, `q`, …); booleans (`c`), fractions and huge values (`d`) are refused.
    private static func integer(_ value: Any) -> Int? {
        guard let number = value as? NSNumber, !(value is NSDecimalNumber) else { return nil }
        let type = String(cString: number.objCType)
        guard ["i", "q", "l", "s", "I", "Q", "L", "S"].contains(type) else { return nil }
        return value as? Int
    }
}
