// libFuzzer target: the side-file readers (policy file, batch manifest, baseline, saved report).
//
// Input: the first byte picks the reader (modulo 4: policy, manifest, baseline, report); the rest
// is the file's content, written to a scratch file and read the way the command line reads it.
// A saved report that is accepted is also rendered (terminal text, Markdown, JUnit, annotations),
// as `ckdiff show` would, so a hostile field that traps a renderer is found here.
@testable import Reporting
import Foundation
import Glibc

let sidePath: String = {
    let folder = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
    return "\(folder)/ckdiff-fuzz-side-\(getpid()).json"
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSideFiles(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    guard count >= 1 else { return 0 }
    let selector = data[0] % 4
    let fd = open(sidePath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { return 0 }
    _ = write(fd, data + 1, count - 1)
    close(fd)
    switch selector {
    case 0:
        if let layer = try? Policy.layer(fromFile: sidePath) {
            _ = Policy.default.applying(layer)
        }
    case 1:
        if let manifest = try? BatchManifest.read(sidePath) {
            precondition(!manifest.pairs.isEmpty)
        }
    case 2:
        _ = try? Baseline.read(sidePath)
    default:
        guard let bytes = try? SavedReport.read(sidePath) else { return 0 }
        if let batch = try? BatchReport.decode(bytes), let status = try? batch.validatedExitStatus() {
            precondition((0...2).contains(status.rawValue))
            _ = batch.terminalText()
            _ = batch.markdown(top: 5)
            _ = batch.junit().xml()
            _ = batch.githubAnnotations()
        } else if let report = try? ComparisonReport.decode(bytes), let status = try? report.validatedExitStatus() {
            precondition((0...2).contains(status.rawValue))
            _ = report.terminalText(.init(top: 5, all: true, colour: false))
            _ = report.markdown(top: 5)
            _ = JUnitDocument(name: "ckdiff", suites: report.junitSuites()).xml()
            _ = report.githubAnnotations()
        }
    }
    return 0
}
