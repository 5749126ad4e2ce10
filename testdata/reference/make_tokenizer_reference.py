#!/usr/bin/python3
"""Reference ids and decoded texts of the Hugging Face *slow* tokenizers for the seq2seq family fixtures.

Run from the repository root (same environment as make_family_goldens.py: transformers v4.43.4, Debian's
python3-sentencepiece 0.1.97, no Rust `tokenizers`; python3-protobuf for T5's legacy=False, which rewrites the
SentencePiece model through protobuf):

    export TRANSFORMERS_SRC=/path/to/transformers HF_HUB_SRC=/path/to/huggingface_hub PYTHONDONTWRITEBYTECODE=1
    /usr/bin/python3 testdata/reference/make_tokenizer_reference.py /path/to/shared/data/multi30k

Writes testdata/tokenizer/hf_<fixture>_<set>.json for the fixtures tiny-bart, tiny-t5, tiny-mbart, tiny-m2m100,
tiny-nllb, tiny-pegasus and tiny-t5-nonlegacy (tiny-t5 loaded with legacy=False) and the sets flickr2016en (the 1000 lines of Multi30k test_2016_flickr.en.gz; German
lines as targets), and edge (testdata/tokenizer/edge_cases.json plus family_edge_cases below). Per line:
  text, tokens = tokenizer.tokenize(text), input_ids = tokenizer(text).input_ids (source side, src_lang),
  labels = tokenizer(text_target=text).input_ids (target side, tgt_lang),
  decoded = decode(input_ids, skip_special_tokens=True), decoded_special = decode(input_ids) (special tokens kept),
  decoded_labels = decode(labels, skip_special_tokens=True).
"""
import gzip
import json
import os
import pathlib
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import refenv  # noqa: E402,F401  (puts transformers on sys.path, offline mode, shims)

from transformers import (  # noqa: E402
    BartTokenizer,
    M2M100Tokenizer,
    MBartTokenizer,
    NllbTokenizer,
    PegasusTokenizer,
    T5Tokenizer,
)

TOKENIZERS = {
    "tiny-bart": (BartTokenizer, {}),
    "tiny-t5": (T5Tokenizer, {}),
    "tiny-mbart": (MBartTokenizer, {"src_lang": "en_XX", "tgt_lang": "de_DE"}),
    "tiny-m2m100": (M2M100Tokenizer, {"src_lang": "en", "tgt_lang": "de"}),
    "tiny-nllb": (NllbTokenizer, {"src_lang": "eng_Latn", "tgt_lang": "deu_Latn"}),
    "tiny-pegasus": (PegasusTokenizer, {}),
    # tiny-t5's files loaded with legacy=False (the behaviour newer T5 configs ask for).
    "tiny-t5-nonlegacy": (T5Tokenizer, {"legacy": False}),
}

FOLDERS = {"tiny-t5-nonlegacy": "tiny-t5"}

# Inputs that touch the families' own special tokens and added-token rules (lstrip/rstrip, sentinels, language
# codes written in the text, Pegasus masks), on top of the SentencePiece edge cases.
FAMILY_EDGE_CASES = [
    "Translate English to German: <extra_id_0> is a dog <extra_id_1>.",
    "A <extra_id_0>   sentinel\twith spaces <extra_id_99>",
    "<extra_id_0>",
    "a literal <pad> and </s> and <s> and <unk> inside",
    "mask <mask> here and<mask>there",
    "en_XX de_DE written in the text",
    "__en__ __de__ codes and eng_Latn deu_Latn codes",
    "<mask_1> pegasus <mask_2> masks <unk_2>",
    "It's 'quoted' isn't it? We'll see, they've gone, I'm here, you'd know, we're done.",
    "  two leading spaces and two trailing  ",
    "tabs\t\tand\n\nnewlines\r\n end",
    "numbers 3.14159 and 1,000,000 and ٣٤٥",
    "emoji 😀😀 👍🏽 at the end 🇩🇪",
    "math 𝐀𝐁𝐂 letters outside the BMP 𠀀𠀁",
    "zero\u200bwidth\u00a0nbsp\u2009thin\u3000ideographic",
    "e\u0301\u0301 double combining",
    "\u2581 lower one eighth block \u2581\u2581 itself",
    "ĠHello Ċ byte-level look-alikes",
    "trailing space ",
    " leading space",
]


def read_gz(path):
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f]


def make(tok, fixture, set_name, sources, targets, out_dir):
    cases = []
    for src, tgt in zip(sources, targets):
        ids = tok(src).input_ids
        labels = tok(text_target=tgt).input_ids
        cases.append({
            "text": src,
            "tokens": tok.tokenize(src),
            "input_ids": ids,
            "decoded": tok.decode(ids, skip_special_tokens=True),
            "decoded_special": tok.decode(ids, skip_special_tokens=False),
            "target": tgt,
            "labels": labels,
            "decoded_labels": tok.decode(labels, skip_special_tokens=True),
        })
    doc = {
        "generator": "testdata/reference/make_tokenizer_reference.py",
        "tokenizer_class": type(tok).__name__,
        "fixture": fixture,
        "set": set_name,
        "all_special_ids": tok.all_special_ids,
        "cases": cases,
    }
    path = out_dir / f"hf_{fixture}_{set_name}.json"
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=0)
        f.write("\n")
    print(path, len(cases))


def main():
    data = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data/multi30k")
    root = pathlib.Path(__file__).resolve().parents[2]
    out_dir = root / "testdata" / "tokenizer"
    en = read_gz(data / "test_2016_flickr.en.gz")
    de = read_gz(data / "test_2016_flickr.de.gz")
    edge = json.loads((out_dir / "edge_cases.json").read_text(encoding="utf-8")) + FAMILY_EDGE_CASES
    only = sys.argv[2:] or list(TOKENIZERS)
    for fixture in only:
        cls, kwargs = TOKENIZERS[fixture]
        tok = cls.from_pretrained(root / "testdata" / FOLDERS.get(fixture, fixture), **kwargs)
        make(tok, fixture, "flickr2016en", en, de, out_dir)
        make(tok, fixture, "edge", edge, edge, out_dir)


if __name__ == "__main__":
    main()
