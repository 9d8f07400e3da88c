import Safetensors
import CKDiffTestSupport
import Foundation
import Testing
@testable import TorchPickle

/// Hand-made hostile pickles and archives: each is refused with a typed, one-line error, in
/// bounded time and memory.
@Suite("TorchPickle: resource limits and malformed streams")
struct TorchLimitTests {
    func read(_ bytes: [UInt8]) throws(TorchPickleError) -> TorchCheckpointFile {
        try TorchCheckpointFile.read(from: MemoryBytes(bytes), path: "x.pt")
    }

    func refusal(_ bytes: [UInt8]) -> TorchPickleError? {
        #expect(throws: TorchPickleError.self) { try read(bytes) }
    }

    func isLimit(_ error: TorchPickleError?) -> Bool {
        if case .limitExceeded = error?.kind { return true }
        return false
    }

    @Test("a hand-made state dict reads: the builder below makes valid files")
    func builderIsValid() throws {
        let pickle = PickleBytes.stateDict("w", numel: 6, offset: 2, size: [2, 2], stride: [2, 1])
        let file = try read(StoredZip.checkpoint(pickle: pickle, storages: ["0": [UInt8](repeating: 1, count: 24)]))
        #expect(file.tensors.map(\.name) == ["w"])
        #expect(file.tensors.first?.byteCount == 16)
    }

    @Test("a shape whose element count overflows 64 bits is refused naming the tensor")
    func shapeOverflow() {
        let pickle = PickleBytes.stateDict("huge", numel: 4, size: [1 << 40, 1 << 40], stride: [1 << 40, 1])
        let error = refusal(StoredZip.checkpoint(pickle: pickle, storages: ["0": [UInt8](repeating: 0, count: 16)]))
        #expect(isLimit(error))
        #expect(error?.tensor == "huge")
    }

    @Test("a tensor reaching past its storage is refused naming it", arguments: [
        (Int64(0), [Int64(5)]), (Int64(3), [Int64(2)]), (Int64.max / 2, [Int64(1)]),
    ])
    func pastStorage(_ offset: Int64, _ size: [Int64]) {
        let pickle = PickleBytes.stateDict("w", numel: 4, offset: offset, size: size, stride: [1])
        let error = refusal(StoredZip.checkpoint(pickle: pickle, storages: ["0": [UInt8](repeating: 0, count: 16)]))
        #expect(error?.tensor == "w")
    }

    @Test("a storage whose declared size differs from its entry is refused")
    func storageSizeMismatch() {
        let pickle = PickleBytes.stateDict("w", numel: 1 << 60, size: [1], stride: [1])
        let error = refusal(StoredZip.checkpoint(pickle: pickle, storages: ["0": [UInt8](repeating: 0, count: 16)]))
        guard case .invalidArchive = error?.kind else { Issue.record("\(String(describing: error))"); return }
    }

    @Test("declared lengths far beyond the stream are refused before any allocation", arguments: [
        [UInt8(0x58), 0xFF, 0xFF, 0xFF, 0xFF],                          // BINUNICODE of 4 GB
        [UInt8(0x8D)] + [UInt8](repeating: 0xFF, count: 7) + [0x7F],    // BINUNICODE8 of 2^63
        [UInt8(0x8E)] + [UInt8](repeating: 0xFF, count: 8),             // BINBYTES8 of 2^64 - 1
        [UInt8(0x8B), 0xFF, 0xFF, 0xFF, 0x7F],                          // LONG4 of 2 GB
        [UInt8(0x95)] + [UInt8](repeating: 0xFF, count: 8) + [0x4E, 0x2E], // FRAME of 2^64 - 1, then None
    ])
    func hugeDeclaredSizes(_ body: [UInt8]) throws {
        let zip = StoredZip.checkpoint(pickle: [0x80, 0x04] + body)
        if body.first == 0x95 {
            // FRAME is a buffering hint only: the None after it reads as a file without tensors.
            #expect(try read(zip).tensors.isEmpty)
            return
        }
        let error = refusal(zip)
        guard case .invalidPickle = error?.kind else { Issue.record("\(String(describing: error))"); return }
    }

