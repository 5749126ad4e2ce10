#!/usr/bin/python3
"""Regenerates the SentencePiece / Marian reference data in this folder.

Run from the repository root with Debian's python3 and python3-sentencepiece (0.1.97):
    /usr/bin/python3 testdata/tokenizer/make_reference.py /path/to/shared/data/multi30k

Inputs: the 1000 lines of test_2016_flickr.{en,de}.gz (Multi30k) and the hand-written edge cases below.
Output per (model, side, input set): reference_<model>_<side>_<set>.json with, per line, the text, the pieces of
SentencePieceProcessor.encode(text, out_type=str), the spm ids, decode_pieces(pieces) and the Marian ids
(pieces mapped through vocab.json -- target_vocab.json for the target side of separate vocabs -- a missing piece
becoming <unk>, then </s> appended), which is what MarianTokenizer produces for text without special tokens or
>>xx<< codes.
"""
import gzip
import json
import os
import sys

import sentencepiece as spm

EDGE_CASES = [
    "",
    " ",
    "   ",
    "\t",
    "Hello world!",
    "  leading and trailing spaces  ",
    "runs   of    spaces\tand\ttabs\t\there",
    "line\nbreak and carriage\rreturn",
    "full-width: ＡＢＣ１２３ ＨＥＬＬＯ！",
    "ligatures: ﬁ ﬂ ﬀ ﬃ office",
    "combining: e\u0301 a\u0308 n\u0303 versus é ä ñ",
    "Hangul 한국어 텍스트 and decomposed \u1100\u1161",
    "CJK 中文字符 日本語のテキスト",
    "emoji 😀 👍🏽 👨\u200d👩\u200d👧\u200d👦 🇩🇪 ❤\ufe0f",
    "NBSP\u00a0between\u00a0words and narrow\u202fnbsp",
    "zero\u200bwidth\u200cjoiner\u200dand\ufeffbom",
    "Arabic: مرحبا بالعالم",
    "Hebrew: שלום עולם",
    "Cyrillic: Привет мир",
    "Greek: Γειά σου Κόσμε",
    "Devanagari: नमस्ते दुनिया",
    "Thai: สวัสดีชาวโลก",
    "math ∑ ∫ √ ≤ ≥ ≠ ∞ ½ ⅓ ² ³",
    "quotes „Gänsefüßchen“ «guillemets» ‚single‘ 'ascii' \"double\"",
    "dashes – — ‐ - and ellipsis …",
    "Roman numerals Ⅻ ⅻ and circled ① ②",
    "Grüße aus München: 3 Äpfel kosten 2,50 €.",
    "It's 10:45 p.m. — are you still there ?",
    "ALL CAPS SENTENCE WITH NUMBERS 1234567890",
    "a" * 300,
    "Ünïcödé ÀÉÎÕÜ ß ẞ ÿ Ÿ",
    "control\u0001chars\u007fand\u0085nel",
    "ideographic\u3000space and em\u2003space",
    "soft\u00adhyphen and word\u2060joiner",
    "private use \ue000 and replacement \ufffd",
    "supplementary 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝟙𝟚𝟛",
    "A dog runs.",
    "Ein Hund läuft über die Straße.",
]


def read_gz(path):
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f]


def load_vocab(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def make(out_dir, name, spm_path, vocab_path, set_name, lines):
    sp = spm.SentencePieceProcessor(model_file=spm_path)
    vocab = load_vocab(vocab_path) if vocab_path else None
    cases = []
    for text in lines:
        pieces = sp.encode(text, out_type=str)
        case = {
            "text": text,
            "pieces": pieces,
            "ids": sp.encode(text),
            "decoded": sp.decode_pieces(pieces),
        }
        if vocab is not None:
            case["marian_ids"] = [vocab.get(p, vocab["<unk>"]) for p in pieces] + [vocab["</s>"]]
        cases.append(case)
    doc = {
        "generator": "testdata/tokenizer/make_reference.py",
        "sentencepiece": spm.__version__,
        "spm": spm_path,
        "vocab": vocab_path,
        "set": set_name,
        "cases": cases,
    }
    path = os.path.join(out_dir, f"reference_{name}_{set_name}.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=0)
        f.write("\n")
    print(path, len(cases))


def main():
    data = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data/multi30k"
    out_dir = os.path.dirname(os.path.abspath(__file__))
    en = read_gz(os.path.join(data, "test_2016_flickr.en.gz"))
    de = read_gz(os.path.join(data, "test_2016_flickr.de.gz"))
    with open(os.path.join(out_dir, "edge_cases.json"), "w", encoding="utf-8") as f:
        json.dump(EDGE_CASES, f, ensure_ascii=False, indent=0)
        f.write("\n")
    models = [
        ("tiny-marian-en-de", "testdata/tiny-marian-en-de", False),
        ("tiny-marian-sep-vocab", "testdata/tiny-marian-sep-vocab", True),
        ("multi30k-en-de-small", "models/multi30k-en-de-small", False),
    ]
    # A unigram model with byte_fallback and user-defined symbols, which the Marian fixtures lack. It was trained
    # once and is kept in this folder (training is not reproducible across sentencepiece versions):
    #   zcat train.en.gz | head -3000 > train3000.en
    #   spm_train --input=train3000.en --model_prefix=bytefallback --vocab_size=600 --model_type=unigram
    #             --byte_fallback=true --character_coverage=0.98 --user_defined_symbols="<sep>,@@"
    bytefallback = os.path.relpath(os.path.join(out_dir, "bytefallback.model"))
    extra = EDGE_CASES + ["user <sep> defined@@symbols <sep><sep>", "@@@ <se p>"]
    make(out_dir, "bytefallback", bytefallback, None, "flickr2016en", en)
    make(out_dir, "bytefallback", bytefallback, None, "edge", extra)
    for name, folder, separate in models:
        src_vocab = os.path.join(folder, "vocab.json")
        tgt_vocab = os.path.join(folder, "target_vocab.json" if separate else "vocab.json")
        make(out_dir, f"{name}_source", os.path.join(folder, "source.spm"), src_vocab, "flickr2016en", en)
        make(out_dir, f"{name}_source", os.path.join(folder, "source.spm"), src_vocab, "edge", EDGE_CASES)
        make(out_dir, f"{name}_target", os.path.join(folder, "target.spm"), tgt_vocab, "flickr2016de", de)
        make(out_dir, f"{name}_target", os.path.join(folder, "target.spm"), tgt_vocab, "edge", EDGE_CASES)


if __name__ == "__main__":
    main()
