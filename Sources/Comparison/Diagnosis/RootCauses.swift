import Checkpoints
import Safetensors

/// Groups per-pair diagnoses and leftovers into root causes (``Finding``), recognising known
/// converter conventions by name (checkpoint-formats §6-§8).
///
/// Every pair and leftover lands in at most one finding. Conventions come first
/// (`text_projection` orientation, the `logit_scale` placeholder, schedule buffers,
/// `position_ids`), then the `ema_match` pairs (one `ema_weights` finding: one side's UNet
/// holds the other side's EMA weights, or its live weights under `--ema`), then whole-component
/// casts, then the remaining verdicts grouped by verdict and component, then renames and
/// missing weights. Findings are ranked by the parameters they touch, then by severity.
struct RootCauses {
    /// One pair as root-cause analysis reads it: its first-stage comparison and its diagnosis.
    struct Diagnosed {
        let pair: AlignedPair
        let first: TensorComparison
        var diagnosis: PairDiagnosis
    }

    let alignment: Alignment
    /// Every pair of the alignment with its results, in pair order (members of a finding are positions here).
    let pairs: [Diagnosed]
    let renamed: [Diagnoser.Rename]
    let anotherModel: Bool
    /// The live-or-EMA analysis the `ema_match` verdicts came from, if any.
    let ema: EMAAnalysis?

    /// The key of a tensor without its folder or prefix path, for matching by name.
    static func endsWith(_ name: String, _ suffixes: [String]) -> Bool {
        suffixes.contains { name == $0 || name.hasSuffix("." + $0) || name.hasSuffix("/" + $0) }
    }

    static let textProjection = ["text_projection", "text_projection.weight"]
    static let logitScale = ["logit_scale"]
    static let positionIDs = ["position_ids"]
    /// The LDM EMA settings scalars (LitEma's `decay` and `num_updates`).
    static let emaSettings: Set<String> = ["model_ema.decay", "model_ema.num_updates"]

    /// `logit_scale` values writers are known to put there: ln(100) ≈ 4.6052 (the trained
    /// value of OpenAI and OpenCLIP models), 4.6055 (ComfyUI's initial value, also ln(100)
    /// rounded to F16) and 1 (OneTrainer's and kohya's placeholder).
    static let knownLogitScales: [Double] = [4.605170185988091, 4.6055, 1]

    /// Marks pairs a harmless known convention explains (a `logit_scale` placeholder): their
    /// verdict stays, but they no longer count as differences.
    static func recogniseConventions(_ pairs: inout [Diagnosed]) {
        for index in pairs.indices where pairs[index].diagnosis.verdict.isDifference {
            let c = pairs[index].first
            guard endsWith(c.aName, logitScale) || endsWith(c.bName, logitScale), c.elementCount == 1,
                  c.valuesCompared, c.finitePairs == 1 else { continue }
            let valueA = c.sumSquaresA.squareRoot(), valueB = c.sumSquaresB.squareRoot()
            let known = { (v: Double) in knownLogitScales.contains { abs(v - $0) <= 1e-3 * $0 } }
            if known(valueA) && known(valueB) && c.sumProducts > 0 {
                pairs[index].diagnosis.convention = "logit_scale_placeholder"
                pairs[index].diagnosis.evidence += "; logit_scale \(short(valueA)) in A and \(short(valueB)) in B are known writer values (unused for diffusion)"
            }
        }
    }

    private struct Group {
        var kind: String
        var severity: Finding.Severity
        var tensors: [String] = []
        var parameters = 0
        var message: (Int, Int) -> String
    }

