import Safetensors

/// The central directory of a zip archive as `torch.save` writes it: stored entries, with zip64
/// records for archives over 4 GB.
///
/// Only the central directory and the local headers are read; entry data is located, never
/// copied. Every offset and size is checked against the archive's size before use, and
/// compressed or encrypted entries are refused when they are located.
struct ZipArchive {
    /// One entry and where its data lies in the archive.
    struct Entry {
        var name: String
        /// Compression method (0 = stored).
        var method: Int
        /// General-purpose flags (bit 0 = encrypted).
        var flags: Int
        var compressedSize: UInt64
        var size: UInt64
        /// Where the entry's local header starts.
        var localHeaderOffset: UInt64
    }

    /// The largest central directory read, in bytes (far above the few hundred kB of a large checkpoint).
    static let maximumDirectoryLength: UInt64 = 100_000_000

    let path: String
    let size: Int64
    /// Entries in directory order.
    let entries: [Entry]
    private let indexByName: [String: Int]

    /// The entry with this exact name.
    func entry(named name: String) -> Entry? {
        indexByName[name].map { entries[$0] }
    }

    /// Whether the bytes start like a zip archive (a local file header).
    static func looksLikeZip(_ prefix: [UInt8]) -> Bool {
        prefix.count >= 4 && prefix[0] == 0x50 && prefix[1] == 0x4B && prefix[2] == 0x03 && prefix[3] == 0x04
    }

