import Foundation

/// Single tensors in NumPy's `.npy` format (`numpy.save` / `numpy.load`).
///
/// Layout: magic `\x93NUMPY`, major and minor version bytes; header length as little-endian
/// uint16 (v1.0) or uint32 (v2.0, v3.0); an ASCII Python dict literal
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }` padded with spaces and `\n`
/// so that the data starts at a multiple of 64; then the data. Only little-endian float32
/// (`'<f4'`) in C order is read; the data must be exactly `4·Π shape` bytes.
public enum NPY {
    /// The bytes of a `.npy` file holding `tensor` (version 1.0, or 2.0 for huge headers).
    public static func encode(_ tensor: Tensor) -> [UInt8] {
        let dims = tensor.shape.dimensions
        let shape = dims.count == 1 ? "(\(dims[0]),)" : "(" + dims.map(String.init).joined(separator: ", ") + ")"
        var dict = Array("{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }".utf8)
        let v1 = dict.count + 1 + 10 <= 65535 + 10
        let prefix = v1 ? 10 : 12
        while (prefix + dict.count + 1) % 64 != 0 { dict.append(0x20) }
        dict.append(0x0A)
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [v1 ? 1 : 2, 0]
        out += ByteIO.littleEndian(UInt64(dict.count), size: v1 ? 2 : 4)
        out += dict
        out += ByteIO.float32LittleEndian(tensor.scalars)
        return out
    }

    /// Writes `tensor` to `path` as `.npy`.
    public static func write(_ tensor: Tensor, to path: String) throws(FileFormatError) {
        try ByteIO.write(encode(tensor), to: path)
    }

    /// Parses a `.npy` file's bytes.
    ///
    /// - Throws: ``FileFormatError``: `.badMagic`, `.unsupportedVersion` (not 1.0/2.0/3.0),
    ///   `.truncated` (header or data shorter than announced), `.malformedHeader` (not a dict
    ///   with `descr`, `fortran_order`, `shape`), `.unsupportedType` (any `descr` but `'<f4'`),
    ///   `.unsupportedLayout` (`fortran_order: True`), `.invalidShape` (negative or overflowing
    ///   dimensions), `.inconsistentSize` (more data than the shape needs).
    /// Longest `.npy` header accepted (bytes).
    public static let maximumHeaderLength = 65_536

    public static func decode(_ bytes: [UInt8]) throws(FileFormatError) -> Tensor {
        var reader = ByteReader(bytes, format: "npy")
        let magic = try reader.take(6, "magic")
        if Array(magic) != [0x93] + Array("NUMPY".utf8) {
            throw FileFormatError(.badMagic, "npy: file must start with \\x93NUMPY")
        }
        let version = try reader.take(2, "version")
        let major = version[version.startIndex], minor = version[version.startIndex + 1]
        let lengthSize: Int
        switch major {
        case 1: lengthSize = 2
        case 2, 3: lengthSize = 4
        default: throw FileFormatError(.unsupportedVersion, "npy: version \(major).\(minor) is not supported (expected 1.0, 2.0 or 3.0)")
        }
        let headerLength = Int(try reader.uintLittleEndian(lengthSize, "header length"))
        // NumPy itself refuses headers over 10,000 bytes by default; a float32 array's header is
        // under 200. Anything past 64 KiB is hostile (the parser keeps ~16 bytes per header byte).
        if headerLength > maximumHeaderLength {
            throw FileFormatError(.tooLarge, "npy: header length \(headerLength) exceeds the limit of \(maximumHeaderLength) bytes")
        }
        let header = try reader.take(headerLength, "header")
        guard let text = String(bytes: header, encoding: .utf8) else {
            throw FileFormatError(.malformedHeader, "npy: header is not UTF-8 text")
        }
        var parser = PythonLiteralParser(text: text)
        let dict = try parser.parseDictionary()
        guard case .string(let descr)? = dict["descr"] else {
            throw FileFormatError(.malformedHeader, "npy: header lacks a string 'descr'")
        }
        guard case .bool(let fortran)? = dict["fortran_order"] else {
            throw FileFormatError(.malformedHeader, "npy: header lacks a boolean 'fortran_order'")
        }
        guard case .tuple(let dims)? = dict["shape"] else {
            throw FileFormatError(.malformedHeader, "npy: header lacks a tuple 'shape'")
        }
        if descr != "<f4" {
            throw FileFormatError(.unsupportedType, "npy: dtype '\(descr)' is not supported (expected '<f4', little-endian float32)")
        }
        if fortran {
            throw FileFormatError(.unsupportedLayout, "npy: fortran_order True is not supported (expected C order)")
        }
        let shape: Shape
        do { shape = try Shape(dims) } catch {
            throw FileFormatError(.invalidShape, "npy: \(error.message)")
        }
        let (needed, overflow) = shape.count.multipliedReportingOverflow(by: 4)
        if overflow || needed > reader.remaining {
            throw FileFormatError(.truncated,
                "npy: shape \(shape) needs \(overflow ? "more than Int.max" : String(needed)) bytes of data, the file holds \(reader.remaining)")
        }
        if needed < reader.remaining {
            throw FileFormatError(.inconsistentSize,
                "npy: shape \(shape) needs \(needed) bytes of data, the file holds \(reader.remaining) (trailing bytes)")
        }
        return Tensor(uncheckedShape: shape, scalars: ByteIO.floats(bytes, offset: reader.offset, count: shape.count))
    }

    /// Reads the `.npy` file at `path`.
    public static func read(_ path: String) throws(FileFormatError) -> Tensor {
        let raw = try ByteIO.read(path)
        do { return try decode(raw) } catch {
            throw FileFormatError(error.reason, "\(path): \(error.message)")
        }
    }
}

/// The subset of Python literals found in `.npy` headers: a dict with string keys whose values
/// are strings, `True`/`False`, or tuples of integers.
struct PythonLiteralParser {
    enum Value: Equatable { case string(String), bool(Bool), tuple([Int]) }

    private let characters: [Character]
    private var position = 0

    init(text: String) { characters = Array(text) }

    private mutating func skipSpace() {
        while position < characters.count, characters[position].isWhitespace { position += 1 }
    }

    private func fail(_ what: String) -> FileFormatError {
        FileFormatError(.malformedHeader, "npy: header dict: expected \(what) at character \(position) of '\(String(characters))'")
    }

    private mutating func expect(_ c: Character) throws(FileFormatError) {
        skipSpace()
        guard position < characters.count, characters[position] == c else { throw fail("'\(c)'") }
        position += 1
    }

    private mutating func peek() -> Character? {
        skipSpace()
        return position < characters.count ? characters[position] : nil
    }

    mutating func parseDictionary() throws(FileFormatError) -> [String: Value] {
        try expect("{")
        var result: [String: Value] = [:]
        while true {
            if peek() == "}" { position += 1; break }
            let key = try parseString()
            try expect(":")
            result[key] = try parseValue()
            if peek() == "," { position += 1; continue }
            try expect("}")
            break
        }
        skipSpace()
        if position != characters.count { throw fail("end of header") }
        return result
    }

    private mutating func parseString() throws(FileFormatError) -> String {
        guard let quote = peek(), quote == "'" || quote == "\"" else { throw fail("a quoted string") }
        position += 1
        var s = ""
        while position < characters.count, characters[position] != quote {
            s.append(characters[position]); position += 1
        }
        if position >= characters.count { throw fail("closing quote") }
        position += 1
        return s
    }

    private mutating func parseValue() throws(FileFormatError) -> Value {
        switch peek() {
        case "'", "\"": return .string(try parseString())
        case "(":
            position += 1
            var items: [Int] = []
            while true {
                if peek() == ")" { position += 1; break }
                items.append(try parseInteger())
                if peek() == "," { position += 1; continue }
                try expect(")")
                break
            }
            return .tuple(items)
        default:
            if matchWord("True") { return .bool(true) }
            if matchWord("False") { return .bool(false) }
            throw fail("a string, a tuple or True/False")
        }
    }

    private mutating func matchWord(_ word: String) -> Bool {
        let w = Array(word)
        guard position + w.count <= characters.count, Array(characters[position ..< position + w.count]) == w else { return false }
        position += w.count
        return true
    }

    private mutating func parseInteger() throws(FileFormatError) -> Int {
        skipSpace()
        var digits = ""
        if position < characters.count, characters[position] == "-" { digits.append("-"); position += 1 }
        while position < characters.count, characters[position].isASCII, characters[position].isNumber {
            digits.append(characters[position]); position += 1
        }
        // Python may write 3L for longs in old files.
        if position < characters.count, characters[position] == "L" { position += 1 }
        guard let v = Int(digits) else {
            throw FileFormatError(.invalidShape, "npy: shape entry '\(digits)' is not an integer that fits in Int")
        }
        return v
    }
}
