/// A gzip (RFC 1952) / DEFLATE (RFC 1951) decoder in plain Swift, so that `.gz` IDX files read
/// without a zlib system-library target. Written for robustness rather than speed (one bit at a
/// time through canonical-Huffman tables, as in zlib's `puff.c`): every read is bounds-checked,
/// corrupt input throws ``FileFormatError``, and the output is capped (`maximumOutput`) against
/// decompression bombs. The CRC-32 and length in each member's trailer are verified.
enum Gzip {
    /// Default cap on the decompressed size: 1 GiB.
    static let defaultMaximumOutput = 1 << 30

    /// Most bytes one byte of deflate data can expand to: 4 matches of 258 bytes, 2 bits each.
    static let maximumExpansion = 1032

    static func isGzip(_ bytes: [UInt8]) -> Bool { bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b }

    /// The concatenated contents of every gzip member in `bytes`.
    ///
    /// `announcedSize` sees the output while its size is unknown and returns the total size the
    /// data's own header announces (nil until that header is complete), or throws for a bad
    /// header. From then on the output is never allowed, nor allocated, past that size.
    static func decompress(_ bytes: [UInt8], maximumOutput: Int = defaultMaximumOutput,
                           announcedSize: ((_ prefix: [UInt8]) throws(FileFormatError) -> Int?)? = nil) throws(FileFormatError) -> [UInt8] {
        let (bound, overflow) = bytes.count.multipliedReportingOverflow(by: maximumExpansion)
        var output = Output(cap: maximumOutput, reserveBound: overflow ? Int.max : bound, announcedSize: announcedSize)
        var position = 0
        repeat {
            position = try member(bytes, at: position, into: &output)
        } while position < bytes.count
        return output.bytes
    }

    /// The decoder's output: appends never grow the buffer past `limit` (the cap, then the size
    /// the data announces), and check that size as soon as the data's header is complete.
    struct Output {
        private(set) var bytes: [UInt8] = []
        let cap: Int
        /// Reserved at once when the size becomes known, at most: the deflate data's maximum expansion.
        let reserveBound: Int
        let announcedSize: ((_ prefix: [UInt8]) throws(FileFormatError) -> Int?)?
        private(set) var limit: Int
        private(set) var announced: Int?
        private static let zeros = [UInt8](repeating: 0, count: 258)

        init(cap: Int, reserveBound: Int, announcedSize: ((_ prefix: [UInt8]) throws(FileFormatError) -> Int?)?) {
            self.cap = cap
            self.reserveBound = reserveBound
            self.announcedSize = announcedSize
            limit = cap
        }

        var count: Int { bytes.count }

        /// Room for `n` more bytes, or the error for going past the limit.
        @inline(__always)
        mutating func reserve(_ n: Int) throws(FileFormatError) {
            if n > limit - bytes.count {
                if let announced {
                    throw Gzip.fail(.inconsistentSize, "decompressed data is longer than the \(announced) bytes its header announces")
                }
                throw Gzip.fail(.tooLarge, "decompressed data exceeds \(cap) bytes")
            }
            if n > bytes.capacity - bytes.count {
                bytes.reserveCapacity(Swift.min(limit, Swift.max(bytes.count + n, 2 * bytes.capacity, 4096)))
            }
        }

        /// After each append while the size is unknown: asks the data's header.
        @inline(__always)
        mutating func appended() throws(FileFormatError) {
            if announced == nil, let announcedSize { try checkAnnounced(announcedSize) }
        }

        private mutating func checkAnnounced(_ announcedSize: (_ prefix: [UInt8]) throws(FileFormatError) -> Int?) throws(FileFormatError) {
            guard let total = try announcedSize(bytes) else { return }
            if total > cap { throw Gzip.fail(.tooLarge, "the data's header announces \(total) bytes, over the cap of \(cap)") }
            if total < bytes.count {
                throw Gzip.fail(.inconsistentSize, "decompressed data is longer than the \(total) bytes its header announces")
            }
            announced = total
            limit = total
            bytes.reserveCapacity(Swift.min(total, Swift.max(reserveBound, bytes.count)))
        }

