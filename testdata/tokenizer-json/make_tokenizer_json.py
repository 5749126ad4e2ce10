#!/usr/bin/env python3
"""Writes the fast-tokenizer tokenizer.json of a fixture from its slow SentencePiece files.

The Hugging Face `tokenizers` library (and `sentencepiece`) are not available where these fixtures are made, so this
script does by hand what transformers 4.43.4's `convert_slow_tokenizer` (SpmConverter and its T5Converter,
MBartConverter, MBart50Converter, NllbConverter and PegasusConverter subclasses) builds, and serializes it with the
field names and values `tokenizers` 0.19 writes:

  model          Unigram: vocab [[piece, score], ...] in the converter's id order, unk_id, byte_fallback
                 BPE (a .model with model_type BPE, i.e. NLLB): vocab {piece: id} in the converter's id order,
                 merges as SentencePieceExtractor.extract() makes them (see bpe_merges), unk_token the trainer's
                 unk_piece, fuse_unk true, byte_fallback false (4.43.4's SpmConverter passes no byte_fallback)
  normalizer     Sequence[Precompiled(charsmap, base64), Strip(right), Replace(Regex " {2,}" -> "\u2581")]
  pre_tokenizer  Metaspace("\u2581", prepend_scheme, split=true) (Pegasus: Sequence[WhitespaceSplit, Metaspace])
  post_processor TemplateProcessing as the converter (mBART / NLLB: for the config's src_lang, as the fast
                 tokenizer's set_src_lang_special_tokens leaves it when the folder is saved)
  decoder        Metaspace
  added_tokens   the slow tokenizer's added_tokens_decoder (tokenizer_config.json), which the fast tokenizer adds
                 with the same flags

prepend_scheme is "always", or "first" when the config has "legacy": false (_get_prepend_scheme).

Usage: make_tokenizer_json.py <fixture folder> <family: t5|mbart|mbart50|nllb|pegasus> <out tokenizer.json>
"""
import base64
import json
import struct
import sys


def varint(data, pos):
    result = shift = 0
    while True:
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return result, pos