    func findings() -> [Finding] {
        var findings: [Finding] = []
        var claimed = Set<Int>()

        // Conventions by name.
        var orientation: [Int] = [], placeholders: [Int] = [], positionCasts: [Int] = []
        for (index, c) in pairs.lazy.map(\.first).enumerated() {
            let d = pairs[index].diagnosis
            if d.verdict == .transposed && (Self.endsWith(c.aName, Self.textProjection) || Self.endsWith(c.bName, Self.textProjection)) {
                orientation.append(index)
            } else if d.convention == "logit_scale_placeholder" {
                placeholders.append(index)
            } else if d.verdict == .dtypeClassChange && (Self.endsWith(c.aName, Self.positionIDs) || Self.endsWith(c.bName, Self.positionIDs)) {
                positionCasts.append(index)
            }
        }
        if !orientation.isEmpty {
            let expected = orientation.allSatisfy { pairs[$0].first.transform == .transpose }
            let message = expected
                ? "text_projection kept in the HF (nn.Linear) orientation in B's OpenCLIP layout (OneTrainer/kohya convention); diffusers and ComfyUI transpose it"
                : "text_projection transposed between A and B: one follows OneTrainer/kohya (untransposed), the other diffusers/ComfyUI"
            findings.append(finding("text_projection_orientation", .warning, orientation, message))
            claimed.formUnion(orientation)
        }
        if !placeholders.isEmpty {
            findings.append(finding("logit_scale_placeholder", .info, placeholders,
                                    "logit_scale differs only by known writer values (ln 100 trained, 4.6055 ComfyUI, 1 OneTrainer/kohya placeholder); diffusion never reads it"))
            claimed.formUnion(placeholders)
        }
        if !positionCasts.isEmpty {
            let c = pairs[positionCasts[0]].first
            findings.append(finding("position_ids_cast", .info, positionCasts,
                                    "position_ids stored as \(c.bDType.name) in B and \(c.aDType.name) in A with equal values (a writer that casts every tensor)"))
            claimed.formUnion(positionCasts)
        }

        // One side's UNet holds the tested side's other weights (EMA copy, or live under --ema).
        let emaMatches = pairs.indices.filter { !claimed.contains($0) && pairs[$0].diagnosis.verdict == .emaMatch }
        if !emaMatches.isEmpty, let ema {
            let unetPairs = pairs.indices.filter { pairs[$0].first.component == .unet }.count
            let parameters = emaMatches.reduce(0) { $0.addingSaturating(max(pairs[$1].first.elementCount, elementCount(of: pairs[$1].first.aShape))) }
            findings.append(finding("ema_weights", .warning, emaMatches,
                                    Self.emaMessage(ema, tensors: emaMatches.count, of: unetPairs, parameters: parameters)))
            claimed.formUnion(emaMatches)
        }

        // Whole-component casts: exact casts (and matching non-exact casts) by component and dtypes.
        var casts: [String: [Int]] = [:]
        var castOrder: [String] = []
        for (index, c) in pairs.lazy.map(\.first).enumerated() where !claimed.contains(index) && c.aDType != c.bDType {
            let v = pairs[index].diagnosis.verdict
            guard v == .exactCast || v == .withinTolerance else { continue }
            let key = "\(c.component.rawValue)|\(c.aDType.name)|\(c.bDType.name)"
            if casts[key] == nil { castOrder.append(key) }
            casts[key, default: []].append(index)
        }
        for key in castOrder {
            guard let members = casts[key], let c = members.first.map({ pairs[$0].first }) else { continue }
            let componentPairs = pairs.indices.filter { pairs[$0].first.component == c.component }.count
            let exact = members.filter { pairs[$0].diagnosis.verdict == .exactCast }.count
            let scope = members.count == componentPairs ? "all \(members.count) tensors" : "\(members.count) of \(componentPairs) tensors"
            let unchecked = members.filter { pairs[$0].diagnosis.verdict != .exactCast && pairs[$0].first.castTarget == nil }.count
            let rounded = members.count - exact - unchecked
            var parts = ["\(exact) exact casts"]
            if rounded > 0 { parts.append("\(rounded) within tolerance but rounded otherwise") }
            if unchecked > 0 { parts.append("\(unchecked) within tolerance (exact-cast check not run: transposed or F64)") }
            let how = exact == members.count ? "exact casts" : parts.joined(separator: ", ")
            findings.append(finding("component_cast", .info, members,
                                    "\(c.component.displayName) stored as \(c.bDType.name) in B, \(c.aDType.name) in A: \(how) (\(scope))"))
            claimed.formUnion(members)
        }

        // Everything else that is not plainly equal, by verdict and component.
        var groups: [String: [Int]] = [:]
        var order: [String] = []
        for (index, c) in pairs.lazy.map(\.first).enumerated() where !claimed.contains(index) {
            let v = pairs[index].diagnosis.verdict
            if v == .identical || v == .exactCast { continue }
            if v == .withinTolerance && c.aDType == c.bDType { continue }
            if v == .swapped {
                findings.append(finding("swapped", .error, [index],
                                        "B's \(c.bName) holds A's \(pairs[index].diagnosis.holds ?? "other tensor") instead of its own values"))
                continue
            }
            let key = v == .unrelated && anotherModel ? "another_model" : "\(v.rawValue)|\(c.component.rawValue)"
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(index)
        }
        for key in order {
            guard let members = groups[key], let head = members.first else { continue }
            let c = pairs[head].first
            let component = c.component.displayName
            let verdict = pairs[head].diagnosis.verdict
            let n = members.count
            let plural = n == 1 ? "tensor" : "tensors"
            if key == "another_model" {
                findings.append(finding("another_model", .error, members,
                                        "\(n) \(plural) have no linear relation to A (|cosine| near 0): B looks like another model or random weights"))
                continue
            }
            switch verdict {
            case .transposed:
                findings.append(finding("transposed", .error, members, "\(n) \(component) \(plural) transposed (B = Aᵀ)"))
            case .permuted:
                let orders = Set(members.compactMap { pairs[$0].diagnosis.permutation.map { $0.map(String.init).joined(separator: ",") } })
                findings.append(finding("permuted", .error, members,
                                        "\(n) \(component) \(plural) with row blocks reordered (order [\(orders.sorted().joined(separator: "] / ["))]): q/k/v or scale/shift in another order"))
            case .scaled:
                let scales = members.compactMap { pairs[$0].diagnosis.scale }
                let same = scales.allSatisfy { abs($0 - scales[0]) <= 1e-3 * abs(scales[0]) }
                let text = same && !scales.isEmpty ? "by \(short(scales[0]))" : "by factors from \(short(scales.min() ?? 0)) to \(short(scales.max() ?? 0))"
                findings.append(finding("scaled", .error, members, "\(n) \(component) \(plural) scaled \(text) (B ≈ c·A)"))
            case .castDamage:
                let overflow = members.reduce(0) { $0 + pairs[$1].first.castOverflow }
                let flushed = members.reduce(0) { $0 + pairs[$1].first.castFlushed }
                let nan = members.reduce(0) { $0 + pairs[$1].first.castNaN }
                findings.append(finding("cast_damage", .error, members,
                                        "\(n) \(component) \(plural) damaged by the cast \(c.aDType.name)→\(c.bDType.name): \(overflow) values overflowed to ±Inf, \(flushed) flushed to zero, \(nan) became NaN"))
            case .nonfinite:
                let count = members.reduce(0) { $0 + pairs[$1].first.newNonFinite }
                findings.append(finding("nonfinite", .error, members, "\(n) \(component) \(plural) with \(count) NaN/Inf values in B where A is finite (not a cast overflow)"))
            case .unrelated:
                findings.append(finding("unrelated", .error, members, "\(n) \(component) \(plural) unrelated to A's values (|cosine| near 0)"))
            case .drifted:
                let cosines = members.map { pairs[$0].first.cosine }
                findings.append(finding("drifted", .error, members,
                                        "\(n) \(component) \(plural) correlated but changed beyond casts (cosine \(short(cosines.min() ?? 0)) to \(short(cosines.max() ?? 0))): further training, a merge or another model"))
            case .reshaped:
                findings.append(finding("reshaped", .warning, members, "\(n) \(component) \(plural) reshaped (size-1 dimensions added or dropped) where no mapping rule expects it"))
            case .shapeMismatch:
                findings.append(finding("shape_mismatch", .error, members, "\(n) \(component) \(plural) with shapes that cannot be lined up"))
            case .dtypeClassChange:
                findings.append(finding("dtype_class_change", .info, members, "\(n) \(component) \(plural) stored as integers on one side and floats on the other, with equal values"))
            case .withinTolerance:
                continue
            case .notCompared:
                findings.append(finding("not_compared", .warning, members, "\(n) \(component) \(plural) not compared: \(c.note ?? "values not decoded")"))
            case .outOfTolerance:
                findings.append(finding("out_of_tolerance", .error, members, "\(n) \(component) \(plural) differ beyond the tolerance (\(c.dtypeText) data)"))
            case .identical, .exactCast, .swapped, .emaMatch:
                // Not reached: identical and exact casts are skipped, swapped and (with an analysis) ema_match claimed above.
                findings.append(finding(verdict.rawValue, .error, members, "\(n) \(component) \(plural): \(verdict.rawValue)"))
            }
        }

        findings += renamedFindings()
        findings += leftoverFindings()
        return findings.enumerated().sorted { l, r in
            if l.element.parameters != r.element.parameters { return l.element.parameters > r.element.parameters }
            if l.element.severity != r.element.severity { return l.element.severity > r.element.severity }
            return l.offset < r.offset
        }.map(\.element)
    }

