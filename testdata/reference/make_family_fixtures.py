#!/usr/bin/env python3
"""Build the tiny Hugging Face fixtures of the mBART, M2M100, NLLB and Pegasus families under testdata/.

    export TRANSFORMERS_SRC=/path/to/transformers HF_HUB_SRC=/path/to/huggingface_hub
    /usr/bin/python3 testdata/reference/make_family_fixtures.py [--data DIR] [--out DIR] [--only NAME ...]

Fixtures (each a directory in exact HF layout, written by the HF classes' save_pretrained):
  tiny-mbart    MBartForConditionalGeneration + MBartTokenizer (sentencepiece.bpe.model, 25 cc25 language codes)
  tiny-m2m100   M2M100ForConditionalGeneration + M2M100Tokenizer (vocab.json + sentencepiece.bpe.model, __xx__ codes)
  tiny-nllb     M2M100ForConditionalGeneration + NllbTokenizer (sentencepiece.bpe.model, 202 xxx_Xxxx codes)
  tiny-pegasus  PegasusForConditionalGeneration + PegasusTokenizer (spiece.model, 103 reserved ids)

Made the way shared/reference/make_fixtures.py made the Marian/BART/T5 fixtures: SentencePiece models trained with
the spm_train CLI (Debian package `sentencepiece`) on Multi30k, seeded random weights from HF's own _init_weights with
init_std 0.2, final_logits_bias ~ N(0, 0.1^2) where the family has one, d_model 64 / 4 heads / 2+2 layers / ffn 128 /
max positions 256, configs and generation configs shaped like the real checkpoints'. One deliberate addition: every
LayerNorm weight/bias and every Linear bias is perturbed with seeded noise, because HF initialises them to exactly
1 / 0 / 0 and a port that loads the wrong norm (layernorm_embedding vs layer_norm, encoder vs decoder final norm) or
drops a bias would otherwise still match.

Everything is seeded; re-running on the same software versions reproduces the same files.
"""
import argparse
import collections
import gzip
import json
import pathlib
import shutil
import subprocess
import sys
import tempfile

import refenv  # noqa: F401  (must precede transformers)

import sentencepiece as spm
import torch

from transformers import (
    M2M100Config,
    M2M100ForConditionalGeneration,
    M2M100Tokenizer,
    MBartConfig,
    MBartForConditionalGeneration,
    MBartTokenizer,
    NllbTokenizer,
    PegasusConfig,
    PegasusForConditionalGeneration,
    PegasusTokenizer,
)
from transformers.models.m2m_100.tokenization_m2m_100 import FAIRSEQ_LANGUAGE_CODES as M2M100_LANGUAGE_CODES
from transformers.models.nllb.tokenization_nllb import FAIRSEQ_LANGUAGE_CODES as NLLB_LANGUAGE_CODES
from transformers.tokenization_utils_base import AddedToken
from transformers.utils import logging as hf_logging

hf_logging.set_verbosity_error()

REPO = refenv.REPO_ROOT
DEFAULT_DATA = REPO.parent / "shared" / "data" / "multi30k"
WEIGHT_SEED = 1234  # torch.manual_seed before model construction (HF default init)
BIAS_SEED = 4321  # generator for the random final_logits_bias (mBART, Pegasus)
BIAS_STD = 0.1
NORM_SEED = 2468  # generator for the LayerNorm / Linear-bias perturbation
NORM_STD = 0.1
INIT_STD = 0.2  # as the Marian/BART fixtures: with 0.02 the tiny models ignore their input
SPM_SIZE = 500

D_MODEL, HEADS, LAYERS, FFN, MAX_POS = 64, 4, 2, 128, 256


def read_lines(data, name):
    with gzip.open(data / name, "rt", encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f]


