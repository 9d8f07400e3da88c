import Checkpoints
import Dispatch
import Safetensors
import Synchronization

/// Streams ``ComparisonJobs`` through the kernels and returns one ``TensorComparison`` per job.
///
/// Both checkpoints are read once, in chunks, with positioned reads into small
/// per-thread buffers: memory is bounded by chunk size × threads, never by the
/// size of a checkpoint. Each tensor is cut into units of a fixed number of
/// elements; threads take units in any order, and unit results are merged in
/// tensor order, so the report is the same for every thread count.
///
/// Pairs of the same dtype are first compared byte for byte (the common case of a
/// lossless rename) and decoded only where the bytes differ. The jobs carry their
/// checkpoints (they are derived from an ``Alignment``), so there is no separate pair of
/// checkpoints to mismatch.
public struct Comparator: Sendable {
    public let options: ComparisonOptions

    public init(options: ComparisonOptions = ComparisonOptions()) {
        self.options = options
    }

    /// Elements read per positioned read and side.
    static let chunkElements = 1 << 17

    /// Compares every pair of an alignment.
    ///
    /// - Parameter progress: Called from worker threads with (bytes done, bytes in all) after each unit.
    /// - Returns: Each pair's comparison, filed under its ``PairID``.
    public func compare(_ alignment: Alignment,
                        progress: (@Sendable (Int64, Int64) -> Void)? = nil) throws(ComparisonError) -> PairTable<TensorComparison> {
        let results = try run(alignment.jobs, progress: progress)
        guard results.indices.allSatisfy({ results[$0].tag == alignment.pairs[$0].id }) else {
            throw ComparisonError("internal error: comparisons came back out of pair order")
        }
        do { return try alignment.table(results.map(\.comparison)) } catch { throw ComparisonError(error.description) }
    }

    /// Runs jobs.
    ///
    /// - Parameter progress: Called from worker threads with (bytes done, bytes in all) after each unit.
    /// - Returns: One comparison per job, with the job's tag, in job order.
    public func run<Tag>(_ list: ComparisonJobs<Tag>,
                         progress: (@Sendable (Int64, Int64) -> Void)? = nil) throws(ComparisonError) -> [Compared<Tag>] {
        let comparisons = try comparisons(list, progress: progress)
        return zip(list.jobs, comparisons).map { Compared(tag: $0.tag, comparison: $1) }
    }

    /// One comparison per job, in job order.
    private func comparisons<Tag>(_ list: ComparisonJobs<Tag>,
                                  progress: (@Sendable (Int64, Int64) -> Void)?) throws(ComparisonError) -> [TensorComparison] {
        BLASThreads.quiet()
        let filesA = try Self.openFiles(list.a)
        let filesB = try Self.openFiles(list.b)
        var jobs: [PairJob] = []
        jobs.reserveCapacity(list.jobs.count)
        for pair in list.jobs {
            jobs.append(try PairJob(pair: pair, a: list.a, b: list.b, filesA: filesA, filesB: filesB, options: options))
        }

        // Units of work: fixed-size stretches of each pair that has values to read.
        var units: [Unit] = []
        for (index, job) in jobs.enumerated() {
            switch job.mode {
            case .skip: continue
            case .transpose:
                units.append(Unit(job: index, start: 0, count: job.elementCount, bytesFirst: false))
            case .bytesOnly where job.dtypeA.bitSize < 8:
                // Sub-byte elements are not split across units.
                units.append(Unit(job: index, start: 0, count: job.elementCount, bytesFirst: true))
            case .bytesFirst, .bytesOnly, .values:
                var start = 0
                repeat {
                    let count = min(options.unitElements, job.elementCount - start)
                    units.append(Unit(job: index, start: start, count: count, bytesFirst: job.mode != .values))
                    start += count
                } while start < job.elementCount
            }
        }
        let totalBytes = units.reduce(Int64(0)) { $0 + Int64($1.count) * Int64(jobs[$1.job].bytesPerElementPair) }
        let done = Atomic<Int64>(0)
        let report: @Sendable (Unit, [PairJob]) -> Void = { unit, jobs in
            guard let progress else { return }
            let bytes = Int64(unit.count) * Int64(jobs[unit.job].bytesPerElementPair)
            let now = done.add(bytes, ordering: .relaxed).newValue
            progress(now, totalBytes)
        }

        var outcomes = try runUnits(units, jobs: jobs, threads: options.threads, report: report)

        // Pairs whose bytes differ somewhere need every unit's sums: redo the identical units with values.
        var differing = Set<Int>()
        for (i, unit) in units.enumerated() where unit.bytesFirst {
            if case .values = outcomes[i] { differing.insert(unit.job) }
        }
        if !differing.isEmpty {
            var redo: [Int] = []
            for (i, unit) in units.enumerated() where differing.contains(unit.job) {
                if case .identical = outcomes[i] { redo.append(i) }
            }
            let again = redo.map { Unit(job: units[$0].job, start: units[$0].start, count: units[$0].count, bytesFirst: false) }
            let redone = try runUnits(again, jobs: jobs, threads: options.threads, report: nil)
            for (k, i) in redo.enumerated() { outcomes[i] = redone[k] }
        }

        // Merge in unit order.
        var merged = [BlockStatistics?](repeating: nil, count: jobs.count)
        var identicalCounts = [(nan: Int, inf: Int)?](repeating: (0, 0), count: jobs.count)
        var bytesDiffer = Set<Int>()
        for (i, unit) in units.enumerated() {
            switch outcomes[i] {
            case .bytesDiffer:
                bytesDiffer.insert(unit.job)
            case .identical(let nan, let inf):
                if let counts = identicalCounts[unit.job] { identicalCounts[unit.job] = (counts.nan + nan, counts.inf + inf) }
            case .values(let stats):
                identicalCounts[unit.job] = nil
                if merged[unit.job] == nil { merged[unit.job] = stats } else { merged[unit.job]?.append(stats) }
            }
        }
        return jobs.enumerated().map { index, job in
            var result = job.template
            if job.mode == .skip { return result }
            if bytesDiffer.contains(index) {
                result.note = "the bytes differ; \(job.dtypeA.name) values are not decoded"
            } else if let stats = merged[index] {
                result.apply(stats)
            } else if let counts = identicalCounts[index] {
                result.applyIdentical(nan: counts.nan, inf: counts.inf)
            }
            return result
        }
    }

