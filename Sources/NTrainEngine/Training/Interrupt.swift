import Foundation

/// Ctrl-C handling for training: the first SIGINT asks the loop to stop after the current step
/// (it then checkpoints and exits 130); a second one exits at once.
public enum Interrupt {
    nonisolated(unsafe) private static var count: Int32 = 0

    /// Whether a stop was requested.
    public static var requested: Bool { count > 0 }

    public static func install() {
        count = 0
        signal(SIGINT) { _ in
            Interrupt.count += 1
            if Interrupt.count >= 2 { _exit(130) }
        }
    }

    /// Restores the default SIGINT behaviour.
    public static func uninstall() { signal(SIGINT, SIG_DFL) }

    /// For tests: behave as if Ctrl-C had been pressed once.
    public static func simulate() { count = 1 }

    /// Forgets any request (a new run starts clean).
    public static func reset() { count = 0 }
}
