import Safetensors

extension TorchCheckpointFile {
    /// Reads the zip layout: `<archive>/data.pkl`, `<archive>/byteorder`, `<archive>/data/<key>`.
    static func readZip(_ source: some ByteSource, path: String) throws(TorchPickleError) -> TorchCheckpointFile {
        let archive = try ZipArchive(source: source, path: path)
        let pickles = archive.entries.filter { entry in
            let parts = entry.name.split(separator: "/", omittingEmptySubsequences: false)
            return parts.count == 2 && parts[1] == "data.pkl" && !parts[0].isEmpty
        }
        guard let pickleEntry = pickles.first else {
            throw TorchPickleError(file: path, kind: .invalidArchive("no <archive>/data.pkl entry; is this a torch.save file?"))
        }
        guard pickles.count == 1 else {
            throw TorchPickleError(file: path, kind: .invalidArchive("\(pickles.count) <archive>/data.pkl entries"))
        }
        let prefix = String(pickleEntry.name.dropLast("data.pkl".count))
        if let order = archive.entry(named: prefix + "byteorder") {
            let range = try archive.dataRange(of: order, in: source)
            let text = range.count <= 16 ? String(decoding: try source.bytes(count: Int(range.count), at: range.offset), as: UTF8.self) : "?"
            guard text == "little" else {
                throw TorchPickleError(file: path, kind: .unsupportedFormat(
                    "stores its tensors with byte order '\(PickleMachine.printable(text))'; ckdiff reads little-endian files only"))
            }
        }
        let pickleRange = try archive.dataRange(of: pickleEntry, in: source)
        guard pickleRange.count <= maximumPickleLength else {
            throw TorchPickleError(file: path, kind: .limitExceeded(
                "data.pkl of \(pickleRange.count) bytes is above the \(maximumPickleLength)-byte limit"))
        }
        let pickle = try source.bytes(count: Int(pickleRange.count), at: pickleRange.offset)
        var machine = PickleMachine(bytes: pickle, path: path)
        let root = try machine.run()
        var flattener = StateDictFlattener(objects: machine.objects, path: path)
        try flattener.flatten(root)
        return try assemble(path: path, fileSize: source.size, format: .zip, machine: machine, flattener: flattener) {
            (storage: StorageRecord) throws(TorchPickleError) -> (offset: Int64, count: Int64) in
            let name = prefix + "data/" + storage.key
            guard let entry = archive.entry(named: name) else {
                throw TorchPickleError(file: path, kind: .invalidArchive("the pickle refers to storage '\(PickleMachine.printable(storage.key))' but there is no entry '\(PickleMachine.printable(name))'"))
            }
            let range = try archive.dataRange(of: entry, in: source)
            guard let expected = storage.byteCount else {
                throw TorchPickleError(file: path, kind: .limitExceeded(
                    "storage '\(PickleMachine.printable(storage.key))' declares \(storage.elementCount) elements of \(storage.dtype?.name ?? "bytes"), more bytes than a 64-bit size holds"))
            }
            guard expected == range.count else {
                throw TorchPickleError(file: path, kind: .invalidArchive(
                    "entry '\(PickleMachine.printable(name))' holds \(range.count) bytes but the pickle declares \(storage.elementCount) elements of \(storage.dtype?.name ?? "bytes")"))
            }
            return range
        }
    }
}
