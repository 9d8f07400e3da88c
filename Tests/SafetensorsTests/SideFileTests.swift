import CKDiffTestSupport
import Foundation
@testable import Safetensors
import Testing

/// Files that are not regular files, or too large, where a reader expects a small file
/// (issue 20, second round): refused at once, never waited on.
@Suite("Side files and non-regular files")
struct SideFileTests {
    typealias Scratch = ReaderEdgeCaseTests.Scratch

    // MARK: Non-regular files

    @Test("A FIFO named like a checkpoint is refused as a FIFO at once, with no writer")
    func fifoCheckpoint() throws {
        let scratch = try Scratch()
        let path = scratch.url.appendingPathComponent("model.safetensors").path
        try FIFO.make(at: path)
        let box = ErrorBox()
        let returned = FIFO.returnsWithoutWriter(path) {
            do { _ = try SafetensorsFile.open(path) } catch { box.set("\(error)") }
        }
        #expect(returned, "opening the FIFO blocked until a writer came")
        let text = try #require(box.get())
        #expect(text == "\(path): is a FIFO (named pipe), not a regular file")
    }

    @Test("A side file is read whole when regular and small; a FIFO, a device, a directory and a large file are refused")
    func sideFile() throws {
        let scratch = try Scratch()
        let small = scratch.url.appendingPathComponent("policy.json").path
        try Data("{}".utf8).write(to: URL(fileURLWithPath: small))
        #expect(try SideFile.read(small, limit: 2, what: "policy file") == Array("{}".utf8))

        let error = #expect(throws: SideFile.Failure.self) { try SideFile.read(small, limit: 1, what: "policy file") }
        #expect(error?.description == "\(small): is 2 bytes, above the 1-byte limit for a policy file")

        let fifo = scratch.url.appendingPathComponent("fifo.json").path
        try FIFO.make(at: fifo)
        let box = ErrorBox()
        #expect(FIFO.returnsWithoutWriter(fifo) {
            do { _ = try SideFile.read(fifo, limit: SideFile.settingsLimit, what: "policy file") } catch { box.set("\(error)") }
        })
        #expect(box.get() == "\(fifo): is a FIFO (named pipe), not a regular file")

        // /dev/zero would never end; /dev/null is empty: both are refused as devices before any read.
        for device in ["/dev/zero", "/dev/null"] {
            let error = #expect(throws: SideFile.Failure.self) { try SideFile.read(device, limit: SideFile.settingsLimit, what: "policy file") }
            #expect(error?.reason == "is a character device, not a regular file")
        }
        let folder = #expect(throws: SideFile.Failure.self) { try SideFile.read(scratch.url.path, limit: 10, what: "baseline") }
        #expect(folder?.reason == "is a directory, not a regular file")
    }
}

/// One error text handed from a reader thread to the test.
final class ErrorBox: @unchecked Sendable {
    private let lock = NSLock()
    private var text: String?

    func set(_ value: String) { lock.withLock { text = value } }
    func get() -> String? { lock.withLock { text } }
}
