# Artifier. `make demo` and `make test` are all a fresh machine needs (../shared beside the repo).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SHARED ?= ../shared/data
ART    ?= $(SHARED)/art
PHOTOS ?= $(SHARED)/photos
INDEX  ?= indexes/art
STAMP  := $(VENV)/.installed

.PHONY: install test demo index gallery bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.14.1 torchvision==0.29.1
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

test: install
	$(BIN)/python -m pytest

demo: install
	$(BIN)/artifier transfer $(PHOTOS)/chelsea-cat.jpg \
		--style $(ART)/vincent-van-gogh_the-starry-night-1889.jpg --triptych -o out/demo.png

index: install
	$(BIN)/artifier index build $(ART) --index $(INDEX)

gallery: install
	$(BIN)/python bench/gallery.py --out gallery

bench: install
	$(BIN)/python bench/transfer_speed.py

clean:
	rm -rf out gallery