    /// The `ema_weights` message: which side holds which weights of the other, and the `--ema`
    /// choice that compares the matching copies.
    static func emaMessage(_ ema: EMAAnalysis, tensors: Int, of unetPairs: Int, parameters: Int) -> String {
        let tested = ema.side == .a ? "A" : "B", holder = ema.side == .a ? "B" : "A"
        let choice = "--ema \(ema.side.rawValue)"
        let scope = tensors == unetPairs
            ? "\(tensors) \(tensors == 1 ? "tensor" : "tensors"), \(parameters) parameters"
            : "\(tensors) of \(unetPairs) UNet tensors, \(parameters) parameters"
        if ema.mainIsEMA {
            return "\(holder)'s UNet holds \(tested)'s live weights, not the EMA copy \(choice) compares (\(scope)): without \(choice) the matching copies are compared"
        }
        let whose = ema.side == .a ? "its" : "B's"
        return "\(holder)'s UNet holds \(tested)'s EMA weights, not \(whose) live weights (\(scope)): \(choice) compares the matching copies"
    }

    /// A finding over pairs of the alignment (by position).
    private func finding(_ kind: String, _ severity: Finding.Severity, _ members: [Int], _ message: String) -> Finding {
        Finding(kind: kind, severity: severity, tensors: members.map { pairs[$0].pair.name },
                parameters: members.reduce(0) { $0.addingSaturating(max(pairs[$1].first.elementCount, elementCount(of: pairs[$1].first.aShape))) },
                message: message)
    }

