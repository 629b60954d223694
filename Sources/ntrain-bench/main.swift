import NTrainEngine
print("ntrain-bench: no benchmarks yet")
