# Artifier. `make demo` and `make test` are all a fresh machine needs (../shared beside the repo).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SHARED ?= ../shared/data
ART    ?= $(SHARED)/art
PHOTOS ?= $(SHARED)/photos
INDEX  ?= indexes/art
DEMO_PHOTO ?= $(PHOTOS)/chelsea-cat.jpg
# The demo indexes every 8th shared artwork (282) once, as links, and reuses it.
DEMO_ART   := out/demo-art
DEMO_INDEX := indexes/demo
STAMP  := $(VENV)/.installed

# `make serve` opens the studio on this index (the demo's unless told otherwise).
SERVE_INDEX ?= $(DEMO_INDEX)

.PHONY: install browser test test-cluster demo demo-index serve index gallery bench clean

install: $(STAMP) browser

# The studio's browser test drives Debian's chromium; without it that test is skipped.
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    chromium chromium-driver >/dev/null) || echo "note: apt could not install chromium; the studio's browser test will be skipped"; \
	else echo "note: no chromium and chromedriver (Debian: apt-get install chromium chromium-driver as root); the studio's browser test will be skipped"; fi

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.14.1 torchvision==0.29.1
	$(BIN)/pip install -q -e '.[dev,cluster]'
	touch $@

test: install
	$(BIN)/python -m pytest

# The Ray engine's tests alone (about 3 minutes on 2 CPUs; `make test` runs them too).
test-cluster: install
	$(BIN)/python -m pytest -m cluster

demo-index: install
	$(BIN)/python -m index_build.subset $(ART) $(DEMO_ART) --every 8
	$(BIN)/artifier index build $(DEMO_ART) --index $(DEMO_INDEX)

demo: demo-index
	$(BIN)/artifier retrieve $(DEMO_PHOTO) --index $(DEMO_INDEX) --top 7 --sheet out/demo-matches.png
	$(BIN)/artifier transfer $(DEMO_PHOTO) --index $(DEMO_INDEX) --triptych -o out/demo.png

serve: demo-index
	$(BIN)/artifier serve --index $(SERVE_INDEX)

index: install
	$(BIN)/artifier index build $(ART) --index $(INDEX)

gallery: install
	$(BIN)/python bench/gallery.py --out gallery

bench: index
	$(BIN)/python bench/quality.py
	$(BIN)/python bench/transfer_speed.py
	$(BIN)/python bench/index_bench.py
	$(BIN)/python bench/ray_build.py
	$(BIN)/python bench/recall.py --index indexes/art
	$(BIN)/python bench/recall.py --index indexes/synthetic-50k --photos 8 --crops 8
	$(BIN)/python bench/fast_path.py --index indexes/synthetic-50k --before 494deb2 --photos 16 --crops 8 --rounds 3
	$(BIN)/python bench/score_speed.py
	$(BIN)/python bench/store_reads.py

clean:
	rm -rf out gallery