        @inline(__always)
        mutating func literal(_ byte: UInt8) throws(FileFormatError) {
            try reserve(1)
            bytes.append(byte)
            try appended()
        }

        /// Appends `length` bytes copied from `distance` back (the ranges may overlap).
        mutating func match(distance: Int, length: Int) throws(FileFormatError) {
            if distance > bytes.count { throw Gzip.fail(.malformedHeader, "distance \(distance) reaches before the start of the data") }
            try reserve(length)
            let start = bytes.count
            bytes += Output.zeros[..<length]  // (contiguous: a memcpy, then overwritten below)
            bytes.withUnsafeMutableBufferPointer { p in
                let base = UnsafeMutableRawPointer(p.baseAddress!)
                let from = start - distance
                var done = 0
                while done < length {  // the source [from, start + done) repeats with period `distance`
                    let chunk = Swift.min(length - done, start + done - from)
                    (base + start + done).copyMemory(from: base + from, byteCount: chunk)
                    done += chunk
                }
            }
            try appended()
        }

        mutating func stored(_ source: ArraySlice<UInt8>) throws(FileFormatError) {
            try reserve(source.count)
            bytes += source
            try appended()
        }
    }

    private static func fail(_ reason: FileFormatError.Reason, _ message: String) -> FileFormatError {
        FileFormatError(reason, "gzip: \(message)")
    }

    /// Decodes one member starting at `start`; returns the position after its trailer.
    private static func member(_ bytes: [UInt8], at start: Int, into output: inout Output) throws(FileFormatError) -> Int {
        var p = start
        func need(_ n: Int, _ what: String) throws(FileFormatError) {
            if n > bytes.count - p { throw fail(.truncated, "\(what) runs past the end of the file (offset \(p))") }
        }
        try need(10, "header")
        if bytes[p] != 0x1f || bytes[p + 1] != 0x8b { throw fail(.badMagic, "member at offset \(p) does not start with 1f 8b") }
        if bytes[p + 2] != 8 { throw fail(.unsupportedType, "compression method \(bytes[p + 2]) (expected 8, deflate)") }
        let flags = bytes[p + 3]
        if flags & 0xE0 != 0 { throw fail(.malformedHeader, "reserved header flags set (0x\(String(flags, radix: 16)))") }
        p += 10
        if flags & 0x04 != 0 {  // FEXTRA
            try need(2, "extra-field length")
            let length = Int(bytes[p]) | Int(bytes[p + 1]) << 8
            p += 2
            try need(length, "extra field")
            p += length
        }
        for flag in [UInt8(0x08), 0x10] where flags & flag != 0 {  // FNAME, FCOMMENT: zero-terminated
            while true {
                try need(1, "file name or comment")
                p += 1
                if bytes[p - 1] == 0 { break }
            }
        }
        if flags & 0x02 != 0 { try need(2, "header CRC"); p += 2 }  // FHCRC (not checked)
        let first = output.count
        var reader = BitReader(bytes: bytes, position: p)
        try inflate(&reader, into: &output)
        p = reader.bytePositionAfterAlignment
        try need(8, "trailer")
        let crc = UInt32(bytes[p]) | UInt32(bytes[p + 1]) << 8 | UInt32(bytes[p + 2]) << 16 | UInt32(bytes[p + 3]) << 24
        let size = UInt32(bytes[p + 4]) | UInt32(bytes[p + 5]) << 8 | UInt32(bytes[p + 6]) << 16 | UInt32(bytes[p + 7]) << 24
        let produced = output.count - first
        if UInt32(truncatingIfNeeded: produced) != size {
            throw fail(.inconsistentSize, "trailer says \(size) bytes (mod 2^32), decoded \(produced)")
        }
        let actual = CRC32.checksum(output.bytes[first...])
        if actual != crc {
            throw fail(.inconsistentSize, "CRC-32 mismatch: trailer 0x\(String(crc, radix: 16)), data 0x\(String(actual, radix: 16))")
        }
        return p + 8
    }

    // MARK: DEFLATE

    struct BitReader {
        let bytes: [UInt8]
        var position: Int
        var buffer: UInt32 = 0
        var available = 0

        init(bytes: [UInt8], position: Int) {
            self.bytes = bytes
            self.position = position
        }

