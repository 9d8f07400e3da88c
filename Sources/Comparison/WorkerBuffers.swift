#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CKDiffShims
import Safetensors

/// One worker thread's reusable buffers, and the code that runs a unit with them.
///
/// Raw chunks of A and B are read into `rawA`/`rawB`, decoded a block at a time
/// into `floatA`/`floatB` (or the `Double` pair), and compared there while the
/// block is still in cache. Nothing here grows with the size of a tensor except
/// the transpose path, which is bounded by `ComparisonOptions.transposeLimit`.
final class WorkerBuffers {
    private let rawA: UnsafeMutableRawPointer
    private let rawB: UnsafeMutableRawPointer
    private let floatA: UnsafeMutablePointer<Float>
    private let floatB: UnsafeMutablePointer<Float>
    private let floatD: UnsafeMutablePointer<Float>
    private let doubleA: UnsafeMutablePointer<Double>
    private let doubleB: UnsafeMutablePointer<Double>
    private let doubleD: UnsafeMutablePointer<Double>
    private let rawBytes = Comparator.chunkElements * 8

    init() {
        rawA = .allocate(byteCount: rawBytes, alignment: 64)
        rawB = .allocate(byteCount: rawBytes, alignment: 64)
        floatA = .allocate(capacity: Kernels.blockElements)
        floatB = .allocate(capacity: Kernels.blockElements)
        floatD = .allocate(capacity: Kernels.blockElements)
        doubleA = .allocate(capacity: Kernels.blockElements)
        doubleB = .allocate(capacity: Kernels.blockElements)
        doubleD = .allocate(capacity: Kernels.blockElements)
    }

    deinit {
        rawA.deallocate()
        rawB.deallocate()
        floatA.deallocate()
        floatB.deallocate()
        floatD.deallocate()
        doubleA.deallocate()
        doubleB.deallocate()
        doubleD.deallocate()
    }

    /// Runs one unit of a pair.
    func process(_ unit: Unit, job: PairJob) throws(ComparisonError) -> UnitOutcome {
        switch job.mode {
        case .transpose:
            return .values(try compareTransposed(job))
        case .bytesOnly:
            return try compareBytes(unit, job: job, countNonFinite: false) ?? .bytesDiffer
        case .bytesFirst where unit.bytesFirst:
            if let same = try compareBytes(unit, job: job, countNonFinite: true) { return same }
            return .values(try compareValues(unit, job: job))
        default:
            return .values(try compareValues(unit, job: job))
        }
    }

    private func read(_ file: ReadOnlyFile, into buffer: UnsafeMutableRawPointer, count: Int, at offset: Int64) throws(ComparisonError) {
        do { try file.read(into: buffer, count: count, at: offset) } catch { throw ComparisonError(error) }
    }

    /// Compares the unit's bytes; returns `.identical` with the non-finite counts, or nil at the first difference.
    private func compareBytes(_ unit: Unit, job: PairJob, countNonFinite: Bool) throws(ComparisonError) -> UnitOutcome? {
        let bits = job.dtypeA.bitSize
        // Unit bounds are whole bytes: sub-byte tensors are a single unit, validated to fill whole bytes.
        var position = Int64(unit.start) * Int64(bits) / 8
        let end = Int64(unit.start + unit.count) * Int64(bits) / 8
        var nan = 0, inf = 0
        while position < end {
            let byteCount = Int(min(Int64(rawBytes), end - position))
            try read(job.fileA, into: rawA, count: byteCount, at: job.offsetA + position)
            try read(job.fileB, into: rawB, count: byteCount, at: job.offsetB + position)
            if memcmp(rawA, rawB, byteCount) != 0 { return nil }
            if countNonFinite && bits >= 8 {
                let counts = Kernels.countNonFinite(rawA, count: byteCount * 8 / bits, dtype: job.dtypeA)
                nan += counts.nan
                inf += counts.inf
            }
            position += Int64(byteCount)
        }
        return .identical(nan: nan, inf: inf)
    }

