import Dispatch

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
        let results = ResultSlots(count: 2)
        DispatchQueue.concurrentPerform(iterations: 2) { index in
            let side = sides[index]
            results.set(index, Result { () throws(CheckpointError) in try OpenedCheckpoint(side.path, variant: side.variant) })
        }
        return (try results.get(0), try results.get(1))
    }
}

/// Result slots written by concurrent threads, each slot by one thread, then read after all finished.
private final class ResultSlots: @unchecked Sendable {
    private let slots: UnsafeMutablePointer<Result<OpenedCheckpoint, CheckpointError>?>
    private let count: Int

    init(count: Int) {
        self.count = count
        slots = .allocate(capacity: count)
        slots.initialize(repeating: nil, count: count)
    }

    deinit {
        slots.deinitialize(count: count)
        slots.deallocate()
    }

    /// Stores slot `index`; each index is written by exactly one thread of a `concurrentPerform`.
    func set(_ index: Int, _ result: Result<OpenedCheckpoint, CheckpointError>) {
        slots[index] = result
    }

    func get(_ index: Int) throws(CheckpointError) -> OpenedCheckpoint {
        guard let result = slots[index] else { preconditionFailure("slot \(index) was not written") }
        return try result.get()
    }
}
