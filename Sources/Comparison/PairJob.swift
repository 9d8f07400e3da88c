import CKDiffShims
import Checkpoints
import Safetensors

/// One job resolved to files, byte offsets and a way to compare it.
struct PairJob: Sendable {
    /// How the pair's values are read.
    enum Mode: Sendable, Equatable {
        /// Nothing to read: shapes are incompatible.
        case skip
        /// Same dtype and layout: compare bytes, decode only where they differ.
        case bytesFirst
        /// Compare bytes only: a dtype ckdiff does not decode.
        case bytesOnly
        /// Different dtypes: decode and compare values.
        case values
        /// B is A transposed: both views are read whole and lined up in memory.
        case transpose
    }

    var template: TensorComparison
    var mode: Mode
    var elementCount: Int
    var fileA: ReadOnlyFile
    var offsetA: Int64
    var dtypeA: DType
    var fileB: ReadOnlyFile
    var offsetB: Int64
    var dtypeB: DType
    var tolerance: Tolerance
    var numerics: Numerics
    /// Decode to `Double` (a dtype that does not fit in `Float` is involved).
    var useDouble: Bool
    /// For a transpose: A's view is rows × columns × inner (inner: the elements of the remaining dimensions).
    var rows: Int
    var columns: Int
    var inner = 1
    /// The grids of the exact-cast check (`CKD_GRID_*`): B's dtype for A's values, A's for B's;
    /// `CKD_GRID_NONE` when the pair is not checked (see `TensorComparison.castTarget`).
    var castGridB: Int32 = 0
    var castGridA: Int32 = 0
    /// An F32 pair whose bytes may differ: also checked against the BF16 grid (`castGridB` is F16),
    /// to tell a round trip through a half-precision dtype.
    var roundTrip = false
    /// The codes of the fused raw-data kernel (`CKD_RAW_*`) when it can run this pair: F32, F16 or
    /// BF16 on both sides, fused numerics, no round-trip check.
    var rawCodes: (a: Int32, b: Int32)?

    var bytesPerElementPair: Int { (dtypeA.bitSize + dtypeB.bitSize) / 8 }

    /// Resolves `pair` in its jobs' checkpoints; the transform is the one the alignment decided.
    init<Tag>(pair: ComparisonJobs<Tag>.Job, a: Checkpoint, b: Checkpoint, filesA: [ReadOnlyFile], filesB: [ReadOnlyFile],
              options: ComparisonOptions) throws(ComparisonError) {
        let viewA = try ResolvedView(pair.a, in: a, files: filesA, pair: pair.name)
        let viewB = try ResolvedView(pair.b, in: b, files: filesB, pair: pair.name)
        fileA = viewA.file
        offsetA = viewA.offset
        dtypeA = viewA.info.dtype
        fileB = viewB.file
        offsetB = viewB.offset
        dtypeB = viewB.info.dtype
        rows = 0
        columns = 0
        useDouble = !(dtypeA.fitsInFloat && dtypeB.fitsInFloat)
        numerics = options.numerics
        let defaultTolerance = Tolerance.defaultFor(dtypeA, dtypeB)
        let hasFloat = dtypeA.kind == .floatingPoint || dtypeB.kind == .floatingPoint
        if hasFloat, let resolved = options.toleranceResolver?(.init(
            name: pair.name, aName: viewA.name, bName: viewB.name, component: pair.component,
            aDType: dtypeA, bDType: dtypeB)) {
            tolerance = resolved
        } else if let override = options.tolerance, hasFloat {
            tolerance = override
        } else {
            tolerance = defaultTolerance ?? .exact
        }

        let transform = pair.transform
        let compatible: Bool
        switch transform {
        case .identity:
            compatible = viewA.shape == viewB.shape
        case .reshape:
            compatible = squeezed(viewA.shape) == squeezed(viewB.shape) && viewA.count == viewB.count
        case .transpose:
            compatible = viewA.shape.count >= 2 && viewA.shape == swappedFirstTwo(viewB.shape)
        }
        let opaque = !dtypeA.isDecodable || !dtypeB.isDecodable
        elementCount = compatible ? viewA.count : 0
        template = TensorComparison(
            name: pair.name, component: pair.component, aName: viewA.name, bName: viewB.name,
            aDType: dtypeA, bDType: dtypeB, aShape: viewA.shape, bShape: viewB.shape, transform: transform,
            elementCount: elementCount, identical: false,
            tolerance: opaque ? nil : tolerance, valuesCompared: false)
        template.histogram = Array(repeating: 0, count: TensorComparison.histogramBuckets.count)

        if !compatible {
            mode = .skip
        } else if transform == .transpose {
            if opaque || elementCount > options.transposeLimit {
                mode = .skip
                template.note = opaque
                    ? "\(dtypeA.name)/\(dtypeB.name) values are not decoded, so a transpose cannot be checked"
                    : "not compared: a transpose of \(elementCount) elements is above the limit of \(options.transposeLimit)"
            } else {
                mode = .transpose
                rows = viewA.shape[0]
                columns = viewA.shape[1]
                inner = Safetensors.elementCount(of: viewA.shape.dropFirst(2))
                if dtypeA != dtypeB, !useDouble, let gridB = castGrid(dtypeB), let gridA = castGrid(dtypeA) {
                    castGridB = gridB
                    castGridA = gridA
                    template.castTarget = dtypeB
                }
            }
        } else if dtypeA == dtypeB {
            mode = opaque ? .bytesOnly : .bytesFirst
            if dtypeA == .f32 {
                // Same dtype: no cast, but B may be A sent through F16 or BF16 and back.
                roundTrip = true
                castGridB = Int32(CKD_GRID_F16)
                castGridA = Int32(CKD_GRID_F32)
                template.castTarget = .f16
            }
        } else if opaque {
            mode = .skip
            template.note = "\(dtypeA.name) and \(dtypeB.name) are not decoded, so their values cannot be compared"
        } else {
            mode = .values
            if !useDouble, let gridB = castGrid(dtypeB), let gridA = castGrid(dtypeA) {
                castGridB = gridB
                castGridA = gridA
                template.castTarget = dtypeB
            }
        }
        if numerics == .fused, !roundTrip, let codeA = rawCode(dtypeA), let codeB = rawCode(dtypeB) {
            rawCodes = (codeA, codeB)
        }
        if elementCount == 0 && compatible {
            // Empty tensors: nothing to read, trivially identical when the dtypes agree.
            mode = .skip
            template.valuesCompared = true
            template.identical = dtypeA == dtypeB
        }
    }
}

