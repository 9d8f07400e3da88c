import Safetensors
import TorchPickle

/// Why a checkpoint could not be opened, naming the path concerned.
public struct CheckpointError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: Sendable, Equatable {
        /// A safetensors file inside the checkpoint was refused.
        case safetensors(SafetensorsError)
        /// A legacy PyTorch file was refused.
        case torchPickle(TorchPickleError)
        /// The path does not exist.
        case notFound
        /// The path exists but ckdiff does not know how to read it.
        case unsupported(String)
        /// A folder, index or config is inconsistent; the text says how.
        case invalid(String)
    }

    /// The path concerned (a file, folder or index).
    public var path: String
    public var kind: Kind

    public init(path: String, kind: Kind) {
        self.path = path
        self.kind = kind
    }

    public init(_ error: SafetensorsError) {
        self.path = error.file
        self.kind = .safetensors(error)
    }

    public init(_ error: TorchPickleError) {
        self.path = error.file
        self.kind = .torchPickle(error)
    }

    /// One line naming the path; folder and tensor names from the inputs are echoed through
    /// ``Printable`` (control characters become `?`), so the line cannot drive the terminal.
    public var description: String {
        switch kind {
        case .safetensors(let error): return error.description
        case .torchPickle(let error): return error.description
        case .notFound: return Printable.line("\(path): no such file or directory")
        case .unsupported(let text), .invalid(let text): return Printable.line("\(path): \(text)")
        }
    }
}
