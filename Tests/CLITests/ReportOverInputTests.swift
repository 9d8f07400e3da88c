import CKDiffTestSupport
import Foundation
import Reporting
import Safetensors
import Testing

/// A report never lands on an input, whatever name the report path gives it.
@Suite("Reports never overwrite an input: symbolic links into a cache, hard links, the job summary")
struct ReportOverInputTests {
    /// A Hugging Face cache layout: `snapshots/rev1/unet/model.safetensors` is a symbolic link to `blobs/…`.
    private func cache() throws -> (snapshot: String, linkInSnapshot: String, blob: String) {
        let root = try Fixtures.temporaryDirectory("ckdiff-hfcache").appendingPathComponent("models--org--m")
        let blobs = root.appendingPathComponent("blobs"), unet = root.appendingPathComponent("snapshots/rev1/unet")
        try FileManager.default.createDirectory(at: blobs, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: unet, withIntermediateDirectories: true)
        let blob = blobs.appendingPathComponent("0123abcd").path
        try SafetensorsWriter.write([.f32("x", [4], [1, 2, 3, 4])], to: blob)
        let link = unet.appendingPathComponent("diffusion_pytorch_model.safetensors").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "../../../blobs/0123abcd")
        return (root.appendingPathComponent("snapshots/rev1").path, link, blob)
    }

    @Test("a report path inside a cache snapshot that links to a blob clashes with the snapshot input")
    func cacheSnapshot() throws {
        let (snapshot, link, _) = try cache()
        let inputs = ProtectedInputs([snapshot])
        let clash = try #require(inputs.clash(with: link))
        #expect(clash.contains(snapshot))
        #expect(ProtectedInputs([snapshot]).clash(with: snapshot + "/../report.json") == nil)
    }

    @Test("--json naming A's snapshot link (a blob in the cache) is refused, the blob unchanged")
    func cacheThroughCommandLine() throws {
        let (_, link, blob) = try cache()
        let before = try Data(contentsOf: URL(fileURLWithPath: blob))
        let other = URL(fileURLWithPath: blob).deletingLastPathComponent().appendingPathComponent("other.safetensors").path
        try SafetensorsWriter.write([.f32("x", [4], [1, 2, 3, 5])], to: other)
        let outcome = try CLIRunner.run([link, other, "--json", link])
        #expect(outcome.status == 2)
        #expect(outcome.stderr.contains("refusing to write a report over"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: blob)) == before)
    }

    @Test("--github does not append the job summary to a hard link of B")
    func summaryHardLink() throws {
        let folder = try Fixtures.temporaryDirectory("ckdiff-summary")
        let a = folder.appendingPathComponent("a.safetensors").path, b = folder.appendingPathComponent("b.safetensors").path
        try SafetensorsWriter.write([.f32("x", [4], [1, 2, 3, 4])], to: a)
        try SafetensorsWriter.write([.f32("x", [4], [1, 2, 3, 5])], to: b)
        let summary = folder.appendingPathComponent("summary.md").path
        try FileManager.default.linkItem(atPath: b, toPath: summary)
        let before = try Data(contentsOf: URL(fileURLWithPath: b))
        let outcome = try CLIRunner.run([a, b, "--github"], environment: ["GITHUB_STEP_SUMMARY": summary])
        #expect(outcome.status == 2)
        #expect(outcome.stderr.contains("the same file"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: b)) == before)
    }

    @Test("a FIFO with no reader as --json is refused at once, not waited on")
    func fifoWithoutReader() throws {
        let folder = try Fixtures.temporaryDirectory("ckdiff-fifo")
        let a = folder.appendingPathComponent("a.safetensors").path
        try SafetensorsWriter.write([.f32("x", [4], [1, 2, 3, 4])], to: a)
        let fifo = folder.appendingPathComponent("report.fifo").path
        try #require(mkfifo(fifo, 0o600) == 0)
        let outcome = try CLIRunner.run([a, a, "--json", fifo])
        #expect(outcome.status == 2)
        #expect(outcome.stderr.contains("no reader"))
    }
}