        /// `count` bits (0...16), least significant first.
        @inline(__always)
        mutating func bits(_ count: Int) throws(FileFormatError) -> Int {
            while available < count {
                guard position < bytes.count else { throw Gzip.fail(.truncated, "deflate stream ends early") }
                buffer |= UInt32(bytes[position]) << UInt32(available)
                position += 1
                available += 8
            }
            let value = Int(buffer & ((1 << UInt32(count)) - 1))
            buffer >>= UInt32(count)
            available -= count
            return value
        }

        mutating func alignToByte() {
            buffer = 0
            available = 0
        }

        /// The byte position once the partial byte in the buffer is dropped.
        var bytePositionAfterAlignment: Int { position - available / 8 }
    }

    /// A canonical Huffman code: `counts[length]` codes of each length, `symbols` sorted by code.
    struct Huffman {
        var counts = [Int](repeating: 0, count: 16)
        var symbols: [Int] = []

        /// Builds the code from code lengths (0 = unused). Throws for an over-subscribed set.
        init(lengths: ArraySlice<Int>) throws(FileFormatError) {
            for l in lengths { counts[l] += 1 }
            counts[0] = 0
            var left = 1
            for l in 1..<16 {
                left <<= 1
                left -= counts[l]
                if left < 0 { throw Gzip.fail(.malformedHeader, "over-subscribed Huffman code") }
            }
            var offsets = [Int](repeating: 0, count: 16)
            for l in 1..<15 { offsets[l + 1] = offsets[l] + counts[l] }
            symbols = [Int](repeating: 0, count: lengths.count)
            for (symbol, l) in lengths.enumerated() where l != 0 {
                symbols[offsets[l]] = symbol
                offsets[l] += 1
            }
        }

        @inline(__always)
        func decode(_ reader: inout BitReader) throws(FileFormatError) -> Int {
            var code = 0, first = 0, index = 0
            for length in 1..<16 {
                code |= try reader.bits(1)
                let count = counts[length]
                if code - first < count { return symbols[index + code - first] }
                index += count
                first += count
                first <<= 1
                code <<= 1
            }
            throw Gzip.fail(.malformedHeader, "invalid Huffman code in deflate stream")
        }
    }

    static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    static let distanceBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769,
                               1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    static let distanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
    static let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    static func inflate(_ reader: inout BitReader, into output: inout Output) throws(FileFormatError) {
        var last = false
        while !last {
            last = try reader.bits(1) == 1
            switch try reader.bits(2) {
            case 0: try stored(&reader, into: &output)
            case 1:
                var lengths = [Int](repeating: 8, count: 288)
                for i in 144..<256 { lengths[i] = 9 }
                for i in 256..<280 { lengths[i] = 7 }
                let literals = try Huffman(lengths: lengths[...])
                let distances = try Huffman(lengths: [Int](repeating: 5, count: 30)[...])
                try codes(&reader, literals, distances, into: &output)
            case 2:
                let (literals, distances) = try dynamicTables(&reader)
                try codes(&reader, literals, distances, into: &output)
            default:
                throw fail(.malformedHeader, "reserved deflate block type 3")
            }
        }
    }

    private static func stored(_ reader: inout BitReader, into output: inout Output) throws(FileFormatError) {
        let position = reader.bytePositionAfterAlignment
        reader.alignToByte()
        reader.position = position
        let bytes = reader.bytes
        if bytes.count - position < 4 { throw fail(.truncated, "stored block header runs past the end") }
        let length = Int(bytes[position]) | Int(bytes[position + 1]) << 8
        let complement = Int(bytes[position + 2]) | Int(bytes[position + 3]) << 8
        if length != (~complement & 0xffff) { throw fail(.malformedHeader, "stored block length \(length) does not match its complement") }
        if bytes.count - position - 4 < length { throw fail(.truncated, "stored block of \(length) bytes runs past the end") }
        try output.stored(bytes[(position + 4)..<(position + 4 + length)])
        reader.position = position + 4 + length
    }