    /// Reads the central directory.
    init(source: some ByteSource, path: String) throws(TorchPickleError) {
        func invalid(_ detail: String) -> TorchPickleError {
            TorchPickleError(file: path, kind: .invalidArchive(detail))
        }
        let size = source.size
        self.path = path
        self.size = size
        // End of central directory: 22 bytes plus a comment of up to 65535 bytes, at the end.
        guard size >= 22 else { throw invalid("\(size) bytes, too short for a zip end record") }
        let tailLength = Int(min(size, 22 + 65_535))
        let tail = try source.bytes(count: tailLength, at: size - Int64(tailLength))
        var eocd: Int?
        var i = tail.count - 22
        while i >= 0 {
            if tail.u32(at: i) == 0x0605_4B50 && i + 22 + Int(tail.u16(at: i + 20)) == tail.count {
                eocd = i
                break
            }
            i -= 1
        }
        guard let end = eocd else { throw invalid("no end-of-central-directory record") }
        var entryCount = UInt64(tail.u16(at: end + 10))
        var directoryLength = UInt64(tail.u32(at: end + 12))
        var directoryOffset = UInt64(tail.u32(at: end + 16))
        guard tail.u16(at: end + 4) == 0, tail.u16(at: end + 6) == 0 || tail.u16(at: end + 6) == 0xFFFF else {
            throw invalid("spans several disks")
        }
        let eocdPosition = size - Int64(tail.count - end)
        if entryCount == 0xFFFF || directoryLength == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            // zip64: a 20-byte locator right before the end record points at the zip64 end record.
            guard eocdPosition >= 20 else { throw invalid("zip64 locator missing") }
            let locator = try source.bytes(count: 20, at: eocdPosition - 20)
            guard locator.u32(at: 0) == 0x0706_4B50 else { throw invalid("zip64 locator missing") }
            let recordOffset = locator.u64(at: 8)
            guard recordOffset <= UInt64(eocdPosition - 20), UInt64(eocdPosition - 20) - recordOffset >= 56 else {
                throw invalid("zip64 end record at \(recordOffset) lies outside the file")
            }
            let record = try source.bytes(count: 56, at: Int64(recordOffset))
            guard record.u32(at: 0) == 0x0606_4B50 else { throw invalid("zip64 end record missing") }
            entryCount = record.u64(at: 32)
            directoryLength = record.u64(at: 40)
            directoryOffset = record.u64(at: 48)
        }
        guard directoryLength <= Self.maximumDirectoryLength else {
            throw TorchPickleError(file: path, kind: .limitExceeded(
                "zip central directory of \(directoryLength) bytes is above the \(Self.maximumDirectoryLength)-byte limit"))
        }
        guard directoryOffset <= UInt64(size), directoryLength <= UInt64(size) - directoryOffset else {
            throw invalid("central directory [\(directoryOffset), +\(directoryLength)) runs past the end of the \(size)-byte file")
        }
        guard entryCount <= directoryLength / 46 else {
            throw invalid("\(entryCount) entries cannot fit a \(directoryLength)-byte central directory")
        }
        let directory = try source.bytes(count: Int(directoryLength), at: Int64(directoryOffset))
        var entries: [Entry] = []
        entries.reserveCapacity(Int(entryCount))
        var index: [String: Int] = [:]
        var p = 0
        for _ in 0..<entryCount {
            guard p + 46 <= directory.count, directory.u32(at: p) == 0x0201_4B50 else {
                throw invalid("central directory entry \(entries.count) is malformed")
            }
            let flags = Int(directory.u16(at: p + 8))
            let method = Int(directory.u16(at: p + 10))
            var compressed = UInt64(directory.u32(at: p + 20))
            var uncompressed = UInt64(directory.u32(at: p + 24))
            let nameLength = Int(directory.u16(at: p + 28))
            let extraLength = Int(directory.u16(at: p + 30))
            let commentLength = Int(directory.u16(at: p + 32))
            var localOffset = UInt64(directory.u32(at: p + 42))
            let nameStart = p + 46
            let extraStart = nameStart + nameLength
            let next = extraStart + extraLength + commentLength
            guard next <= directory.count else { throw invalid("central directory entry \(entries.count) runs past the directory") }
            let name = String(decoding: directory[nameStart..<extraStart], as: UTF8.self)
            // zip64 extended information: the 0xFFFFFFFF fields, in this order.
            var q = extraStart
            while q + 4 <= extraStart + extraLength {
                let tag = directory.u16(at: q)
                let length = Int(directory.u16(at: q + 2))
                guard q + 4 + length <= extraStart + extraLength else { throw invalid("entry '\(name)' has a malformed extra field") }
                if tag == 0x0001 {
                    var r = q + 4
                    func next64() throws(TorchPickleError) -> UInt64 {
                        guard r + 8 <= q + 4 + length else { throw invalid("entry '\(name)' has a short zip64 field") }
                        defer { r += 8 }
                        return directory.u64(at: r)
                    }
                    if uncompressed == 0xFFFF_FFFF { uncompressed = try next64() }
                    if compressed == 0xFFFF_FFFF { compressed = try next64() }
                    if localOffset == 0xFFFF_FFFF { localOffset = try next64() }
                }
                q += 4 + length
            }
            guard index[name] == nil else { throw invalid("entry '\(name)' appears twice") }
            index[name] = entries.count
            entries.append(Entry(name: name, method: method, flags: flags, compressedSize: compressed,
                                 size: uncompressed, localHeaderOffset: localOffset))
            p = next
        }
        self.entries = entries
        self.indexByName = index
    }

    /// Where the data of a stored entry lies: the absolute offset of its first byte and its length.
    ///
    /// Refuses compressed and encrypted entries, and data that runs past the file.
    func dataRange(of entry: Entry, in source: some ByteSource) throws(TorchPickleError) -> (offset: Int64, count: Int64) {
        func invalid(_ detail: String) -> TorchPickleError {
            TorchPickleError(file: path, kind: .invalidArchive(detail))
        }
        guard entry.method == 0, entry.flags & 1 == 0 else {
            throw TorchPickleError(file: path, kind: .compressedEntry(entry: entry.name, method: entry.method))
        }
        guard entry.compressedSize == entry.size else {
            throw invalid("stored entry '\(entry.name)' has different compressed and uncompressed sizes")
        }
        guard entry.localHeaderOffset <= UInt64(size), UInt64(size) - entry.localHeaderOffset >= 30 else {
            throw invalid("entry '\(entry.name)' has its local header outside the file")
        }
        let local = try source.bytes(count: 30, at: Int64(entry.localHeaderOffset))
        guard local.u32(at: 0) == 0x0403_4B50 else { throw invalid("entry '\(entry.name)' has no local header") }
        let start = entry.localHeaderOffset + 30 + UInt64(local.u16(at: 26)) + UInt64(local.u16(at: 28))
        guard start <= UInt64(size), entry.size <= UInt64(size) - start else {
            throw invalid("entry '\(entry.name)' of \(entry.size) bytes at \(start) runs past the end of the \(size)-byte file")
        }
        return (Int64(start), Int64(entry.size))
    }
}

extension Array where Element == UInt8 {
    /// Little-endian integers at a position the caller has bounds-checked.
    func u16(at i: Int) -> UInt16 { UInt16(self[i]) | UInt16(self[i + 1]) << 8 }
    func u32(at i: Int) -> UInt32 { UInt32(u16(at: i)) | UInt32(u16(at: i + 2)) << 16 }
    func u64(at i: Int) -> UInt64 { UInt64(u32(at: i)) | UInt64(u32(at: i + 4)) << 32 }
}
