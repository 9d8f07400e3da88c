/// Makes text taken from an input file safe to echo in a one-line message on a terminal.
///
/// Names, dtype strings, keys and numbers come from files that may be hostile: an ESC or BEL
/// in a tensor name would reach the terminal (`ESC ] 0 ; … BEL` sets its title) and a CR or LF
/// would break the "one line per error" promise. Every message that echoes such text passes it
/// through ``text(_:limit:)`` (values) or ``line(_:)`` (a whole message as a last pass).
package enum Printable {
    /// The most characters of one echoed value kept in a message.
    package static let valueLimit = 200

    /// The most characters of a whole one-line message (paths and several values included).
    package static let lineLimit = 8_192

    /// Whether a scalar is replaced by `?`: control characters (C0, DEL, C1), line and paragraph
    /// separators, whitespace other than the space, and the bidirectional overrides and isolates.
    package static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x20: return false
        case 0x00..<0x20, 0x7F...0x9F: return true
        case 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return true
        default: return scalar.properties.isWhitespace
        }
    }

    /// `text` with every unsafe scalar (``isUnsafe(_:)``) replaced by `?`, cut to `limit`
    /// Unicode scalars with `…` appended when it is longer.
    ///
    /// Only the first `limit + 1` scalars are looked at, so a megabyte-long value (or one
    /// character with a million combining marks) costs no more than a short one.
    package static func text(_ text: some StringProtocol, limit: Int = valueLimit) -> String {
        var result = String.UnicodeScalarView()
        var count = 0
        for scalar in text.unicodeScalars {
            guard count < max(limit, 0) else { return String(result) + "…" }
            count += 1
            result.append(isUnsafe(scalar) ? "?" : scalar)
        }
        return String(result)
    }

    /// A whole message made safe for one terminal line: unsafe scalars replaced, at most ``lineLimit`` characters.
    package static func line(_ text: some StringProtocol) -> String {
        Printable.text(text, limit: lineLimit)
    }

    /// A list of integers (a shape, a stride) as `[a, b, c]`, at most `limit` items and each item
    /// at most 24 digits, with the number of items left out said.
    package static func list<T: BinaryInteger>(_ items: [T], limit: Int = 8) -> String {
        var parts = items.prefix(max(limit, 0)).map { Printable.text(String($0), limit: 24) }
        if items.count > limit { parts.append("… \(items.count - limit) more") }
        return "[" + parts.joined(separator: ", ") + "]"
    }
}
