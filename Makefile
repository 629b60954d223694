# ntrain: build, test, demo and benchmarks. `make setup` installs the system packages (Debian).
SWIFT ?= swift
APT_PACKAGES = libopenblas-dev zlib1g-dev libpng-dev libjpeg62-turbo-dev dataset-fashion-mnist openmpi-bin libopenmpi-dev

.PHONY: setup build release test test-checked test-release demo bench clean

setup:
	@if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	  if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi; \
	else echo "setup: install$(foreach p,$(APT_PACKAGES), $(p)) with your package manager"; fi

build: setup
	$(SWIFT) build

release: setup
	$(SWIFT) build -c release

# Unit, gradient, golden and CLI tests. Engine targets are always optimised, so a debug build is enough.
test: setup
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	$(MAKE) test-checked

# The same tests with the engine compiled with -O instead of -Ounchecked (bounds checks and
# preconditions kept), in its own build folder: a precondition that is wrong fails a test here.
test-checked:
	NTRAIN_CHECKED=1 $(SWIFT) build --build-tests --scratch-path .build-checked
	NTRAIN_CHECKED=1 $(SWIFT) test --skip-build --scratch-path .build-checked

# Trains the Fashion-MNIST LeNet (Debian's dataset-fashion-mnist copy, no download) into a new run
# folder and evaluates its best checkpoint.
demo: release
	@out=runs/demo/$$(date +%Y%m%d-%H%M%S); \
	.build/release/ntrain train configs/fashion-mnist-lenet.json --out $$out && \
	.build/release/ntrain eval $$out/best.mge

bench: release
	scripts/bench

clean:
	rm -rf .build
