import CKDiffParallel

/// A checkpoint opened together with what its names and shapes say: its key scheme and identity.
///
/// Every stage after opening (alignment, the live-or-EMA analysis, the report) reads these;
/// they are read once here, and for two checkpoints on two threads.
public struct OpenedCheckpoint: Sendable {
    /// The checkpoint (headers only).
    public let checkpoint: Checkpoint
    /// Its scheme as read from the names, before any EMA selection (``KeyScheme/init(_:)``).
    public let scheme: KeyScheme
    /// Its layout, architecture and components (``Checkpoint/identify()``).
    public let identity: CheckpointIdentity

    /// Opens the checkpoint at `path` (see ``Checkpoint/open(_:variant:)``) and reads its scheme and identity.
    public init(_ path: String, variant: String? = nil) throws(CheckpointError) {
        checkpoint = try Checkpoint.open(path, variant: variant)
        scheme = KeyScheme(checkpoint)
        identity = checkpoint.identify()
    }

    /// Opens two checkpoints at once, one per thread.
    ///
    /// - Throws: The first side's ``CheckpointError`` when both fail, so the message does not
    ///   depend on which thread finished first.
    public static func openPair(_ a: (path: String, variant: String?), _ b: (path: String, variant: String?))
        throws(CheckpointError) -> (a: OpenedCheckpoint, b: OpenedCheckpoint) {
        let sides = [a, b]
        let opened = try concurrentMap(count: 2) { index throws(CheckpointError) in
            try OpenedCheckpoint(sides[index].path, variant: sides[index].variant)
        }
        return (opened[0], opened[1])
    }
}
