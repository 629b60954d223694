import NTrainCore
