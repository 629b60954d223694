import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one progress bar of every command (training, download, predict): on a terminal a line
/// redrawn in place and cut to the terminal's width, so it never wraps and leaves no stale line;
/// elsewhere (a log, a pipe, CI) nothing is drawn and `line` prints plain lines.
final class LiveBar: @unchecked Sendable {
    private let handle: FileHandle
    let isInteractive: Bool
    private var shown = false
    private let lock = NSLock()

    /// A bar on standard error (`toStandardOutput` for training's, which shares its stream with the log lines).
    init(toStandardOutput: Bool = false) {
        handle = toStandardOutput ? .standardOutput : .standardError
        isInteractive = isatty(toStandardOutput ? STDOUT_FILENO : STDERR_FILENO) != 0
    }

    /// The terminal's width in columns (ioctl, else $COLUMNS, else 80).
    var columns: Int {
        var size = winsize()
        if ioctl(handle.fileDescriptor, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        if let c = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init), c > 0 { return c }
        return 80
    }

    /// Redraws the bar: `[####....] text`, the bar part `fraction` full (none when nil). The whole
    /// line is cut to one column less than the terminal so the cursor never wraps.
    func draw(fraction: Double?, _ text: String) {
        guard isInteractive else { return }
        lock.lock(); defer { lock.unlock() }
        let limit = max(10, columns - 1)
        var rendered = text
        if let fraction {
            let width = min(20, max(5, limit / 4))
            let filled = Int(Double(width) * min(1, max(0, fraction)))
            rendered = "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] " + text
        }
        if rendered.count > limit { rendered = String(rendered.prefix(limit - 1)) + "…" }
        handle.write(Data(("\r\u{1B}[K" + rendered).utf8))
        shown = true
    }

    /// Removes the bar (before other output, and at the end).
    func clear() {
        lock.lock(); defer { lock.unlock() }
        if shown { handle.write(Data("\r\u{1B}[K".utf8)); shown = false }
    }

    /// Prints a line on the bar's stream, above where the bar is redrawn next.
    func line(_ text: String) {
        clear()
        handle.write(Data((text + "\n").utf8))
    }
}

/// "1 epoch", "3 epochs".
func counted(_ n: Int, _ singular: String, _ plural: String? = nil) -> String {
    "\(n) \(n == 1 ? singular : plural ?? singular + "s")"
}
