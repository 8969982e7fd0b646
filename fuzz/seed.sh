#!/bin/sh
# Seeds the fuzz corpora from the test fixtures: each metadata cleaner gets the files of
# its format from tests/data/attach (the targets use input that starts with the format's
# signature as it is), the detector gets one corpus line per file. Run from anywhere;
# cargo fuzz then reads fuzz/corpus/TARGET.
set -eu
cd "$(dirname "$0")"
data=../tests/data/attach

seed() {
    target=$1
    shift
    mkdir -p "corpus/$target"
    for file in "$@"; do
        cp "$data/$file" "corpus/$target/"
    done
}

seed clean_jpeg photo.jpg
seed clean_png drawing.png
seed clean_webp sticker.webp
seed clean_pdf report.pdf
seed clean_ooxml statement.docx
seed clean_odf document.odt
seed clean_ogg voice.ogg voice-opusenc.ogg

mkdir -p corpus/deid_detect
split -l 1 -a 4 ../tests/data/deid/corpus.jsonl corpus/deid_detect/line-
echo "seeded: $(ls corpus | tr '\n' ' ')"
