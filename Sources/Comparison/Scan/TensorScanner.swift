import Checkpoints
import Dispatch
import Safetensors
import Synchronization

/// Counts NaN, infinities and values beyond the F16 range in every tensor of one checkpoint.
///
/// Tensors are read in 1 MiB chunks into per-thread buffers and decoded a block at
/// a time, so memory stays bounded whatever the size of the file. Results land in
/// per-tensor slots, so they are the same for every thread count.
public struct TensorScanner: Sendable {
    /// What was found in one tensor.
    public struct Counts: Sendable, Hashable {
        public var nan = 0
        public var positiveInfinity = 0
        public var negativeInfinity = 0
        /// Finite values with |x| > 65504, the largest F16: what saving as F16 would turn into ±Inf.
        public var beyondF16 = 0

        public var any: Bool { nan + positiveInfinity + negativeInfinity + beyondF16 > 0 }
    }

    public let checkpoint: Checkpoint
    public let threads: Int

    public init(_ checkpoint: Checkpoint, threads: Int = ComparisonOptions.defaultThreads) {
        self.checkpoint = checkpoint
        self.threads = max(1, threads)
    }

    /// Scans every floating-point tensor; other dtypes get zero counts.
    public func run() throws(ComparisonError) -> [Counts] {
        let files = try Comparator.openFiles(checkpoint)
        let tensors = checkpoint.tensors
        let next = Atomic<Int>(0)
        let slots = Mutex<[Result<Counts, ComparisonError>?]>(Array(repeating: nil, count: tensors.count))
        DispatchQueue.concurrentPerform(iterations: min(threads, max(1, tensors.count))) { _ in
            let chunkElements = 1 << 17
            let raw = UnsafeMutableRawPointer.allocate(byteCount: chunkElements * 8, alignment: 64)
            let values = UnsafeMutablePointer<Double>.allocate(capacity: chunkElements)
            defer {
                raw.deallocate()
                values.deallocate()
            }
            while true {
                let index = next.add(1, ordering: .relaxed).oldValue
                if index >= tensors.count { break }
                let info = tensors[index].info
                var counts = Counts()
                var failure: ComparisonError?
                if info.dtype.kind == .floatingPoint {
                    let size = info.dtype.bitSize / 8
                    var position = 0
                    while position < info.elementCount {
                        let n = min(chunkElements, info.elementCount - position)
                        do throws(SafetensorsError) {
                            try files[tensors[index].fileIndex].read(into: raw, count: n * size, at: info.fileOffset + Int64(position * size))
                        } catch {
                            failure = ComparisonError(error)
                            break
                        }
                        info.dtype.decode(raw, count: n, into: values)
                        for i in 0..<n {
                            let v = values[i]
                            if v.isNaN { counts.nan += 1 } else if v == .infinity { counts.positiveInfinity += 1 }
                            else if v == -.infinity { counts.negativeInfinity += 1 } else if abs(v) > 65504 { counts.beyondF16 += 1 }
                        }
                        position += n
                    }
                }
                let result: Result<Counts, ComparisonError> = failure.map { .failure($0) } ?? .success(counts)
                slots.withLock { $0[index] = result }
            }
        }
        var out: [Counts] = []
        out.reserveCapacity(tensors.count)
        for result in slots.withLock({ $0 }) {
            switch result {
            case .success(let counts): out.append(counts)
            case .failure(let error): throw error
            case nil: throw ComparisonError("internal error: a tensor was not scanned")
            }
        }
        return out
    }
}