    private static func dynamicTables(_ reader: inout BitReader) throws(FileFormatError) -> (Huffman, Huffman) {
        let literalCount = try reader.bits(5) + 257
        let distanceCount = try reader.bits(5) + 1
        let codeLengthCount = try reader.bits(4) + 4
        if literalCount > 286 || distanceCount > 30 {
            throw fail(.malformedHeader, "dynamic block with \(literalCount) literal/length and \(distanceCount) distance codes")
        }
        var codeLengths = [Int](repeating: 0, count: 19)
        for i in 0..<codeLengthCount { codeLengths[codeLengthOrder[i]] = try reader.bits(3) }
        let codeLengthCode = try Huffman(lengths: codeLengths[...])
        var lengths = [Int](repeating: 0, count: literalCount + distanceCount)
        var i = 0
        while i < lengths.count {
            let symbol = try codeLengthCode.decode(&reader)
            var repeatValue = 0, repeatCount = 0
            switch symbol {
            case 0..<16:
                lengths[i] = symbol
                i += 1
                continue
            case 16:
                if i == 0 { throw fail(.malformedHeader, "repeat code with no previous length") }
                repeatValue = lengths[i - 1]
                repeatCount = 3 + (try reader.bits(2))
            case 17: repeatCount = 3 + (try reader.bits(3))
            default: repeatCount = 11 + (try reader.bits(7))
            }
            if i + repeatCount > lengths.count { throw fail(.malformedHeader, "code lengths overflow the table") }
            for _ in 0..<repeatCount { lengths[i] = repeatValue; i += 1 }
        }
        if lengths[256] == 0 { throw fail(.malformedHeader, "dynamic block without an end-of-block code") }
        return (try Huffman(lengths: lengths[0..<literalCount]), try Huffman(lengths: lengths[literalCount...]))
    }

    private static func codes(_ reader: inout BitReader, _ literals: Huffman, _ distances: Huffman,
                              into output: inout Output) throws(FileFormatError) {
        while true {
            let symbol = try literals.decode(&reader)
            if symbol < 256 {
                try output.literal(UInt8(symbol))
                continue
            }
            if symbol == 256 { return }
            let li = symbol - 257
            if li >= 29 { throw fail(.malformedHeader, "invalid length symbol \(symbol)") }
            let length = lengthBase[li] + (try reader.bits(lengthExtra[li]))
            let di = try distances.decode(&reader)
            if di >= 30 { throw fail(.malformedHeader, "invalid distance symbol \(di)") }
            let distance = distanceBase[di] + (try reader.bits(distanceExtra[di]))
            try output.match(distance: distance, length: length)
        }
    }
}

/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as in gzip's trailer; eight bytes a
/// step through eight tables ("slicing-by-8").
enum CRC32 {
    /// `table[k * 256 + n]`: the CRC of byte `n` followed by `k` zero bytes.
    static let table: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for n in 0..<256 {
            var c = UInt32(n)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            t[n] = c
        }
        for k in 1..<8 {
            for n in 0..<256 { t[k * 256 + n] = (t[(k - 1) * 256 + n] >> 8) ^ t[Int(t[(k - 1) * 256 + n] & 0xff)] }
        }
        return t
    }()

    static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        table.withUnsafeBufferPointer { t in
            bytes.withUnsafeBufferPointer { b in
                var i = 0
                while b.count - i >= 8 {
                    let lo = crc ^ (UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24)
                    let hi = UInt32(b[i + 4]) | UInt32(b[i + 5]) << 8 | UInt32(b[i + 6]) << 16 | UInt32(b[i + 7]) << 24
                    crc = t[7 * 256 + Int(lo & 0xff)] ^ t[6 * 256 + Int((lo >> 8) & 0xff)]
                        ^ t[5 * 256 + Int((lo >> 16) & 0xff)] ^ t[4 * 256 + Int(lo >> 24)]
                        ^ t[3 * 256 + Int(hi & 0xff)] ^ t[2 * 256 + Int((hi >> 8) & 0xff)]
                        ^ t[256 + Int((hi >> 16) & 0xff)] ^ t[Int(hi >> 24)]
                    i += 8
                }
                while i < b.count {
                    crc = t[Int((crc ^ UInt32(b[i])) & 0xff)] ^ (crc >> 8)
                    i += 1
                }
            }
        }
        return crc ^ 0xFFFF_FFFF
    }
}
