/// Keeps opening inside the folder it was given: refuses symbolic links that lead out of it.
///
/// A diffusers folder is read as a unit, so a link such as `unet -> ../other/unet`
/// or a weight file linked to a file elsewhere would silently compare something the
/// folder does not hold. Every folder and file opening reads is resolved with
/// `realpath` and must lie under the folder's own resolved path.
///
/// One exception keeps Hugging Face caches readable: a snapshot folder
/// (`…/models--org--name/snapshots/<revision>/`, or a folder inside one) links its
/// files to `…/models--org--name/blobs/`, so that repository's `blobs/` folder is
/// inside too.
struct FolderGuard: Sendable {
    /// The folder as given.
    let root: String
    /// The folder with every link resolved.
    let resolvedRoot: String
    /// Resolved folders whose contents count as inside.
    let allowedAreas: [String]

    /// Guards `root`, which must exist.
    init(root: String) throws(CheckpointError) {
        guard let resolved = FileSystem.resolvedPath(root) else {
            throw CheckpointError(path: root, kind: .notFound)
        }
        self.root = root
        self.resolvedRoot = resolved
        var areas = [resolved]
        let parts = resolved.split(separator: "/", omittingEmptySubsequences: true)
        if let snapshots = parts.indices.last(where: { index in
            parts[index] == "snapshots" && index >= 1 && index + 1 < parts.count
                && (parts[index - 1].hasPrefix("models--") || parts[index - 1].hasPrefix("datasets--"))
        }) {
            areas.append("/" + parts[..<snapshots].joined(separator: "/") + "/blobs")
        }
        self.allowedAreas = areas
    }

    /// Refuses `path` (inside the folder as written) if it resolves outside the folder.
    ///
    /// - Parameters:
    ///   - path: The path as opening builds it (`root/unet/diffusion_pytorch_model.safetensors`).
    func check(_ path: String) throws(CheckpointError) {
        guard let resolved = FileSystem.resolvedPath(path) else {
            throw CheckpointError(path: path, kind: .notFound)
        }
        for area in allowedAreas where resolved == area || resolved.hasPrefix(area == "/" ? "/" : area + "/") {
            return
        }
        throw CheckpointError(path: path, kind: .invalid(
            "resolves through a symbolic link to \(resolved), outside the folder \(resolvedRoot); "
                + "ckdiff reads only files inside the folder it is given (copy the file in, or open it directly)"))
    }
}