    /// Runs units on `threads` workers; each outcome lands in its unit's slot.
    private func runUnits(_ units: [Unit], jobs: [PairJob], threads: Int,
                          report: (@Sendable (Unit, [PairJob]) -> Void)?) throws(ComparisonError) -> [UnitOutcome] {
        let slots = OutcomeSlots(count: units.count)
        let next = Atomic<Int>(0)
        let workers = max(1, min(threads, units.count))
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            let buffers = WorkerBuffers()
            while true {
                let i = next.add(1, ordering: .relaxed).oldValue
                if i >= units.count { break }
                let unit = units[i]
                do throws(ComparisonError) {
                    slots.set(i, .success(try buffers.process(unit, job: jobs[unit.job])))
                } catch {
                    slots.set(i, .failure(error))
                }
                report?(unit, jobs)
            }
        }
        var outcomes: [UnitOutcome] = []
        outcomes.reserveCapacity(units.count)
        for i in 0..<units.count {
            switch slots.take(i) {
            case .success(let outcome): outcomes.append(outcome)
            case .failure(let error): throw error
            case nil: throw ComparisonError("internal error: a unit of work produced no result")
            }
        }
        return outcomes
    }

    static func openFiles(_ checkpoint: Checkpoint) throws(ComparisonError) -> [ReadOnlyFile] {
        var files: [ReadOnlyFile] = []
        for file in checkpoint.files {
            let handle: ReadOnlyFile
            do { handle = try ReadOnlyFile(path: file.path) } catch { throw ComparisonError(error) }
            guard handle.size == file.header.fileSize else {
                throw ComparisonError("\(file.path): file changed size since its header was read (\(file.header.fileSize) → \(handle.size) bytes)")
            }
            handle.adviseSequential()
            files.append(handle)
        }
        return files
    }
}

/// A stretch of one pair's elements, the unit of parallel work.
struct Unit: Sendable {
    var job: Int
    var start: Int
    var count: Int
    /// Compare bytes first and decode only if they differ.
    var bytesFirst: Bool
}

/// What a unit found.
enum UnitOutcome: Sendable {
    /// The bytes are equal; NaN and infinity counts of the (shared) values.
    case identical(nan: Int, inf: Int)
    /// The values were compared.
    case values(BlockStatistics)
    /// The bytes differ and the dtype is not decoded.
    case bytesDiffer
}

/// Per-unit results written by worker threads, each slot by exactly one thread.
private final class OutcomeSlots: @unchecked Sendable {
    private var storage: [Result<UnitOutcome, ComparisonError>?]
    private let lock = Mutex<Void>(())

    init(count: Int) {
        storage = Array(repeating: nil, count: count)
    }

    func set(_ index: Int, _ value: Result<UnitOutcome, ComparisonError>) {
        lock.withLock { _ in storage[index] = value }
    }

    func take(_ index: Int) -> Result<UnitOutcome, ComparisonError>? {
        lock.withLock { _ in storage[index] }
    }
}
