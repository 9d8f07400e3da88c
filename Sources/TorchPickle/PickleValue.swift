import Safetensors

/// A value on the restricted unpickler's stack.
///
/// Flat on purpose: containers, storages and tensors live in the machine's object table and
/// are referred to by index, so a deeply nested or self-referencing pickle never recurses
/// while it is built or released.
enum PickleValue {
    case none
    case bool(Bool)
    case int(Int64)
    /// An integer wider than 64 bits (kept only as "some integer").
    case bigInt
    case float(Double)
    case string(String)
    /// A bytes object; only its length is kept.
    case bytes(Int)
    /// One of the allowed globals.
    case global(TorchGlobal)
    /// An object of the table: a container, a storage or a tensor.
    case object(Int)

    /// A short description for error messages.
    var typeName: String {
        switch self {
        case .none: return "None"
        case .bool: return "a bool"
        case .int, .bigInt: return "an int"
        case .float: return "a float"
        case .string: return "a string"
        case .bytes: return "bytes"
        case .global(let g): return "'\(g.name)'"
        case .object: return "an object"
        }
    }
}

/// A mutable object built by the pickle.
enum PickleObject {
    case list([PickleValue])
    case tuple([PickleValue])
    /// A dict or OrderedDict, in insertion order (a repeated key keeps its first position).
    case dict([(key: PickleValue, value: PickleValue)])
    /// A set or frozenset (its items are never looked at).
    case set
    /// A storage named by a persistent id.
    case storage(StorageRecord)
    /// A tensor rebuilt from a storage.
    case tensor(TensorRecord)
}

/// A storage as a persistent id describes it: `('storage', type, key, location, numel[, view])`.
struct StorageRecord {
    /// The key: the zip entry `data/<key>`, or the legacy format's storage key.
    var key: String
    /// The element type, or nil for an `UntypedStorage` (bytes).
    var dtype: DType?
    /// The number of elements (bytes for an untyped storage).
    var elementCount: Int64

    /// The storage's length in bytes, or nil on overflow.
    var byteCount: Int64? {
        let (bytes, overflow) = elementCount.multipliedReportingOverflow(by: Int64((dtype?.bitSize ?? 8) / 8))
        return overflow ? nil : bytes
    }
}

/// A tensor as `torch._utils._rebuild_tensor*` describes it.
struct TensorRecord {
    /// The object-table index of its storage.
    var storage: Int
    var dtype: DType
    /// The offset into the storage, in elements.
    var storageOffset: Int64
    var shape: [Int64]
    var stride: [Int64]
}

/// The globals a PyTorch state dict needs, and nothing else.
///
/// A pickle global is a `module.name` pair the unpickler would import. ckdiff imports
/// nothing: a pair maps to one of these cases or the file is refused.
enum TorchGlobal: Equatable {
    case orderedDict
    case rebuildTensor
    case rebuildTensorV2
    case rebuildTensorV3
    case rebuildParameter
    case rebuildParameterWithState
    /// `torch.FloatStorage` and the like; nil is `torch.storage.UntypedStorage`.
    case storageType(DType?, name: String)
    /// A dtype (`torch.float8_e4m3fn`), as `_rebuild_tensor_v3` takes it.
    case dtype(DType, name: String)

    /// The allowed global with this module and name, or nil.
    init?(module: String, name: String) {
        switch (module, name) {
        case ("collections", "OrderedDict"): self = .orderedDict
        case ("torch._utils", "_rebuild_tensor"): self = .rebuildTensor
        case ("torch._utils", "_rebuild_tensor_v2"): self = .rebuildTensorV2
        case ("torch._utils", "_rebuild_tensor_v3"): self = .rebuildTensorV3
        case ("torch._utils", "_rebuild_parameter"): self = .rebuildParameter
        case ("torch._utils", "_rebuild_parameter_with_state"): self = .rebuildParameterWithState
        case ("torch.storage", "UntypedStorage"), ("torch", "UntypedStorage"):
            self = .storageType(nil, name: "\(module).\(name)")
        case ("torch", _):
            if let dtype = Self.storageTypes[name] {
                self = .storageType(dtype, name: "torch.\(name)")
            } else if let dtype = Self.dtypes[name] {
                self = .dtype(dtype, name: "torch.\(name)")
            } else {
                return nil
            }
        default:
            return nil
        }
    }

    /// The spelling used in messages.
    var name: String {
        switch self {
        case .orderedDict: return "collections.OrderedDict"
        case .rebuildTensor: return "torch._utils._rebuild_tensor"
        case .rebuildTensorV2: return "torch._utils._rebuild_tensor_v2"
        case .rebuildTensorV3: return "torch._utils._rebuild_tensor_v3"
        case .rebuildParameter: return "torch._utils._rebuild_parameter"
        case .rebuildParameterWithState: return "torch._utils._rebuild_parameter_with_state"
        case .storageType(_, let name), .dtype(_, let name): return name
        }
    }

    /// The legacy typed storage classes (`torch.storage._dtype_to_storage_type_map`) ckdiff reads.
    static let storageTypes: [String: DType] = [
        "DoubleStorage": .f64, "FloatStorage": .f32, "HalfStorage": .f16, "BFloat16Storage": .bf16,
        "LongStorage": .i64, "IntStorage": .i32, "ShortStorage": .i16, "CharStorage": .i8,
        "ByteStorage": .u8, "BoolStorage": .bool, "ComplexFloatStorage": .c64,
    ]

    /// `torch.<dtype>` names, as `torch.dtype` pickles itself.
    static let dtypes: [String: DType] = [
        "float64": .f64, "double": .f64, "float32": .f32, "float": .f32, "float16": .f16, "half": .f16,
        "bfloat16": .bf16, "int64": .i64, "long": .i64, "int32": .i32, "int": .i32, "int16": .i16,
        "short": .i16, "int8": .i8, "uint8": .u8, "bool": .bool, "uint16": .u16, "uint32": .u32,
        "uint64": .u64, "float8_e4m3fn": .f8e4m3, "float8_e5m2": .f8e5m2, "float8_e4m3fnuz": .f8e4m3fnuz,
        "float8_e5m2fnuz": .f8e5m2fnuz, "float8_e8m0fnu": .f8e8m0, "complex64": .c64, "cfloat": .c64,
    ]
}