def spm_train(lines, prefix, vocab_size, model_type, extra=()):
    """Train a SentencePiece model with the spm_train CLI, inside the work directory with relative file names (the
    .model file records its input path and prefix: keeps the output reproducible and free of machine paths)."""
    prefix = pathlib.Path(prefix)
    (prefix.parent / (prefix.name + ".txt")).write_text("\n".join(lines) + "\n", encoding="utf-8")
    cmd = [
        "spm_train",
        f"--input={prefix.name}.txt",
        f"--model_prefix={prefix.name}",
        f"--vocab_size={vocab_size}",
        f"--model_type={model_type}",
        "--character_coverage=1.0",
        "--input_sentence_size=0",
        "--num_threads=1",
        "--minloglevel=2",
        *extra,
    ]
    subprocess.run(cmd, check=True, cwd=prefix.parent, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return prefix.parent / (prefix.name + ".model")


def fairseq_vocab(model_file, lines):
    """A fairseq dictionary as M2M100's vocab.json holds it: <s>=0, <pad>=1, </s>=2, <unk>=3, then the pieces that
    occur in the spm-encoded corpus, most frequent first (ties by piece string). Its order differs from the spm ids,
    so a tokenizer that uses spm ids directly is caught."""
    sp = spm.SentencePieceProcessor(model_file=str(model_file))
    counts = collections.Counter()
    for line in lines:
        counts.update(sp.encode(line, out_type=str))
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for piece in sorted((p for p in counts if p not in vocab), key=lambda p: (-counts[p], p)):
        vocab[piece] = len(vocab)
    return vocab


def random_bias_(model):
    g = torch.Generator().manual_seed(BIAS_SEED)
    with torch.no_grad():
        model.final_logits_bias.copy_(torch.randn(model.final_logits_bias.shape, generator=g) * BIAS_STD)


def perturb_norms_and_biases_(model):
    g = torch.Generator().manual_seed(NORM_SEED)
    with torch.no_grad():
        for _, module in sorted(model.named_modules(), key=lambda item: item[0]):
            if isinstance(module, torch.nn.LayerNorm):
                module.weight.add_(torch.randn(module.weight.shape, generator=g) * NORM_STD)
                module.bias.add_(torch.randn(module.bias.shape, generator=g) * NORM_STD)
            elif isinstance(module, torch.nn.Linear) and module.bias is not None:
                module.bias.add_(torch.randn(module.bias.shape, generator=g) * NORM_STD)


def zero_rows_(embedding, first):
    """Model ids past the tokenizer (M2M100's madeup words, NLLB's two spare rows) get zero rows, like T5's padded
    vocabulary in the older fixtures: random-weight generation then never emits an id the tokenizer cannot decode."""
    with torch.no_grad():
        embedding.weight[first:] = 0.0


def save_model(model, out):
    model.save_pretrained(out, safe_serialization=True)
    with tempfile.TemporaryDirectory() as td:
        model.save_pretrained(td, safe_serialization=False)
        shutil.copyfile(pathlib.Path(td) / "pytorch_model.bin", out / "pytorch_model.bin")


def verify(out, model_cls, tok_cls, text="A little girl climbing into a wooden playhouse."):
    """Reload from both weight files and check they agree with each other."""
    tok = tok_cls.from_pretrained(out)
    enc = tok([text], return_tensors="pt")
    outs = []
    for use_st in (True, False):
        m = model_cls.from_pretrained(out, use_safetensors=use_st).eval()
        with torch.no_grad():
            dec = torch.full((1, 1), m.config.decoder_start_token_id)
            outs.append(m(**enc, decoder_input_ids=dec).logits)
    assert torch.equal(outs[0], outs[1]), "safetensors and pytorch_model.bin disagree"
    files = sorted(p.name for p in out.iterdir())
    print(f"  {out.name}: {files}")
    print(f"  ids={enc['input_ids'][0].tolist()} -> {tok.decode(enc['input_ids'][0], skip_special_tokens=True)!r}")


def common_sizes():
    return dict(
        d_model=D_MODEL,
        encoder_layers=LAYERS,
        decoder_layers=LAYERS,
        encoder_attention_heads=HEADS,
        decoder_attention_heads=HEADS,
        encoder_ffn_dim=FFN,
        decoder_ffn_dim=FFN,
        max_position_embeddings=MAX_POS,
        init_std=INIT_STD,
        dropout=0.1,
        attention_dropout=0.0,
        activation_dropout=0.0,
    )


def build_mbart(out, work, data):
    lines = read_lines(data, "train.en.gz") + read_lines(data, "train.de.gz")
    # mBART's sentencepiece.bpe.model (shared with XLM-R) is a unigram model despite its name; spm's default
    # <unk>=0 <s>=1 </s>=2 layout, which MBartTokenizer re-maps with its fairseq offset of 1.
    model_file = spm_train(lines, work / "sentencepiece.bpe", SPM_SIZE, "unigram")
    tok = MBartTokenizer(vocab_file=str(model_file), src_lang="en_XX", tgt_lang="de_DE", model_max_length=MAX_POS)
    assert (tok.bos_token_id, tok.pad_token_id, tok.eos_token_id, tok.unk_token_id) == (0, 1, 2, 3)
    target_lang = tok.convert_tokens_to_ids("de_DE")
    cfg = MBartConfig(
        vocab_size=len(tok),
        **common_sizes(),
        activation_function="gelu",
        scale_embedding=True,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        decoder_start_token_id=2,
        forced_eos_token_id=2,
        # mBART-50 many-to-many: generation starts from </s> and forces the target language code as first token
        forced_bos_token_id=target_lang,
        num_beams=5,
        max_length=200,
        early_stopping=True,
        tokenizer_class="MBartTokenizer",
        # informational keys real mbart-large-cc25 / mbart-large-50 config.json files carry (ignored by the modeling
        # code; the port checks they agree with the architecture)
        normalize_before=True,
        add_final_layer_norm=True,
        normalize_embedding=True,
        static_position_embeddings=False,
        add_bias_logits=False,
    )
    torch.manual_seed(WEIGHT_SEED)
    model = MBartForConditionalGeneration(cfg).eval()
    random_bias_(model)
    perturb_norms_and_biases_(model)
    out.mkdir(parents=True, exist_ok=True)
    tok.save_pretrained(out)
    save_model(model, out)
    verify(out, MBartForConditionalGeneration, MBartTokenizer)


M2M100_MADEUP_WORDS = 8  # m2m100_418M: vocab_size 128112 = len(tokenizer) 128104 + 8 "madeupword" rows


def build_m2m100(out, work, data):
    lines = read_lines(data, "train.en.gz") + read_lines(data, "train.de.gz")
    model_file = spm_train(lines, work / "sentencepiece.bpe", SPM_SIZE, "bpe")
    vocab = fairseq_vocab(model_file, lines)
    (work / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False, indent=2), encoding="utf-8")
    # The language tokens are passed as additional special tokens, as facebook/m2m100_418M's tokenizer files list
    # them: M2M100Tokenizer's own loop meant to add them never does (a chained `not in` comparison), and without them
    # decode(skip_special_tokens=True) would keep "__de__" in the text, unlike the real checkpoints.
    tok = M2M100Tokenizer(
        vocab_file=str(work / "vocab.json"), spm_file=str(model_file), src_lang="en", tgt_lang="de",
        additional_special_tokens=[f"__{code}__" for code in M2M100_LANGUAGE_CODES["m2m100"]],
        model_max_length=MAX_POS,
    )
    assert (tok.bos_token_id, tok.pad_token_id, tok.eos_token_id, tok.unk_token_id) == (0, 1, 2, 3)
    target_lang = tok.get_lang_id("de")
    # len(M2M100Tokenizer) counts vocab.json only (the language tokens are not in get_vocab()); the ids the tokenizer
    # can produce end with the language codes, which follow vocab.json
    tokenizer_ids = tok.encoder_size + len(tok.lang_code_to_id)
    assert max(tok.lang_code_to_id.values()) == tokenizer_ids - 1
    cfg = M2M100Config(
        vocab_size=tokenizer_ids + M2M100_MADEUP_WORDS,
        **common_sizes(),
        activation_function="relu",
        scale_embedding=True,
        encoder_layerdrop=0.05,
        decoder_layerdrop=0.05,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        decoder_start_token_id=2,
        forced_bos_token_id=target_lang,
        # facebook/m2m100_418M generation defaults
        num_beams=5,
        max_length=200,
        early_stopping=True,
        tokenizer_class="M2M100Tokenizer",
    )
    torch.manual_seed(WEIGHT_SEED)
    model = M2M100ForConditionalGeneration(cfg).eval()
    zero_rows_(model.model.shared, tokenizer_ids)
    perturb_norms_and_biases_(model)
    out.mkdir(parents=True, exist_ok=True)
    tok.save_pretrained(out)
    save_model(model, out)
    verify(out, M2M100ForConditionalGeneration, M2M100Tokenizer)


