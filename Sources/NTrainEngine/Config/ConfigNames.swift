/// Built-in datasets (DESIGN §2, §5).
public enum DatasetName: String, Codable, CaseIterable, Sendable {
    case mnist
    case fashionMNIST = "fashion-mnist"
    case cifar10
    case syntheticLinear = "synthetic_linear"
    case random
    case imageCSV = "image_csv"
    case imageFolder = "image_folder"

    /// The stored images' `[C, H, W]` of a built-in image dataset (nil where the files decide).
    public var builtinImageShape: [Int]? {
        switch self {
        case .mnist, .fashionMNIST: return [1, 28, 28]
        case .cifar10: return [3, 32, 32]
        case .syntheticLinear, .random, .imageCSV, .imageFolder: return nil
        }
    }
}

/// Built-in model architectures.
public enum Architecture: String, Codable, CaseIterable, Sendable {
    case lenet, lenet5
    case cifarCNN = "cifar_cnn"
    case convBN = "conv_bn"
    case mlp, linear
    case resnet20, resnet32, resnet56, resnet18

    /// Whether the architecture is a ResNet (it takes `width`).
    public var isResNet: Bool { [.resnet20, .resnet32, .resnet56, .resnet18].contains(self) }

    /// The activation the architecture uses unless the config says otherwise (nil: none).
    public var defaultActivation: Activation? {
        switch self {
        case .lenet5: return .gelu
        case .lenet, .cifarCNN, .convBN, .mlp, .resnet20, .resnet32, .resnet56, .resnet18: return .relu
        case .linear: return nil
        }
    }

    /// The pooling the architecture uses unless the config says otherwise (nil: no pooling).
    public var defaultPool: PoolKind? {
        switch self {
        case .lenet5: return .avg
        case .lenet, .cifarCNN, .convBN: return .max
        case .mlp, .linear, .resnet20, .resnet32, .resnet56, .resnet18: return nil
        }
    }
}

public enum Activation: String, Codable, CaseIterable, Sendable {
    case relu
    case leakyRelu = "leaky_relu"
    case gelu, sigmoid, tanh
}

/// Test-time augmentation: `flip` averages the logits of each image and its mirror image (left
/// to right), as airbench's and timm's evaluation do.
public enum TestTimeAugmentation: String, Codable, CaseIterable, Sendable { case none, flip }

/// A conv layer's own weight initialisation. `dirac`: the first min(out, in) filters pass their
/// input channel through unchanged (PyTorch's `nn.init.dirac_`, airbench's identity init), the
/// rest keep the model's init. `patch_whitening`: the first layer's filters whiten the image's
/// patches, computed from the first 5,000 training images before training (airbench).
public enum ConvInit: String, Codable, CaseIterable, Sendable {
    case dirac
    case patchWhitening = "patch_whitening"
}

/// How a `branches` block merges its paths: elementwise sum, or concatenation along the channels.
public enum BranchMerge: String, Codable, CaseIterable, Sendable { case add, concat }

public enum PoolKind: String, Codable, CaseIterable, Sendable { case max, avg }

/// Weight initialisation of conv and linear layers (biases follow PyTorch's default).
public enum InitScheme: String, Codable, CaseIterable, Sendable {
    case kaimingUniform = "kaiming_uniform"
    case kaimingNormal = "kaiming_normal"
    case xavierUniform = "xavier_uniform"
    case xavierNormal = "xavier_normal"
    /// N(0, init_std) weights and zero biases (MindSpore's `Normal(0.02)`).
    case normal
}

public enum LossKind: String, Codable, CaseIterable, Sendable {
    case crossEntropy = "cross_entropy"
    case nll, mse, l1
    case smoothL1 = "smooth_l1"
    case binaryCrossEntropy = "binary_cross_entropy"
    case binaryCrossEntropyWithLogits = "binary_cross_entropy_with_logits"
}

public enum Reduction: String, Codable, CaseIterable, Sendable { case mean, sum }

public enum OptimizerKind: String, Codable, CaseIterable, Sendable {
    case sgd, adam, adamw, nadam, adagrad, rmsprop
}

public enum SchedulerKind: String, Codable, CaseIterable, Sendable {
    case constant, step, multistep, exponential, cosine
    case inverseTime = "inverse_time"
    case piecewise, plateau, warmup, chain, sequential
    case oneCycle = "one_cycle"
}

/// How `one_cycle` moves between its values.
public enum AnnealStrategy: String, Codable, CaseIterable, Sendable { case cos, linear }

/// When a scheduler advances: after every epoch or every optimizer step.
public enum ScheduleInterval: String, Codable, CaseIterable, Sendable { case epoch, step }

/// What to do when the loss or a gradient is NaN/Inf.
public enum NaNPolicy: String, Codable, CaseIterable, Sendable { case stop, skip }

/// Whether a monitored metric improves by going down or up.
public enum MonitorMode: String, Codable, CaseIterable, Sendable {
    case min, max

    /// The natural direction of a metric: accuracy goes up, losses and errors go down.
    public static func natural(for metric: MonitoredMetric) -> MonitorMode {
        switch metric {
        case .accuracy, .top5: return .max
        case .loss, .mae, .mse, .rmse: return .min
        }
    }
}

/// Evaluation metrics that checkpointing, early stopping and plateau scheduling can watch.
public enum MonitoredMetric: String, Codable, CaseIterable, Sendable {
    case loss, accuracy, top5, mae, mse, rmse
}
