import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Checks a JUnit XML document against the rules of the two schemas CI servers use, at once.
///
/// The rules are those of Ant's `JUnit.xsd` (windyroad/JUnit-Schema, the strict one) and of Jenkins'
/// `junit-10.xsd` (xunit-plugin): a document that passes is valid under both.
/// - root `testsuites` (no attributes: Ant declares none) holding only `testsuite` elements;
/// - `testsuite`: exactly the children `properties`, `testcase`*, `system-out`, `system-err`, in that
///   order; attributes `name` and `hostname` (non-empty), `package`, `id` (integer), `timestamp`
///   (`yyyy-mm-ddThh:mm:ss`, no time zone), `tests`, `failures`, `errors` (integers) and `time`
///   (decimal) all required, no others;
/// - `properties`: only `property` elements with `name` and `value`;
/// - `testcase`: `name`, `classname`, `time` (decimal) required, no other attribute; at most one child,
///   `failure` or `error`, whose `type` is required and whose only other attribute may be `message`;
/// - the counts agree: `tests`, `failures` and `errors` equal the cases, failures and errors listed.
public enum JUnitValidator {
    /// The rule violations of `data`, empty when it passes.
    public static func violations(of data: Data) -> [String] {
        let builder = TreeBuilder()
        let parser = XMLParser(data: data)
        parser.delegate = builder
        guard parser.parse(), let root = builder.root else {
            return ["not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "no root element")"]
        }
        var problems: [String] = []
        guard root.name == "testsuites" else { return ["root element is <\(root.name)>, expected <testsuites>"] }
        if !root.attributes.isEmpty { problems.append("testsuites: attributes \(root.attributes.keys.sorted()) are not in Ant's schema") }
        for (i, suite) in root.children.enumerated() {
            guard suite.name == "testsuite" else { problems.append("testsuites: unexpected <\(suite.name)>"); continue }
            problems += check(suite: suite, path: "testsuite[\(i)]")
        }
        return problems
    }

    private static func check(suite: Element, path: String) -> [String] {
        var problems: [String] = []
        let required = ["name", "package", "id", "timestamp", "hostname", "tests", "failures", "errors", "time"]
        problems += attributes(of: suite, required: required, optional: [], path: path)
        let name = suite.attributes["name"] ?? ""
        if name.trimmingCharacters(in: .whitespaces).isEmpty { problems.append("\(path): empty name") }
        if (suite.attributes["hostname"] ?? "").trimmingCharacters(in: .whitespaces).isEmpty { problems.append("\(path): empty hostname") }
        for attribute in ["id", "tests", "failures", "errors"] {
            if let value = suite.attributes[attribute], Int(value) == nil { problems.append("\(path): \(attribute)=\"\(value)\" is not an integer") }
        }
        if let time = suite.attributes["time"], !isDecimal(time) { problems.append("\(path): time=\"\(time)\" is not a decimal") }
        if let stamp = suite.attributes["timestamp"],
           stamp.range(of: #"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$"#, options: .regularExpression) == nil {
            problems.append("\(path): timestamp=\"\(stamp)\" is not yyyy-mm-ddThh:mm:ss")
        }
        let names = suite.children.map(\.name)
        let cases = suite.children.filter { $0.name == "testcase" }
        let expected = ["properties"] + Array(repeating: "testcase", count: cases.count) + ["system-out", "system-err"]
        if names != expected { problems.append("\(path): children \(names) are not properties, testcase*, system-out, system-err") }
        for properties in suite.children where properties.name == "properties" {
            for property in properties.children {
                if property.name != "property" { problems.append("\(path): <properties> holds <\(property.name)>"); continue }
                problems += attributes(of: property, required: ["name", "value"], optional: [], path: "\(path)/property")
            }
        }
        for text in suite.children where text.name == "system-out" || text.name == "system-err" {
            if !text.children.isEmpty || !text.attributes.isEmpty { problems.append("\(path): <\(text.name)> must hold text only") }
        }
        var failures = 0, errors = 0
        for (j, testcase) in cases.enumerated() {
            let casePath = "\(path)/testcase[\(j)]"
            problems += attributes(of: testcase, required: ["name", "classname", "time"], optional: [], path: casePath)
            if let time = testcase.attributes["time"], !isDecimal(time) { problems.append("\(casePath): time=\"\(time)\" is not a decimal") }
            if testcase.children.count > 1 { problems.append("\(casePath): more than one child") }
            for child in testcase.children {
                switch child.name {
                case "failure": failures += 1
                case "error": errors += 1
                default: problems.append("\(casePath): unexpected <\(child.name)>"); continue
                }
                problems += attributes(of: child, required: ["type"], optional: ["message"], path: "\(casePath)/\(child.name)")
                if !child.children.isEmpty { problems.append("\(casePath)/\(child.name): must hold text only") }
            }
        }
        if suite.attributes["tests"].flatMap(Int.init) != cases.count { problems.append("\(path): tests=\(suite.attributes["tests"] ?? "-") but \(cases.count) testcases") }
        if suite.attributes["failures"].flatMap(Int.init) != failures { problems.append("\(path): failures=\(suite.attributes["failures"] ?? "-") but \(failures) <failure>") }
        if suite.attributes["errors"].flatMap(Int.init) != errors { problems.append("\(path): errors=\(suite.attributes["errors"] ?? "-") but \(errors) <error>") }
        return problems
    }

    private static func attributes(of element: Element, required: [String], optional: [String], path: String) -> [String] {
        var problems: [String] = []
        for name in required where element.attributes[name] == nil {
            problems.append("\(path): missing required attribute '\(name)'")
        }
        for name in element.attributes.keys.sorted() where !required.contains(name) && !optional.contains(name) {
            problems.append("\(path): attribute '\(name)' is not in the schema")
        }
        return problems
    }

    private static func isDecimal(_ text: String) -> Bool {
        text.range(of: #"^[0-9]+(\.[0-9]+)?$"#, options: .regularExpression) != nil
    }

    final class Element {
        let name: String
        let attributes: [String: String]
        var children: [Element] = []
        var text = ""

        init(name: String, attributes: [String: String]) {
            self.name = name
            self.attributes = attributes
        }
    }

    final class TreeBuilder: NSObject, XMLParserDelegate {
        var root: Element?
        private var stack: [Element] = []

        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                    qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
            let element = Element(name: elementName, attributes: attributeDict)
            if let parent = stack.last { parent.children.append(element) } else { root = element }
            stack.append(element)
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
            stack.removeLast()
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            stack.last?.text += string
        }
    }
}