NLLB_SPARE_ROWS = 2  # nllb-200-distilled-600M: vocab_size 256206 = len(tokenizer) 256204 + 2


def build_nllb(out, work, data):
    lines = read_lines(data, "train.en.gz") + read_lines(data, "train.de.gz")
    model_file = spm_train(lines, work / "sentencepiece.bpe", SPM_SIZE, "bpe")
    # facebook/nllb-200-*'s layout: the 202 language codes right after the spm pieces, <mask> last. A slow
    # NllbTokenizer built from scratch would put <mask> first (it adds special tokens in attribute order), so the ids
    # are given the way the real tokenizer_config.json gives them.
    first = len(spm.SentencePieceProcessor(model_file=str(model_file))) + 1
    added = {first + i: AddedToken(code, normalized=False, special=True) for i, code in enumerate(NLLB_LANGUAGE_CODES)}
    added[first + len(NLLB_LANGUAGE_CODES)] = AddedToken("<mask>", lstrip=True, normalized=True, special=True)
    tok = NllbTokenizer(
        vocab_file=str(model_file), src_lang="eng_Latn", tgt_lang="deu_Latn", legacy_behaviour=False,
        added_tokens_decoder=added, model_max_length=MAX_POS,
    )
    assert tok.convert_tokens_to_ids("<mask>") == first + len(NLLB_LANGUAGE_CODES)
    assert tok.convert_tokens_to_ids("ace_Arab") == first
    assert (tok.bos_token_id, tok.pad_token_id, tok.eos_token_id, tok.unk_token_id) == (0, 1, 2, 3)
    target_lang = tok.convert_tokens_to_ids("deu_Latn")
    tokenizer_ids = max(tok.get_vocab().values()) + 1
    assert tokenizer_ids == len(tok), (tokenizer_ids, len(tok))
    cfg = M2M100Config(
        vocab_size=tokenizer_ids + NLLB_SPARE_ROWS,
        **common_sizes(),
        activation_function="relu",
        scale_embedding=True,
        encoder_layerdrop=0,
        decoder_layerdrop=0,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        decoder_start_token_id=2,
        # NLLB's generation_config.json has no beams (greedy) and max_length 200; the target language is forced as
        # every NLLB usage example does (generate(forced_bos_token_id=...)), here as a default
        forced_bos_token_id=target_lang,
        max_length=200,
        tokenizer_class="NllbTokenizer",
    )
    torch.manual_seed(WEIGHT_SEED)
    model = M2M100ForConditionalGeneration(cfg).eval()
    zero_rows_(model.model.shared, tokenizer_ids)
    perturb_norms_and_biases_(model)
    out.mkdir(parents=True, exist_ok=True)
    tok.save_pretrained(out)
    save_model(model, out)
    verify(out, M2M100ForConditionalGeneration, NllbTokenizer)