def fields(data):
    """Yields (field number, wire type, value) of a protobuf message; value is int, bytes or raw 4/8 bytes."""
    pos = 0
    while pos < len(data):
        key, pos = varint(data, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = varint(data, pos)
        elif wire == 1:
            value, pos = data[pos:pos + 8], pos + 8
        elif wire == 2:
            length, pos = varint(data, pos)
            value, pos = data[pos:pos + length], pos + length
        elif wire == 5:
            value, pos = data[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"wire type {wire}")
        yield field, wire, value


def read_model(path):
    """The parts of sentencepiece_model.proto the converters use."""
    with open(path, "rb") as f:
        data = f.read()
    pieces, trainer, normalizer = [], {"model_type": 1, "unk_id": 0, "byte_fallback": False}, {"charsmap": b""}
    for field, _, value in fields(data):
        if field == 1:
            piece = {"piece": "", "score": 0.0, "type": 1}
            for f2, _, v2 in fields(value):
                if f2 == 1:
                    piece["piece"] = v2.decode("utf-8")
                elif f2 == 2:
                    piece["score"] = struct.unpack("<f", v2)[0]
                elif f2 == 3:
                    piece["type"] = v2
            pieces.append(piece)
        elif field == 2:
            for f2, _, v2 in fields(value):
                if f2 == 3:
                    trainer["model_type"] = v2
                elif f2 == 40:
                    trainer["unk_id"] = v2
                elif f2 == 45:
                    trainer["unk_piece"] = v2.decode("utf-8")
                elif f2 == 35:
                    trainer["byte_fallback"] = bool(v2)
        elif field == 3:
            for f2, _, v2 in fields(value):
                if f2 == 2:
                    normalizer["charsmap"] = v2
    return pieces, trainer, normalizer


def bpe_merges(pieces):
    """SentencePieceExtractor.extract() without vocab_scores: for every piece in sentencepiece id order, each split
    into two pieces that are both in the vocabulary, the splits of one piece ordered by (id left, id right); the final
    stable sort by the merged piece's id keeps that order."""
    vocab = {}
    for index, p in enumerate(pieces):
        vocab[p["piece"]] = index  # as {sp.id_to_piece(i): i}: a repeated piece would keep its last id
    merges = []
    for merge, piece_score in vocab.items():
        local = []
        for index in range(1, len(merge)):
            left, right = merge[:index], merge[index:]
            if left in vocab and right in vocab:
                local.append((left, right, piece_score))
        local.sort(key=lambda x: (vocab[x[0]], vocab[x[1]]))
        merges.extend(local)
    merges.sort(key=lambda val: val[2])
    return [f"{left} {right}" for left, right, _ in merges]


def template(single, special_ids):
    def item(name):
        if name in ("$A", "$B"):
            return {"Sequence": {"id": name[1], "type_id": 0}}
        return {"SpecialToken": {"id": name, "type_id": 0}}

    pair = []
    for name in single:
        pair.append(name)
        if name == "$A":
            pair.append("$B")
    return {
        "type": "TemplateProcessing",
        "single": [item(n) for n in single],
        "pair": [item(n) for n in pair],
        "special_tokens": {t: {"id": t, "ids": [i], "tokens": [t]} for t, i in special_ids.items()},
    }


def main(folder, family, out):
    config = json.load(open(f"{folder}/tokenizer_config.json", encoding="utf-8"))
    added = {int(k): v for k, v in config.get("added_tokens_decoder", {}).items()}
    model_file = "spiece.model" if family in ("t5", "pegasus") else "sentencepiece.bpe.model"
    pieces, trainer, normalizer = read_model(f"{folder}/{model_file}")
    if trainer["model_type"] not in (1, 2):
        raise SystemExit(f"{model_file}: model_type {trainer['model_type']} is neither unigram nor BPE")
    ids = {v["content"]: k for k, v in added.items()}

    if family == "t5":
        extra = config.get("extra_ids", 100)
        vocab = [(p["piece"], p["score"]) for p in pieces] + [(f"<extra_id_{i}>", 0.0) for i in range(extra - 1, -1, -1)]
        unk_id = trainer["unk_id"]
        post = template(["$A", "</s>"], {"</s>": ids["</s>"]})
        post["pair"] = [post["single"][0], post["single"][1], {"Sequence": {"id": "B", "type_id": 0}}, post["single"][1]]
    elif family in ("mbart", "mbart50", "nllb"):
        vocab = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)] + [(p["piece"], p["score"]) for p in pieces[3:]]
        if family != "nllb":
            codes = config["additional_special_tokens"]
            vocab += [(c, 0.0) for c in codes] + [("<mask>", 0.0)]
        unk_id = 3
        lang = config.get("src_lang") or ("eng_Latn" if family == "nllb" else "en_XX")
        specials = {lang: ids[lang], "</s>": ids["</s>"]}
        if family == "mbart" or (family == "nllb" and config.get("legacy_behaviour", False)):
            post = template(["$A", "</s>", lang], specials)
        else:
            post = template([lang, "$A", "</s>"], specials)
    elif family == "pegasus":
        offset = config.get("offset", 103)
        vocab = [(config.get("pad_token", "<pad>"), 0.0), (config.get("eos_token", "</s>"), 0.0)]
        if config.get("mask_token_sent", "<mask_2>") is not None:
            vocab.append((config.get("mask_token_sent", "<mask_2>"), 0.0))
        mask = config.get("mask_token", "<mask_1>")
        if mask is not None and ids.get(mask, offset) < offset:
            vocab.append((mask, 0.0))
        vocab += [(f"<unk_{i}>", -100.0) for i in range(2, offset)] + [(p["piece"], p["score"]) for p in pieces[2:]]
        unk_id = trainer["unk_id"] + offset
        post = template(["$A", "</s>"], {"</s>": ids["</s>"]})
    else:
        raise SystemExit(f"unknown family {family}")

    scheme = "first" if config.get("legacy", True) is False else "always"
    if not config.get("add_prefix_space", True):
        scheme = "never"
    metaspace = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": scheme, "split": True}
    steps = [{"type": "Strip", "strip_left": False, "strip_right": True},
             {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": "\u2581"}]
    if normalizer["charsmap"]:
        steps.insert(0, {"type": "Precompiled", "precompiled_charsmap": base64.b64encode(normalizer["charsmap"]).decode("ascii")})
    pre = metaspace if family != "pegasus" else {"type": "Sequence", "pretokenizers": [{"type": "WhitespaceSplit"}, metaspace]}
    tokenizer = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {"id": k, "content": v["content"], "single_word": v.get("single_word", False), "lstrip": v.get("lstrip", False),
             "rstrip": v.get("rstrip", False), "normalized": v.get("normalized", False), "special": v.get("special", False)}
            for k, v in sorted(added.items())
        ],
        "normalizer": {"type": "Sequence", "normalizers": steps},
        "pre_tokenizer": pre,
        "post_processor": post,
        "decoder": metaspace,
        "model": {"type": "Unigram", "unk_id": unk_id, "vocab": [[p, s] for p, s in vocab], "byte_fallback": trainer["byte_fallback"]},
    }
    if trainer["model_type"] == 2:
        # SpmConverter.tokenizer for model_type 2: BPE(bpe_vocab, merges, unk_token=unk_piece, fuse_unk=True),
        # serialized with the field order of tokenizers 0.19 (merges as "left right" strings).
        bpe_vocab = {}
        for i, (piece, _) in enumerate(vocab):
            bpe_vocab[piece] = i
        tokenizer["model"] = {
            "type": "BPE", "dropout": None, "unk_token": trainer["unk_piece"], "continuing_subword_prefix": None,
            "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": False, "ignore_merges": False,
            "vocab": bpe_vocab, "merges": bpe_merges(pieces),
        }
    with open(out, "w", encoding="utf-8") as f:
        json.dump(tokenizer, f, ensure_ascii=False, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main(*sys.argv[1:])