/// A tensor view located in a file.
struct ResolvedView {
    var name: String
    var info: TensorInfo
    var file: ReadOnlyFile
    var offset: Int64
    var count: Int
    var shape: [Int]

    init<Side>(_ view: TensorRef<Side>, in checkpoint: Checkpoint, files: [ReadOnlyFile], pair: String) throws(ComparisonError) {
        guard checkpoint.tensors.indices.contains(view.tensor), files.indices.contains(checkpoint.tensors[view.tensor].fileIndex) else {
            throw ComparisonError("internal error: pair '\(pair)' refers to tensor \(view.tensor) of \(Side.label), which has \(checkpoint.tensors.count)")
        }
        let tensor = checkpoint.tensors[view.tensor]
        name = tensor.name
        info = tensor.info
        file = files[tensor.fileIndex]
        offset = tensor.info.fileOffset
        count = tensor.info.elementCount
        shape = tensor.info.shape
        if let rows = view.rows {
            guard let outer = shape.first, rows.lowerBound >= 0, rows.upperBound <= outer else {
                throw ComparisonError("\(checkpoint.path): tensor '\(tensor.name)': rows \(rows.lowerBound)..<\(rows.upperBound) are outside its shape \(tensor.info.shapeDescription)")
            }
            let rowElements = Safetensors.elementCount(of: shape.dropFirst())
            offset += Int64(rows.lowerBound * rowElements * info.dtype.bitSize / 8)
            count = rows.count * rowElements
            shape[0] = rows.count
        }
    }
}

/// The exact-cast grid of a float dtype decoded to `Float`, or nil for dtypes the check does not cover.
func castGrid(_ dtype: DType) -> Int32? {
    switch dtype {
    case .f32: return Int32(CKD_GRID_F32)
    case .f16: return Int32(CKD_GRID_F16)
    case .bf16: return Int32(CKD_GRID_BF16)
    default: return nil
    }
}

/// The fused kernel's code for a dtype, or nil for dtypes it does not read.
func rawCode(_ dtype: DType) -> Int32? {
    switch dtype {
    case .f32: return Int32(CKD_RAW_F32)
    case .f16: return Int32(CKD_RAW_F16)
    case .bf16: return Int32(CKD_RAW_BF16)
    default: return nil
    }
}

/// The shape with its first two dimensions swapped (the shape of a ``PairTransform/transpose``).
func swappedFirstTwo(_ shape: [Int]) -> [Int] {
    guard shape.count >= 2 else { return shape }
    var swapped = shape
    swapped.swapAt(0, 1)
    return swapped
}

/// The shape without its dimensions of size 1.
func squeezed(_ shape: [Int]) -> [Int] {
    shape.filter { $0 != 1 }
}
