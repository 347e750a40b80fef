/// The error thrown when a file (IDX, safetensors, NumPy `.npy`, checkpoint) cannot be read:
/// it says what was expected and what came. Readers never trap on malformed input and never
/// allocate more than the file's own size on the word of a header.
public struct FileFormatError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Reason: String, Hashable, Sendable {
        /// The file could not be opened, read or written.
        case io
        /// The file ends before the header or the data it announces.
        case truncated
        /// The magic number or signature is not the format's.
        case badMagic
        /// A format version this reader does not know.
        case unsupportedVersion
        /// An element type other than the supported ones (safetensors `F32`, `F16`, `BF16`, `F64`,
        /// `I64`, `I32`; NumPy `<f4`; IDX unsigned byte).
        case unsupportedType
        /// A layout other than C order (NumPy `fortran_order: True`).
        case unsupportedLayout
        /// The header is not well-formed (JSON, Python literal, field types).
        case malformedHeader
        /// A dimension is negative, or the element count overflows.
        case invalidShape
        /// Sizes disagree: data length vs shape, file length vs header, trailing bytes.
        case inconsistentSize
        /// Safetensors data offsets are reversed, out of range or overlapping.
        case invalidOffsets
        /// A header larger than the reader's documented cap.
        case tooLarge
        /// A value outside its allowed range (e.g. a label >= the number of classes, an integer
        /// tensor beyond what a `Float` holds exactly).
        case invalidValue
        /// A checkpoint lacks a tensor the model needs, or holds one of the wrong shape.
        case modelMismatch
    }

    public let reason: Reason
    public let message: String

    public init(_ reason: Reason, _ message: String) {
        self.reason = reason
        self.message = message
    }

    public var description: String { "FileFormatError.\(reason.rawValue): \(message)" }
}