    @Test("100,000 nested lists are refused by depth, with no stack overflow on the way in or out")
    func deepNesting() {
        var pickle: [UInt8] = [0x80, 0x02] + [UInt8](repeating: 0x5D, count: 100_000) + [UInt8](repeating: 0x61, count: 99_999) + [0x2E]
        #expect(isLimit(refusal(StoredZip.checkpoint(pickle: pickle))))
        pickle = [0x80, 0x02] + [UInt8](repeating: 0x28, count: 100_000) // 100,000 marks and no STOP
        #expect(refusal(StoredZip.checkpoint(pickle: pickle)) != nil)
    }

    @Test("a list that contains itself is refused")
    func cycle() {
        // EMPTY_LIST, DUP, APPEND: l.append(l)
        let error = refusal(StoredZip.checkpoint(pickle: [0x80, 0x02, 0x5D, 0x32, 0x61, 0x2E]))
        #expect(isLimit(error))
        #expect(error?.description.contains("contains itself") == true)
    }

    @Test("one list shared 2^60 times over is refused after a bounded walk")
    func sharedExpansion() {
        // l0 = [None]; l(n+1) = [l(n), l(n)], 60 times: a few hundred bytes that expand to 2^60 entries.
        var p = PickleBytes()
        p.op(0x5D, 0x4E, 0x61)
        for _ in 0..<60 { p.op(0x71, 0, 0x30, 0x5D, 0x68, 0, 0x61, 0x68, 0, 0x61) } // PUT 0, POP; []; GET 0, APPEND; GET 0, APPEND
        p.op(0x2E)
        let clock = ContinuousClock()
        var error: TorchPickleError?
        let elapsed = clock.measure { error = refusal(StoredZip.checkpoint(pickle: p.bytes)) }
        #expect(isLimit(error))
        #expect(elapsed < .seconds(20))
    }

    @Test("memo abuse: a get of an index never put, and 4 billion as an index")
    func memo() {
        #expect(refusal(StoredZip.checkpoint(pickle: [0x80, 0x02, 0x6A, 0xFF, 0xFF, 0xFF, 0xFF, 0x2E])) != nil)
        // Puts at scattered 32-bit indices cost one entry each, not an array of that size.
        let pickle: [UInt8] = [0x80, 0x02, 0x7D, 0x72, 0xFF, 0xFF, 0xFF, 0xFF, 0x72, 0, 0, 0, 0x80, 0x6A, 0xFF, 0xFF, 0xFF, 0xFF, 0x30, 0x2E]
        let file = try? read(StoredZip.checkpoint(pickle: pickle))
        #expect(file?.tensors.isEmpty == true)
    }

    @Test("more values at once than the cell limit is refused")
    func cells() {
        let pickle: [UInt8] = [0x80, 0x02, 0x28] + [UInt8](repeating: 0x4E, count: PickleMachine.maximumCells + 10) + [0x6C, 0x2E]
        #expect(isLimit(refusal(StoredZip.checkpoint(pickle: pickle))))
    }

