# Set-up and entry points. `make demo` and `make test` each do everything on a fresh Debian 12
# machine: install the packages (scripts/install-deps), configure, build, run.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
CERVIRISK = $(BUILD)/bin/cervirisk
# OpenMP threads that spin while waiting starve the loader threads on a 2-core machine.
export OMP_WAIT_POLICY ?= PASSIVE

.PHONY: all deps configure build test test-slow test-all test-sanitize fuzz demo bench clean

all: build

deps:
	@scripts/install-deps

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS)

configure: deps $(BUILD)/build.ninja

build: configure
	cmake --build $(BUILD) -j $(JOBS)

# Unit tests (label unit); the long ones have label slow: `make test-slow`.
test: build
	cd $(BUILD) && ctest -L unit -j $(JOBS) --output-on-failure --timeout 900

test-slow: build
	cd $(BUILD) && ctest -L slow --output-on-failure --timeout 3600

test-all: build
	cd $(BUILD) && ctest -j $(JOBS) --output-on-failure --timeout 3600

# The unit tests under AddressSanitizer + UndefinedBehaviorSanitizer, in their own build folder.
# LibTorch itself is not instrumented; leak checking is off (LibTorch's and OpenBLAS's process-
# lifetime allocations would drown the report); handle_segv=0 lets the sandbox tests' deliberate
# SIGSEGV in a child kill it by the signal, as the sandbox expects (ASan would turn it into exit 1).
SANITIZE_BUILD ?= build-sanitize
test-sanitize: deps
	cmake -S . -B $(SANITIZE_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_FLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" $(CMAKE_FLAGS)
	cmake --build $(SANITIZE_BUILD) -j $(JOBS)
	cd $(SANITIZE_BUILD) && ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:handle_segv=0 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest -L unit -j $(JOBS) --output-on-failure --timeout 1800

# Coverage-guided fuzzing (docs/reliability.md): clang + libFuzzer with ASan + UBSan in build-fuzz,
# every harness of tests/fuzz for FUZZ_SECONDS, FUZZ_JOBS at a time; fails on any finding. The
# service and bundle harnesses link the normal build's LibTorch modules (tests/fuzz/CMakeLists.txt).
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_JOBS ?= $(JOBS)
FUZZ_TARGETS ?=
fuzz: build
	@scripts/install-deps --fuzz
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCERVIRISK_FUZZ=ON -DCERVIRISK_BUILD_TESTS=OFF -DCERVIRISK_BUILD_BENCH=OFF -DCERV_FUZZ_PREBUILT=$(abspath $(BUILD)) \
	  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
	  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" $(CMAKE_FLAGS)
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_all
	CERV_FUZZ_CLI=$(abspath $(CERVIRISK)) scripts/fuzz $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_JOBS) $(FUZZ_TARGETS)

demo: build
	$(CERVIRISK) demo --out out/demo

# Benchmarks need the reference tools (R, Python torch, nibabel): installed by --reference.
bench: build
	@scripts/install-deps --reference
	@bench/run-all $(BUILD)

clean:
	rm -rf $(BUILD)
