import Checkpoints
import Dispatch
import Safetensors
import Synchronization

/// Counts NaN, infinities and values beyond the F16 range in every tensor of one checkpoint.
///
/// Each worker reads tensors in chunks of ``chunkElements`` elements through
/// ``ReadOnlyFile/read(into:count:at:)`` into buffers it reuses, and decodes them with
/// ``DType/decode(_:count:into:)-(_,_,UnsafeMutablePointer<Float>)`` (to `Double` for F64,
/// whose values `Float` cannot hold). Memory is bounded by about 4 MiB per worker whatever
/// the size of the file; a whole tensor is never in memory. Workers take tensors in index
/// order and store counts in per-tensor slots, so the result is the same for every
/// thread count.
public struct TensorScanner: Sendable {
    /// What was found in one tensor.
    public struct Counts: Sendable, Hashable {
        /// NaN values (any payload, either sign).
        public var nan = 0
        /// +Inf values.
        public var positiveInfinity = 0
        /// -Inf values.
        public var negativeInfinity = 0
        /// Finite values with |x| > 65504, the largest finite F16: what saving as F16 would turn into ±Inf.
        public var beyondF16 = 0

        public init(nan: Int = 0, positiveInfinity: Int = 0, negativeInfinity: Int = 0, beyondF16: Int = 0) {
            self.nan = nan
            self.positiveInfinity = positiveInfinity
            self.negativeInfinity = negativeInfinity
            self.beyondF16 = beyondF16
        }

        /// Whether any count is non-zero.
        public var any: Bool { nan + positiveInfinity + negativeInfinity + beyondF16 > 0 }

        /// Adds another tensor's counts.
        public mutating func add(_ other: Counts) {
            nan += other.nan
            positiveInfinity += other.positiveInfinity
            negativeInfinity += other.negativeInfinity
            beyondF16 += other.beyondF16
        }
    }

    /// Elements read per chunk: 1 MiB of F32, 512 KiB of F16/BF16, 2 MiB of F64.
    public static let chunkElements = 1 << 18
    /// The largest finite F16 value.
    public static let f16Max: Float = 65504

    public let checkpoint: Checkpoint
    public let threads: Int

    public init(_ checkpoint: Checkpoint, threads: Int = ComparisonOptions.defaultThreads) {
        self.checkpoint = checkpoint
        self.threads = max(1, threads)
    }

    /// Whether a tensor's values are read: floating-point dtypes ckdiff decodes (integers and
    /// booleans cannot hold NaN or infinities; opaque dtypes are not decoded).
    public static func scans(_ dtype: DType) -> Bool {
        dtype.kind == .floatingPoint
    }

    /// Scans every floating-point tensor; other tensors get zero counts.
    ///
    /// - Returns: The counts of each tensor, by index into ``Checkpoint/tensors``.
    /// - Throws: ``ComparisonError`` naming the file if one cannot be read or changed size
    ///   since its header was read.
    public func run() throws(ComparisonError) -> [Counts] {
        let files = try Comparator.openFiles(checkpoint)
        let tensors = checkpoint.tensors
        let next = Atomic<Int>(0)
        let slots = Mutex<[Result<Counts, ComparisonError>?]>(Array(repeating: nil, count: tensors.count))
        let workers = min(threads, max(1, tensors.count))
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            let buffers = ScanBuffers(elements: TensorScanner.chunkElements)
            defer { buffers.deallocate() }
            while true {
                let index = next.add(1, ordering: .relaxed).oldValue
                if index >= tensors.count { break }
                let tensor = tensors[index]
                let result: Result<Counts, ComparisonError>
                if TensorScanner.scans(tensor.info.dtype) {
                    do throws(SafetensorsError) {
                        result = .success(try TensorScanner.scan(tensor.info, in: files[tensor.fileIndex], buffers: buffers))
                    } catch {
                        var named = error
                        named.tensor = named.tensor ?? tensor.key
                        result = .failure(ComparisonError(named))
                    }
                } else {
                    result = .success(Counts())
                }
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

    /// Counts one tensor, a chunk at a time.
    static func scan(_ info: TensorInfo, in file: ReadOnlyFile, buffers: ScanBuffers) throws(SafetensorsError) -> Counts {
        var counts = Counts()
        let size = info.dtype.bitSize / 8
        var position = 0
        while position < info.elementCount {
            let n = min(buffers.elements, info.elementCount - position)
            try file.read(into: buffers.raw, count: n * size, at: info.fileOffset + Int64(position * size))
            if info.dtype.fitsInFloat {
                info.dtype.decode(buffers.raw, count: n, into: buffers.floats)
                count(buffers.floats, n, into: &counts)
            } else {
                info.dtype.decode(buffers.raw, count: n, into: buffers.doubles)
                count(buffers.doubles, n, into: &counts)
            }
            position += n
        }
        return counts
    }

    /// Counts a block of `Float` values: one comparison per value, the rare ones looked at closer.
    static func count(_ values: UnsafeMutablePointer<Float>, _ n: Int, into counts: inout Counts) {
        for i in 0..<n {
            let v = values[i]
            // False for NaN and for |v| > 65504, infinities included: one test in the common case.
            if v.magnitude <= f16Max { continue }
            if v.isNaN { counts.nan += 1 } else if v == .infinity { counts.positiveInfinity += 1 }
            else if v == -.infinity { counts.negativeInfinity += 1 } else { counts.beyondF16 += 1 }
        }
    }

    /// Counts a block of `Double` values (F64 tensors).
    static func count(_ values: UnsafeMutablePointer<Double>, _ n: Int, into counts: inout Counts) {
        for i in 0..<n {
            let v = values[i]
            if v.magnitude <= Double(f16Max) { continue }
            if v.isNaN { counts.nan += 1 } else if v == .infinity { counts.positiveInfinity += 1 }
            else if v == -.infinity { counts.negativeInfinity += 1 } else { counts.beyondF16 += 1 }
        }
    }
}

/// One worker's reused chunk buffers: raw bytes, and the values decoded from them.
final class ScanBuffers {
    let elements: Int
    let raw: UnsafeMutableRawPointer
    let floats: UnsafeMutablePointer<Float>
    let doubles: UnsafeMutablePointer<Double>

    init(elements: Int) {
        self.elements = elements
        raw = UnsafeMutableRawPointer.allocate(byteCount: elements * 8, alignment: 64)
        floats = UnsafeMutablePointer<Float>.allocate(capacity: elements)
        doubles = UnsafeMutablePointer<Double>.allocate(capacity: elements)
    }

    func deallocate() {
        raw.deallocate()
        floats.deallocate()
        doubles.deallocate()
    }
}