    @Test("opcodes that build objects are refused", arguments: [
        [UInt8(0x69)] + Array("os\nsystem\n".utf8),       // INST names its class
        [UInt8(0x28), 0x6F],                              // OBJ
        [UInt8(0x29), 0x29, 0x81],                        // NEWOBJ
        [UInt8(0x82), 0x01],                              // EXT1
    ])
    func objectOpcodes(_ body: [UInt8]) {
        let error = refusal(StoredZip.checkpoint(pickle: [0x80, 0x02] + body + [0x2E]))
        #expect(error != nil)
        if body.first == 0x69 { #expect(error?.kind == .forbiddenGlobal("os.system")) }
    }

    @Test("a global is refused even when only built, never called, and even through STACK_GLOBAL")
    func globalsAlone() {
        var p = PickleBytes()
        p.global("subprocess", "Popen")
        p.op(0x2E)
        #expect(refusal(StoredZip.checkpoint(pickle: p.bytes))?.kind == .forbiddenGlobal("subprocess.Popen"))
        var q = PickleBytes()
        q.string("os"); q.string("system"); q.op(0x93, 0x2E)
        #expect(refusal(StoredZip.checkpoint(pickle: q.bytes))?.kind == .forbiddenGlobal("os.system"))
        // Calling an allowed non-function (a storage type) is refused too.
        var r = PickleBytes()
        r.global("torch", "FloatStorage"); r.op(0x29, 0x52, 0x2E)
        #expect(refusal(StoredZip.checkpoint(pickle: r.bytes)) != nil)
    }

    @Test("not a torch file at all", arguments: [[UInt8](), Array("hello world".utf8), [UInt8](repeating: 0, count: 600)])
    func notTorch(_ bytes: [UInt8]) {
        #expect(refusal(bytes) != nil)
    }

    @Test("a legacy stream whose pickles outgrow the first 1 MiB read is read whole (the buffer grows)")
    func legacyGrowth() throws {
        let legacy = try Array(Data(contentsOf: URL(fileURLWithPath: Fixtures.path("ckpt/legacy.pt"))))
        var file = Array(legacy[0..<15])                    // torch's magic-number pickle
        file += [0x80, 0x02, 0x4D, 0xE9, 0x03, 0x2E]         // protocol version 1001
        file += [0x80, 0x02, 0x7D, 0x2E]                     // sys_info (empty)
        var main = PickleBytes()
        main.op(0x7D, 0x28)
        main.string("note"); main.string(String(repeating: "x", count: 3_000_000))
        main.string("w"); main.tensor(key: "0", numel: 2, offset: 0, size: [2], stride: [1], legacy: true)
        main.op(0x75, 0x2E)
        file += main.bytes
        var keys = PickleBytes()
        keys.op(0x5D, 0x28); keys.string("0"); keys.op(0x65, 0x2E)
        file += keys.bytes
        file += withUnsafeBytes(of: Int64(2).littleEndian, Array.init)
        file += withUnsafeBytes(of: Float(1.5).bitPattern.littleEndian, Array.init)
        file += withUnsafeBytes(of: Float(-2).bitPattern.littleEndian, Array.init)
        let read = try TorchCheckpointFile.read(from: MemoryBytes(file), path: "big.pt")
        #expect(read.format == .legacy)
        #expect(read.tensors.map(\.name) == ["w"])
        #expect(read.tensors.first?.fileOffset == Int64(file.count - 8))
        #expect(read.metadata.first { $0.key == "note" } != nil)
        // Cut inside the storage: refused, not read past the end.
        #expect(throws: TorchPickleError.self) { try TorchCheckpointFile.read(from: MemoryBytes(Array(file.dropLast(3))), path: "big.pt") }
    }

    @Test("a data.pkl over the 100 MB limit is refused without reading it (sparse file)")
    func hugePickleEntry() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("big.pt").path
        // Local header, 150 MB of hole, then the central directory: built with an empty entry, then patched.
        let length = 150_000_000
        let small = StoredZip.make([("archive/data.pkl", [])])
        let local = Array(small[0..<46])                      // 30-byte header + 16-byte name
        var directory = Array(small[46...])
        func patch(_ bytes: inout [UInt8], _ at: Int, _ value: UInt32) {
            for i in 0..<4 { bytes[at + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
        }
        patch(&directory, 20, UInt32(length)); patch(&directory, 24, UInt32(length))
        let eocd = directory.count - 22
        patch(&directory, eocd + 16, UInt32(46 + length))   // central directory offset
        #expect(FileManager.default.createFile(atPath: path, contents: Data(local)))
        let handle = try FileHandle(forWritingAtPath: path).unwrap()
        try handle.truncate(atOffset: UInt64(46 + length))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(directory))
        try handle.close()
        let error = #expect(throws: TorchPickleError.self) { try TorchCheckpointFile.open(path) }
        #expect(isLimit(error))
        #expect(error?.description.contains("data.pkl") == true)
    }
}

extension Optional {
    func unwrap() throws -> Wrapped {
        guard let value = self else { throw CocoaError(.fileNoSuchFile) }
        return value
    }
}