    /// Decodes and compares the unit's values.
    private func compareValues(_ unit: Unit, job: PairJob) throws(ComparisonError) -> BlockStatistics {
        var stats = BlockStatistics()
        let sizeA = job.dtypeA.bitSize / 8, sizeB = job.dtypeB.bitSize / 8
        let block = Kernels.blockElements
        var position = unit.start
        let end = unit.start + unit.count
        while position < end {
            let n = min(Comparator.chunkElements, end - position)
            try read(job.fileA, into: rawA, count: n * sizeA, at: job.offsetA + Int64(position) * Int64(sizeA))
            try read(job.fileB, into: rawB, count: n * sizeB, at: job.offsetB + Int64(position) * Int64(sizeB))
            var offset = 0
            while offset < n {
                let m = min(block, n - offset)
                if job.useDouble {
                    job.dtypeA.decode(rawA + offset * sizeA, count: m, into: doubleA)
                    job.dtypeB.decode(rawB + offset * sizeB, count: m, into: doubleB)
                    Kernels.compareDoubleBlock(doubleA, doubleB, doubleD, count: m, base: position + offset,
                                               tolerance: job.tolerance, into: &stats)
                } else if let codes = job.rawCodes,
                          Kernels.compareRawBlock(rawA + offset * sizeA, codes.a, rawB + offset * sizeB, codes.b, floatD,
                                                  count: m, base: position + offset, tolerance: job.tolerance, into: &stats) {
                    // Decoded, compared and cast-checked in one pass.
                } else {
                    job.dtypeA.decode(rawA + offset * sizeA, count: m, into: floatA)
                    job.dtypeB.decode(rawB + offset * sizeB, count: m, into: floatB)
                    if job.castGridB != CKD_GRID_NONE {
                        var counts = ckd_cast_counts()
                        ckd_cast_check(floatA, floatB, m, job.castGridB, job.castGridA, &counts)
                        stats.cast.add(counts)
                        if job.roundTrip {
                            var alternative = ckd_cast_counts()
                            ckd_cast_check(floatA, floatB, m, Int32(CKD_GRID_BF16), Int32(CKD_GRID_NONE), &alternative)
                            stats.castAlternative.add(alternative)
                        }
                    }
                    Kernels.compareFloatBlock(floatA, floatB, floatD, count: m, base: position + offset,
                                              tolerance: job.tolerance, numerics: job.numerics, into: &stats)
                }
                offset += m
            }
            position += n
        }
        return stats
    }

    /// Compares A (rows × columns × inner) with B (columns × rows × inner) read with its first two dimensions swapped, in `Double`.
    private func compareTransposed(_ job: PairJob) throws(ComparisonError) -> BlockStatistics {
        let count = job.elementCount
        let sizeA = job.dtypeA.bitSize / 8, sizeB = job.dtypeB.bitSize / 8
        let rawWholeA = UnsafeMutableRawPointer.allocate(byteCount: max(1, count * sizeA), alignment: 64)
        let rawWholeB = UnsafeMutableRawPointer.allocate(byteCount: max(1, count * sizeB), alignment: 64)
        let valuesA = UnsafeMutablePointer<Double>.allocate(capacity: max(1, count))
        let valuesB = UnsafeMutablePointer<Double>.allocate(capacity: max(1, count))
        let alignedB = UnsafeMutablePointer<Double>.allocate(capacity: max(1, count))
        let differences = UnsafeMutablePointer<Double>.allocate(capacity: max(1, count))
        defer {
            differences.deallocate()
            rawWholeA.deallocate()
            rawWholeB.deallocate()
            valuesA.deallocate()
            valuesB.deallocate()
            alignedB.deallocate()
        }
        try read(job.fileA, into: rawWholeA, count: count * sizeA, at: job.offsetA)
        try read(job.fileB, into: rawWholeB, count: count * sizeB, at: job.offsetB)
        job.dtypeA.decode(rawWholeA, count: count, into: valuesA)
        job.dtypeB.decode(rawWholeB, count: count, into: valuesB)
        // A[i][j][k] (i < rows, j < columns, k < inner) lines up with B[j][i][k].
        let inner = job.inner
        for i in 0..<job.rows {
            for j in 0..<job.columns {
                let to = (i * job.columns + j) * inner, from = (j * job.rows + i) * inner
                for k in 0..<inner { alignedB[to + k] = valuesB[from + k] }
            }
        }
        var stats = BlockStatistics()
        if job.castGridB != CKD_GRID_NONE {
            // The dtypes fit in Float (see PairJob), so the decoded values convert back exactly.
            let floatsA = UnsafeMutablePointer<Float>.allocate(capacity: max(1, count))
            let floatsB = UnsafeMutablePointer<Float>.allocate(capacity: max(1, count))
            defer { floatsA.deallocate(); floatsB.deallocate() }
            for i in 0..<count {
                floatsA[i] = Float(valuesA[i])
                floatsB[i] = Float(alignedB[i])
            }
            var counts = ckd_cast_counts()
            ckd_cast_check(floatsA, floatsB, count, job.castGridB, job.castGridA, &counts)
            stats.cast.add(counts)
        }
        Kernels.compareDoubleBlock(valuesA, alignedB, differences, count: count, base: 0, tolerance: job.tolerance, into: &stats)
        return stats
    }
}
