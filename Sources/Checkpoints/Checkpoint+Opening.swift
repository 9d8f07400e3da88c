import Safetensors

extension Checkpoint {
    /// Opens a checkpoint from a path, reading headers only.
    ///
    /// - Parameters:
    ///   - path: A `.safetensors` file, a diffusers folder, or a component folder.
    ///   - variant: The diffusers weight variant to read (`"fp16"`), or nil for the default weights.
    /// - Returns: The checkpoint with every header validated.
    public static func open(_ path: String, variant: String? = nil) throws(CheckpointError) -> Checkpoint {
        // Single files only for now; folders, shards and variants are added by the opener.
        let header: SafetensorsFile
        do { header = try SafetensorsFile.open(path) } catch { throw CheckpointError(error) }
        return Checkpoint(path: path, storage: .singleFile, files: [File(path: path, folder: nil, header: header)])
    }
}
