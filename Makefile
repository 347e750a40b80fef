# ConvKit: plain Makefile (no CMake). Every target is one or two commands.
#   make bench    build (release) and run the benchmark suite, warm and cold figures (default suite;
#                 BENCH_ARGS="--suite broad" or make bench-broad: the broad layer suite)
#   make bench-networks  whole networks (LeNet-5 ... CycleGAN): training step and inference, peak memory
#                 (BENCH_ARGS="--profile --filter resnet18/16": the time per layer)
#   make test     run the test suite (release build)
#   make demo     train LeNet-5 on the bundled MNIST subset
#   make demo-resnet  train a small ResNet (batch norm, dropout) on the bundled MNIST subset
#   make compare  ConvKit beside ONNX Runtime / PyTorch on the default and broad suites and whole networks
#                 (COMPARE_SUITE=default, broad or networks for one of them; docs/Benchmarks.md)
#   make parity   ResNet, VGG-BN, AlexNet, MobileNetV2, U-Net and the CycleGAN generator against
#                 PyTorch (outputs, loss, gradients, running statistics; training and evaluation;
#                 1 and 2 threads); Tools/parity/parity.sh
#   make check    the test suite under AddressSanitizer and ThreadSanitizer
#   make deps     install the system packages (Debian/Ubuntu, as root)
#   make docs     DocC documentation of ConvKit and ConvKitKernels, as static sites in docs-site/
#                 (swift-docc-plugin, added to the package only for this target: CONVKIT_DOCS=1)
SWIFT   ?= swift
CONFIG  ?= release
SWIFTFLAGS ?=
BENCH_ARGS ?=
DEMO_ARGS ?=

# Old OpenBLAS builds misbehave on some CPUs unless the core type is pinned; tests and CI keep
# these two settings (the environment of our machines sets them; this makes a fresh shell match).
TEST_ENV = OPENBLAS_CORETYPE=$${OPENBLAS_CORETYPE:-Haswell} OPENBLAS_L2_SIZE=$${OPENBLAS_L2_SIZE:-512}

APT_PACKAGES = libopenblas-dev liblapacke-dev pkg-config

.PHONY: all deps check-blas build test check check-asan check-tsan fuzz bench bench-quick bench-broad bench-networks demo demo-resnet compare parity docs clean

all: build

# Installs OpenBLAS, LAPACKE and pkg-config when they are missing (Debian/Ubuntu, needs root or sudo).
deps:
	@if pkg-config --exists openblas 2>/dev/null && [ -f /usr/include/lapacke.h ]; then \
	  echo "deps: OpenBLAS and LAPACKE present"; \
	elif command -v apt-get >/dev/null 2>&1; then \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO="sudo"; \
	  echo "deps: installing $(APT_PACKAGES) with apt-get"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(APT_PACKAGES); \
	else \
	  echo "deps: please install OpenBLAS (with its CBLAS header and pkg-config file) and LAPACKE:"; \
	  echo "      Fedora: dnf install openblas-devel lapack-devel pkgconf; macOS: brew install openblas lapack"; \
	  exit 1; \
	fi

check-blas:
	@pkg-config --exists openblas && echo "openblas: $$(pkg-config --modversion openblas) $$(pkg-config --cflags --libs openblas)" \
	  || (echo "openblas.pc not found: run 'make deps'"; exit 1)

build: deps
	$(SWIFT) build -c $(CONFIG) $(SWIFTFLAGS)

test: deps
	$(TEST_ENV) $(SWIFT) test -c $(CONFIG) $(SWIFTFLAGS)

# The test suite under AddressSanitizer (+ LeakSanitizer) and ThreadSanitizer, each in its own
# build folder. Zero reports expected; suppressions are justified in Tests/Sanitizers/lsan.supp.
check: check-asan check-tsan

check-asan: deps
	$(TEST_ENV) ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/Tests/Sanitizers/lsan.supp \
	  $(SWIFT) test -c release --sanitize=address --scratch-path .build-asan $(SWIFTFLAGS)

check-tsan: deps
	$(TEST_ENV) TSAN_OPTIONS=halt_on_error=1 \
	  $(SWIFT) test -c release --sanitize=thread --scratch-path .build-tsan $(SWIFTFLAGS)

bench: deps
	$(SWIFT) build -c release --product convkit-bench $(SWIFTFLAGS)
	$$($(SWIFT) build -c release --show-bin-path $(SWIFTFLAGS))/convkit-bench --cold $(BENCH_ARGS)

bench-quick: deps
	$(SWIFT) build -c release --product convkit-bench $(SWIFTFLAGS)
	$$($(SWIFT) build -c release --show-bin-path $(SWIFTFLAGS))/convkit-bench --quick $(BENCH_ARGS)

bench-broad: deps
	$(SWIFT) build -c release --product convkit-bench $(SWIFTFLAGS)
	$$($(SWIFT) build -c release --show-bin-path $(SWIFTFLAGS))/convkit-bench --suite broad $(BENCH_ARGS)

bench-networks: deps
	$(SWIFT) build -c release --product convkit-bench $(SWIFTFLAGS)
	$$($(SWIFT) build -c release --show-bin-path $(SWIFTFLAGS))/convkit-bench --suite networks --cold $(BENCH_ARGS)

demo: deps
	$(SWIFT) build -c release --product train-lenet $(SWIFTFLAGS)
	$$($(SWIFT) build -c release --show-bin-path $(SWIFTFLAGS))/train-lenet $(DEMO_ARGS)

demo-resnet: deps
	$(SWIFT) build -c release --product train-resnet $(SWIFTFLAGS)
	$$($(SWIFT) build -c release --show-bin-path $(SWIFTFLAGS))/train-resnet $(DEMO_ARGS)

# libFuzzer on every file reader (nested package Fuzz/, built with -sanitize=fuzzer,address);
# FUZZ_SECONDS per fuzzer (default 60), FUZZERS to pick some. See docs/Fuzzing.md.
fuzz: deps
	bash Fuzz/run.sh

compare: deps
	bash Benchmarks/compare/compare.sh

# One static site per module (open docs-site/<Module>/index.html through a web server, or host the
# folder at /<Module>/). Its own build folder, so the plugin's resolution never touches .build.
DOCS_OUT ?= docs-site
DOCS_ENV = CONVKIT_DOCS=1
DOCS_SCRATCH = .build-docs
docs: deps
	@mkdir -p $(DOCS_OUT); for target in ConvKit ConvKitKernels; do \
	  echo "docs: $$target -> $(DOCS_OUT)/$$target"; \
	  $(DOCS_ENV) $(SWIFT) package --scratch-path $(DOCS_SCRATCH) \
	    --allow-writing-to-directory $(DOCS_OUT)/$$target \
	    generate-documentation --target $$target --disable-indexing \
	    --transform-for-static-hosting --hosting-base-path $$target \
	    --output-path $(DOCS_OUT)/$$target || exit 1; \
	done

# PARITY_MODELS=resnet18,... for a subset, THREADS=1,2; PARITY_FIXTURES=1 regenerates the test fixtures.
parity: deps
	bash Tools/parity/parity.sh

clean:
	rm -rf .build .build-docs $(DOCS_OUT)
