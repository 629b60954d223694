import Foundation

/// Ctrl-C handling for training: the first SIGINT (or SIGTERM, as a batch scheduler or mpirun
/// sends) asks the loop to stop after the current step (it then checkpoints and exits 130); a
/// second one exits at once. In a data-parallel run, a request on any rank stops every rank at
/// the same step.
public enum Interrupt {
    nonisolated(unsafe) private static var count: Int32 = 0

    /// Whether a stop was requested.
    public static var requested: Bool { count > 0 }

    public static func install() {
        count = 0
        for name in [SIGINT, SIGTERM] {
            signal(name) { _ in
                Interrupt.count += 1
                if Interrupt.count >= 2 { _exit(130) }
            }
        }
    }

    /// Restores the default SIGINT and SIGTERM behaviour.
    public static func uninstall() {
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }

    /// For tests: behave as if Ctrl-C had been pressed once.
    public static func simulate() { count = 1 }

    /// Forgets any request (a new run starts clean).
    public static func reset() { count = 0 }
}
