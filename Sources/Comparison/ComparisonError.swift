import Safetensors

/// Why a comparison could not be completed, naming the file or tensor concerned.
public struct ComparisonError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }

    init(_ error: SafetensorsError) {
        self.description = error.description
    }
}
