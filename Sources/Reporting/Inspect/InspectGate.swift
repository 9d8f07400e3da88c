/// The outcome of `ckdiff inspect --fail-on`: which categories found something in the one checkpoint.
public struct InspectGate: Sendable, Codable, Equatable {
    /// The categories asked for, as written (`nonfinite`, `dtype-mix`, …).
    public var failOn: [String]
    /// Whether any category found something (exit status 1).
    public var failed: Bool
    /// The categories that found something, in fail-on order.
    public var triggered: [Check]

    enum CodingKeys: String, CodingKey {
        case failOn = "fail_on"
        case failed, triggered
    }

    /// One category and what it found.
    public struct Check: Sendable, Codable, Equatable {
        /// The category (`nonfinite`, …).
        public var category: String
        /// The tensors concerned (for `ema-partial`: none; the EMA summary has the counts).
        public var tensors: [String]
        /// The finding's message, or the EMA status line.
        public var message: String
    }

    public init(failOn: [String], failed: Bool, triggered: [Check]) {
        self.failOn = failOn
        self.failed = failed
        self.triggered = triggered
    }
}

extension InspectReport {
    /// This report with its gate decided for `categories` (the findings and EMA summary are read, not changed).
    public func gated(by categories: [InspectFailOn]) -> InspectReport {
        var checks: [InspectGate.Check] = []
        for category in categories {
            if let kind = category.findingKind {
                let found = findings.filter { $0.kind == kind }
                if !found.isEmpty {
                    checks.append(.init(category: category.rawValue, tensors: found.flatMap(\.tensors),
                                        message: found.map(\.message).joined(separator: "; ")))
                }
            } else if category == .emaPartial && ema.status == "partial" {
                checks.append(.init(category: category.rawValue, tensors: [],
                                    message: "\(ema.tensors) EMA tensors for \(ema.unetTensors) UNet tensors"))
            }
        }
        var report = self
        report.gate = InspectGate(failOn: categories.map(\.rawValue), failed: !checks.isEmpty, triggered: checks)
        return report
    }
}
