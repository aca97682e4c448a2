# The README's two commands: `make run` (install, build, run the main job) and `make test`.
BUILD ?= build
JOBS ?= $(shell nproc)
PYTHON ?= /usr/bin/python3
CMAKE_FLAGS ?=

.PHONY: run test build deps bench clean

deps:
	bash scripts/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# The main job: CP of the handwritten digits shipped by Debian's python3-sklearn.
run: build
	$(BUILD)/facto demo --out results/digits

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

bench: build
	$(PYTHON) bench/run_all.py --build $(BUILD)
	$(PYTHON) bench/run_lowrank.py --build $(BUILD)
	$(PYTHON) bench/run_nmf.py --build $(BUILD)
	$(PYTHON) bench/run_recommend.py --facto $(BUILD)/facto --data $(BUILD)/workloads

clean:
	rm -rf $(BUILD)
