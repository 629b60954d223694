/// The ntrain version recorded in checkpoints and printed by `ntrain --version`.
public enum NTrainVersion {
    public static let string = "0.1.0"
}
