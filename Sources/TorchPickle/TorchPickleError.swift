import Safetensors

/// Why a legacy PyTorch file (`.ckpt`, `.pt`, `.pth`, `.bin`) was refused, naming the file and, where
/// there is one, the tensor.
///
/// Every description is one line. A refused pickle global is named exactly as the pickle
/// spells it (`posix.system`, `builtins.eval`), so a user can tell a hostile file from a
/// merely unusual one.
public struct TorchPickleError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong with the file.
    public enum Kind: Sendable, Equatable {
        /// The pickle names a global (a function or class) outside the state-dict allow-list.
        /// ckdiff refuses it without looking it up, let alone calling it.
        case forbiddenGlobal(String)
        /// The zip archive is malformed, truncated, or not laid out as `torch.save` writes it.
        case invalidArchive(String)
        /// A zip entry is compressed or encrypted; `torch.save` stores entries as they are.
        case compressedEntry(entry: String, method: Int)
        /// The pickle stream is malformed or uses an opcode a state dict never needs.
        case invalidPickle(String)
        /// The file is readable but holds a tensor ckdiff cannot compare (non-contiguous,
        /// an unknown dtype, bytes outside its storage).
        case unsupportedTensor(String)
        /// The file declares more than ckdiff allows itself to hold (sizes, nesting, counts).
        case limitExceeded(String)
        /// The format is not one ckdiff reads (tar archives of very old torch, big-endian data).
        case unsupportedFormat(String)
        /// The file could not be read.
        case io(String)
    }

    /// The path of the file, as given.
    public var file: String
    /// The tensor concerned, when the problem is in one tensor.
    public var tensor: String?
    /// What is wrong.
    public var kind: Kind

    public init(file: String, tensor: String? = nil, kind: Kind) {
        self.file = file
        self.tensor = tensor
        self.kind = kind
    }

    /// A read failure of the underlying file, kept on one line.
    init(_ error: SafetensorsError) {
        self.init(file: error.file, kind: .io(error.description))
    }

    /// One line for stderr: the file, the tensor, what is wrong.
    public var description: String {
        var text = file + ": "
        if let tensor { text += "tensor '\(Printable.text(tensor))': " }
        switch kind {
        case .forbiddenGlobal(let name):
            text += "refused: the pickle calls or builds '\(name)', which is not part of a PyTorch state dict (ckdiff executes nothing from pickles)"
        case .invalidArchive(let detail):
            text += "not a valid PyTorch zip checkpoint: \(detail)"
        case .compressedEntry(let entry, let method):
            text += "zip entry '\(entry)' is compressed or encrypted (method \(method)); torch.save stores entries uncompressed and ckdiff does not inflate them"
        case .invalidPickle(let detail):
            text += "not a valid PyTorch pickle: \(detail)"
        case .unsupportedTensor(let detail):
            text += detail
        case .limitExceeded(let detail):
            text += "refused: \(detail)"
        case .unsupportedFormat(let detail):
            text += detail
        case .io(let detail):
            // A SafetensorsError's description already starts with the path.
            return detail.hasPrefix(file + ": ") ? flattened(detail) : flattened(text + detail)
        }
        return flattened(text)
    }

    /// The message on one printable line: names from the file cannot reach the terminal as
    /// control sequences, whatever path built the message (``Printable/line(_:)``).
    private func flattened(_ text: String) -> String {
        Printable.line(text)
    }
}
