import CKDiffTestSupport
import Foundation
import Testing
@testable import Reporting

/// Replays the committed fuzz corpus of the side-file target (Tests/Fixtures/fuzz-regressions/side)
/// as `Fuzz/Targets/FuzzSideFiles.swift` does: the first byte picks the reader (policy, manifest,
/// baseline, saved report), the rest is the file; each is read or refused with one line, and an
/// accepted report is rendered as `ckdiff show` renders it.
@Suite("Side files: fuzz regression corpus of the policy, manifest, baseline and report readers")
struct SideFileFuzzReplayTests {
    static let corpus = FuzzCorpus("side")
    static let names = corpus.names

    @Test("the corpus is there")
    func present() {
        #expect(Self.names.count >= 10)
    }

    @Test("every input is read or refused with one line, never a crash", arguments: names)
    func replay(_ name: String) throws {
        let bytes = try Self.corpus.bytes(name)
        guard let selector = bytes.first else { return }
        let scratch = try Fixtures.temporaryDirectory("ckdiff-side-replay")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let path = scratch.appendingPathComponent("side.json").path
        try Data(bytes.dropFirst()).write(to: URL(fileURLWithPath: path))
        func refused(_ error: PolicyError) {
            #expect(!error.description.contains("\n") && error.description.hasPrefix(path))
        }
        switch selector % 4 {
        case 0:
            do { _ = Policy.default.applying(try Policy.layer(fromFile: path)) } catch { refused(error) }
        case 1:
            do { #expect(!(try BatchManifest.read(path)).pairs.isEmpty) } catch { refused(error) }
        case 2:
            do { _ = try Baseline.read(path) } catch { refused(error) }
        default:
            let data: Data
            do { data = try SavedReport.read(path) } catch { refused(error); return }
            if let batch = try? BatchReport.decode(data), let status = try? batch.validatedExitStatus() {
                #expect((0...2).contains(status.rawValue))
                _ = batch.terminalText() + batch.markdown(top: 5) + batch.junit().xml()
                _ = batch.githubAnnotations()
            } else if let report = try? ComparisonReport.decode(data), let status = try? report.validatedExitStatus() {
                #expect((0...2).contains(status.rawValue))
                _ = report.terminalText(.init(top: 5, all: true, colour: false)) + report.markdown(top: 5)
                _ = JUnitDocument(name: "ckdiff", suites: report.junitSuites()).xml()
                _ = report.githubAnnotations()
            }
        }
    }
}