PEGASUS_OFFSET = 103


def build_pegasus(out, work, data):
    lines = read_lines(data, "train.en.gz") + read_lines(data, "train.de.gz")
    # google/pegasus-*'s spiece.model: unigram, <pad>=0 </s>=1 <unk>=2, no <s>
    model_file = spm_train(lines, work / "spiece", SPM_SIZE, "unigram", [
        "--pad_id=0", "--eos_id=1", "--unk_id=2", "--bos_id=-1",
        "--pad_piece=<pad>", "--eos_piece=</s>", "--unk_piece=<unk>",
    ])
    tok = PegasusTokenizer(vocab_file=str(model_file), offset=PEGASUS_OFFSET, model_max_length=MAX_POS)
    assert (tok.pad_token_id, tok.eos_token_id) == (0, 1)
    assert len(tok) == SPM_SIZE + PEGASUS_OFFSET, len(tok)
    cfg = PegasusConfig(
        vocab_size=len(tok),
        **common_sizes(),
        activation_function="relu",
        scale_embedding=True,
        pad_token_id=0,
        eos_token_id=1,
        decoder_start_token_id=0,
        forced_eos_token_id=1,
        # google/pegasus-xsum's generation defaults
        num_beams=8,
        max_length=64,
        length_penalty=0.6,
        tokenizer_class="PegasusTokenizer",
        normalize_before=True,
        add_final_layer_norm=True,
        normalize_embedding=False,
        static_position_embeddings=True,
        add_bias_logits=False,
    )
    torch.manual_seed(WEIGHT_SEED)
    model = PegasusForConditionalGeneration(cfg).eval()
    random_bias_(model)
    perturb_norms_and_biases_(model)
    out.mkdir(parents=True, exist_ok=True)
    tok.save_pretrained(out)
    save_model(model, out)
    verify(out, PegasusForConditionalGeneration, PegasusTokenizer)


BUILDERS = {
    "tiny-mbart": build_mbart,
    "tiny-m2m100": build_m2m100,
    "tiny-nllb": build_nllb,
    "tiny-pegasus": build_pegasus,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(DEFAULT_DATA), help="folder with Multi30k train.{en,de}.gz")
    ap.add_argument("--out", default=str(REPO / "testdata"))
    ap.add_argument("--only", nargs="*", choices=sorted(BUILDERS))
    args = ap.parse_args()
    torch.set_num_threads(1)
    print(refenv.check_expected())
    for name in args.only or BUILDERS:
        out = pathlib.Path(args.out) / name
        for p in out.glob("*"):  # keep golden/ (made by make_family_goldens.py), replace the model files
            if p.is_file():
                p.unlink()
        print(f"building {name}")
        with tempfile.TemporaryDirectory() as td:
            BUILDERS[name](out, pathlib.Path(td), pathlib.Path(args.data))


if __name__ == "__main__":
    sys.exit(main())