    private func renamedFindings() -> [Finding] {
        renamed.map { r in
            let nameA = alignment.tensor(r.a).name, nameB = alignment.tensor(r.b).name
            return Finding(kind: "renamed", severity: .warning, tensors: [nameB], parameters: alignment.tensor(r.a).info.elementCount,
                           message: "B's \(nameB) holds A's \(nameA) (\(r.diagnosis.verdict.rawValue)): a rename no mapping rule knows")
        }
    }

    /// Leftovers not explained by a rename, grouped by class, side and component.
    private func leftoverFindings() -> [Finding] {
        typealias Entry = (tensor: Int, component: Component, kind: LeftoverClass)
        let sides: [(String, [Entry], Checkpoint, Set<Int>)] = [
            ("A", alignment.onlyInA.map { ($0.tensor, $0.component, $0.kind) }, alignment.a, Set(renamed.map(\.a.tensor))),
            ("B", alignment.onlyInB.map { ($0.tensor, $0.component, $0.kind) }, alignment.b, Set(renamed.map(\.b.tensor))),
        ]
        var findings: [Finding] = []
        for (side, list, checkpoint, renamedSet) in sides {
            var groups: [String: [Entry]] = [:]
            var order: [String] = []
            for leftover in list where !renamedSet.contains(leftover.tensor) {
                let name = checkpoint.tensors[leftover.tensor].name
                let special = Self.endsWith(name, Self.positionIDs) ? "position_ids"
                    : Self.endsWith(name, Self.logitScale) ? "logit_scale" : nil
                let key = special ?? "\(leftover.kind.rawValue)|\(leftover.kind == .weight || leftover.kind == .unknown ? leftover.component.rawValue : "")"
                if groups[key] == nil { order.append(key) }
                groups[key, default: []].append(leftover)
            }
            for key in order {
                guard let members = groups[key], let head = members.first else { continue }
                let names = members.map { checkpoint.tensors[$0.tensor].name }
                // Leftovers count their weights only, as the `ema` section does: the EMA `decay` and
                // `num_updates` settings (class `ema` or `set_aside`) are not parameters of the model.
                let parameters = members.reduce(0) { total, leftover in
                    let tensor = checkpoint.tensors[leftover.tensor]
                    return total + (Self.emaSettings.contains(tensor.name) ? 0 : tensor.info.elementCount)
                }
                let n = members.count
                let plural = n == 1 ? "tensor" : "tensors"
                let (kind, severity, message): (String, Finding.Severity, String)
                switch key {
                case "position_ids":
                    (kind, severity, message) = ("position_ids_only_in_\(side.lowercased())", .info,
                        "position_ids only in \(side): a buffer some writers add (ComfyUI's SDXL save) and others drop; it holds arange(77)")
                case "logit_scale":
                    (kind, severity, message) = ("logit_scale_only_in_\(side.lowercased())", .info,
                        "logit_scale only in \(side): the OpenCLIP layout keeps it, the HF layout drops it; diffusion never reads it")
                default:
                    switch head.kind {
                    case .scheduleBuffer:
                        (kind, severity, message) = ("schedule_buffers", .info,
                            "\(n) noise-schedule buffers only in \(side) (OneTrainer writes them, LDM originals keep them; diffusers keeps the schedule in scheduler_config.json)")
                    case .marker:
                        (kind, severity, message) = ("markers", .info, "\(n) marker \(plural) only in \(side) (v_pred, ztsnr, …: a writer's prediction-type flags)")
                    case .placeholder:
                        (kind, severity, message) = ("placeholders", .info, "\(n) placeholder \(plural) only in \(side) (what converters write for weights the other layout lacks)")
                    case .optional:
                        (kind, severity, message) = ("pruned_optional", .info, "\(n) \(plural) only in \(side) that some writers prune (unused by SDXL)")
                    case .layoutOnly:
                        (kind, severity, message) = ("layout_only", .info, "\(n) layout-only \(plural) only in \(side)")
                    case .ema:
                        (kind, severity, message) = ("ema_only_in_\(side.lowercased())", .info, "\(n) EMA \(plural) only in \(side)")
                    case .setAside:
                        (kind, severity, message) = ("set_aside", .info, "\(n) \(plural) of \(side) set aside by --ema (weights another copy stands for)")
                    case .weight, .unknown:
                        (kind, severity, message) = ("missing_weights", .error,
                            "\(n) \(head.component.displayName) \(plural) only in \(side)\(head.kind == .unknown ? " (keys ckdiff does not recognise)" : ""): the other side lacks these weights")
                    }
                }
                findings.append(Finding(kind: kind, severity: severity, tensors: names, parameters: parameters, message: message))
            }
        }
        return findings
    }
}
