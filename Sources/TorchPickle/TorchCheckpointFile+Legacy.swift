import Safetensors

extension TorchCheckpointFile {
    /// The first pickle of a legacy file: protocol 2, `LONG1` of the 10-byte magic number 0x1950a86a20f9469cfc6c.
    static let legacyMagic: [UInt8] = [0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]

    /// Reads the legacy layout: five pickles (magic number, protocol version, sys_info, the
    /// saved object, the list of storage keys), then each storage as an 8-byte little-endian
    /// element count followed by its bytes, in key-list order.
    ///
    /// The pickles' total length is not recorded, so they are parsed from a buffer that grows
    /// (1 MiB, then ×4) until they fit, up to ``maximumPickleLength``.
    static func readLegacy(_ source: some ByteSource, path: String) throws(TorchPickleError) -> TorchCheckpointFile {
        var length = min(source.size, 1 << 20)
        while true {
            let buffer = try source.bytes(count: Int(length), at: 0)
            do {
                return try readLegacy(buffer, source, path: path)
            } catch let failure {
                guard failure.ranOut, length < min(source.size, maximumPickleLength) else {
                    if failure.ranOut, length >= maximumPickleLength {
                        throw TorchPickleError(file: path, kind: .limitExceeded(
                            "the pickles are longer than the \(maximumPickleLength)-byte limit"))
                    }
                    throw failure.error
                }
                length = min(length * 4, min(source.size, maximumPickleLength))
            }
        }
    }

    private struct LegacyFailure: Error {
        var error: TorchPickleError
        var ranOut: Bool
    }

    private static func readLegacy(_ buffer: [UInt8], _ source: some ByteSource, path: String) throws(LegacyFailure) -> TorchCheckpointFile {
        func invalid(_ detail: String) -> LegacyFailure {
            LegacyFailure(error: TorchPickleError(file: path, kind: .invalidPickle(detail)), ranOut: false)
        }
        var position = 0
        func next(legacyIDs: Bool = false) throws(LegacyFailure) -> (PickleValue, PickleMachine) {
            var machine = PickleMachine(bytes: buffer, startingAt: position, path: path, legacyPersistentIDs: legacyIDs)
            do {
                let value = try machine.run()
                position = machine.position
                return (value, machine)
            } catch {
                throw LegacyFailure(error: error, ranOut: machine.ranOut)
            }
        }
        // 1. The magic number, checked on its bytes (it is wider than 64 bits).
        guard buffer.count >= 15, buffer[0] == 0x80, Array(buffer[2..<14]) == legacyMagic else {
            // Not torch's magic: still interpret it, so a hostile stream is refused naming its global.
            _ = try next()
            throw invalid("the first pickle is not torch's magic number; not a legacy torch.save file")
        }
        _ = try next()
        // 2. The protocol version.
        let (version, _) = try next()
        guard case .int(1001) = version else { throw invalid("legacy protocol version is not 1001") }
        // 3. sys_info: {protocol_version, little_endian, type_sizes}.
        let (info, infoMachine) = try next()
        if case .object(let i) = info, case .dict(let pairs) = infoMachine.objects[i],
           let endian = pairs.first(where: { if case .string("little_endian") = $0.key { true } else { false } })?.value,
           case .bool(false) = endian {
            throw LegacyFailure(error: TorchPickleError(file: path, kind: .unsupportedFormat(
                "was saved on a big-endian machine; ckdiff reads little-endian files only")), ranOut: false)
        }
        // 4. The saved object.
        let (root, machine) = try next(legacyIDs: true)
        // 5. The storage keys, in the order their data follows.
        let (keysValue, keysMachine) = try next()
        guard case .object(let k) = keysValue, case .list(let keyValues) = keysMachine.objects[k] else {
            throw invalid("the storage key list is not a list")
        }
        var storages: [String: StorageRecord] = [:]
        for object in machine.objects {
            if case .storage(let record) = object { storages[record.key] = record }
        }
        // Walk the storages: 8-byte element count, then the bytes.
        var ranges: [String: (offset: Int64, count: Int64)] = [:]
        var offset = Int64(position)
        let size = source.size
        for value in keyValues {
            guard case .string(let key) = value, let record = storages[key] else {
                throw invalid("the storage key list names a storage the pickle does not use")
            }
            guard ranges[key] == nil else { throw invalid("storage '\(PickleMachine.printable(key))' is listed twice") }
            guard size - offset >= 8 else {
                throw LegacyFailure(error: TorchPickleError(file: path, kind: .invalidPickle(
                    "the file ends at byte \(size) before storage '\(PickleMachine.printable(key))'")), ranOut: false)
            }
            let countBytes: [UInt8]
            do { countBytes = try source.bytes(count: 8, at: offset) } catch { throw LegacyFailure(error: error, ranOut: false) }
            let count = Int64(bitPattern: countBytes.u64(at: 0))
            guard count == record.elementCount else {
                throw invalid("storage '\(PickleMachine.printable(key))' has \(count) elements in the file but \(record.elementCount) in the pickle")
            }
            guard let byteCount = record.byteCount else {
                // The two counts agree; what is wrong is their size in bytes (2^62 floats is 2^64 bytes).
                throw LegacyFailure(error: TorchPickleError(file: path, kind: .limitExceeded(
                    "storage '\(PickleMachine.printable(key))' declares \(count) elements of \(record.dtype?.name ?? "bytes"), more bytes than a 64-bit size holds")), ranOut: false)
            }
            offset += 8
            guard byteCount <= size - offset else {
                throw LegacyFailure(error: TorchPickleError(file: path, kind: .invalidPickle(
                    "storage '\(PickleMachine.printable(key))' of \(byteCount) bytes at \(offset) runs past the end of the \(size)-byte file")), ranOut: false)
            }
            ranges[key] = (offset, byteCount)
            offset += byteCount
        }
        var flattener = StateDictFlattener(objects: machine.objects, path: path)
        do {
            try flattener.flatten(root)
            return try assemble(path: path, fileSize: size, format: .legacy, machine: machine, flattener: flattener) {
                (storage: StorageRecord) throws(TorchPickleError) -> (offset: Int64, count: Int64) in
                guard let range = ranges[storage.key] else {
                    throw TorchPickleError(file: path, kind: .invalidPickle(
                        "the pickle refers to storage '\(PickleMachine.printable(storage.key))', which the file does not hold"))
                }
                return range
            }
        } catch {
            throw LegacyFailure(error: error, ranOut: false)
        }
    }
}
