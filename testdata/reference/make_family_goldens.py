#!/usr/bin/env python3
"""Produce golden outputs of the real Hugging Face implementation for the mBART / M2M100 / NLLB / Pegasus fixtures.

    /usr/bin/python3 testdata/reference/make_family_goldens.py            # every family fixture, default paths
    /usr/bin/python3 testdata/reference/make_family_goldens.py --only tiny-nllb
    /usr/bin/python3 testdata/reference/make_family_goldens.py --fixture DIR --inputs INPUTS.json --out OUT.json

An extended copy of shared/reference/make_golden.py (which made the Marian/BART/T5 goldens), same schema. Additions:
  - model class from config.json's model_type, tokenizer class from its tokenizer_class (NLLB checkpoints are
    model_type m2m_100 with NllbTokenizer), the tokenizer's src_lang/tgt_lang from the inputs' "languages" table;
  - teacher forcing: the model's prepare_decoder_input_ids_from_labels when it has one (mBART's wraps the last
    non-pad label, the target language code, to the front), else the modeling module's shift_tokens_right with the
    config's pad and decoder_start ids, which is what the model's forward does with labels (M2M100 has no such method);
  - a fourth generate run, "generation_config_defaults": only max_new_tokens=24, everything else (beams, length
    penalty, early stopping, forced BOS/EOS) from the fixture's generation_config.json;
  - tokenizer_facts record the language code ids and model_max_length.

Default paths (relative to this repository):
    fixtures      testdata/<fixture>/ for tiny-mbart, tiny-m2m100, tiny-nllb, tiny-pegasus
    inputs        testdata/reference/inputs_families.json  ->  testdata/<fixture>/golden/golden_public.json

What is recorded per input case (see the "legend" key inside each file):
  tokenizer ids / masks / pieces / decode round trips, target-side ids, encoder last_hidden_state,
  teacher-forced decoder logits (rows 0, 1, last + argmax + label log-probs), and three generate() runs
  (greedy, beam-4 with 2 returned sequences, greedy with no_repeat_ngram_size=2) with the effective generation
  config, the logits processors and stopping criteria HF actually used.  Padded batches get the same
  (encoder + generation).  Floats are rounded to 6 significant digits.
"""
import argparse
import copy
import importlib
import json
import pathlib
import re
import sys

import refenv  # noqa: F401  (must precede transformers)

import numpy as np
import torch

import transformers
from transformers import (
    M2M100ForConditionalGeneration,
    M2M100Tokenizer,
    MBartForConditionalGeneration,
    MBartTokenizer,
    NllbTokenizer,
    PegasusForConditionalGeneration,
    PegasusTokenizer,
)
from transformers.utils import logging as hf_logging

hf_logging.set_verbosity_error()

REPO = refenv.REPO_ROOT
FIXTURES = ["tiny-mbart", "tiny-m2m100", "tiny-nllb", "tiny-pegasus"]
MODEL_CLASSES = {
    "mbart": MBartForConditionalGeneration,
    "m2m_100": M2M100ForConditionalGeneration,
    "pegasus": PegasusForConditionalGeneration,
}
MODELING_MODULES = {
    "mbart": "transformers.models.mbart.modeling_mbart",
    "m2m_100": "transformers.models.m2m_100.modeling_m2m_100",
    "pegasus": "transformers.models.pegasus.modeling_pegasus",
}
TOKENIZER_CLASSES = {
    "MBartTokenizer": MBartTokenizer,
    "M2M100Tokenizer": M2M100Tokenizer,
    "NllbTokenizer": NllbTokenizer,
    "PegasusTokenizer": PegasusTokenizer,
}
MAX_NEW_TOKENS = 24
RUNS = {
    "greedy": dict(do_sample=False, num_beams=1, max_new_tokens=MAX_NEW_TOKENS, no_repeat_ngram_size=0),
    "beam4": dict(do_sample=False, num_beams=4, length_penalty=1.0, early_stopping=True, num_return_sequences=2,
                  max_new_tokens=MAX_NEW_TOKENS, no_repeat_ngram_size=0),
    "greedy_no_repeat_ngram_2": dict(do_sample=False, num_beams=1, max_new_tokens=MAX_NEW_TOKENS,
                                     no_repeat_ngram_size=2),
    "generation_config_defaults": dict(max_new_tokens=MAX_NEW_TOKENS),
}
GEN_KEYS = [
    "max_length", "max_new_tokens", "min_length", "min_new_tokens", "do_sample", "num_beams",
    "num_return_sequences", "length_penalty", "early_stopping", "no_repeat_ngram_size",
    "encoder_no_repeat_ngram_size", "repetition_penalty", "bad_words_ids", "forced_bos_token_id",
    "forced_eos_token_id", "suppress_tokens", "begin_suppress_tokens", "renormalize_logits",
    "remove_invalid_values", "exponential_decay_length_penalty", "temperature", "top_k", "top_p",
    "decoder_start_token_id", "bos_token_id", "eos_token_id", "pad_token_id", "use_cache",
]

LEGEND = {
    "float_rounding": "all floats rounded to 6 significant digits; compare with a tolerance (e.g. abs 1e-4 + rel 1e-4)",
    "tokenize": "tokenizer(src) for one text, no padding (a case marked truncation: tokenizer(src, truncation=True), "
                "i.e. cut to model_max_length keeping the special tokens; the same for its target): input_ids / attention_mask; tokens = tokenizer.tokenize(src); "
                "decoded = tokenizer.decode(input_ids, skip_special_tokens=True); decoded_with_special = same with "
                "skip_special_tokens=False; roundtrip_equal = (decoded == src)",
    "target": "tokenizer(text_target=tgt).input_ids (the labels; tokens = convert_ids_to_tokens(labels)); decoder_input_ids = "
              "model.prepare_decoder_input_ids_from_labels(labels) where the model has it (mBART: the last non-pad label "
              "moved to the front), else the modeling module's shift_tokens_right(labels, pad_token_id, "
              "decoder_start_token_id) as the model's forward(labels=...) does (M2M100); teacher_forced.decoder_input_ids_from "
              "names which",
    "encoder": "model.get_encoder()(input_ids, attention_mask).last_hidden_state, shape [batch, seq, d_model]; "
               "for padded batches the rows at padded positions are included (deterministic but meaningless: compare "
               "only where attention_mask == 1)",
    "teacher_forced": "model(input_ids, attention_mask, decoder_input_ids).logits (raw, no logits processors, includes "
                      "final_logits_bias): full rows at decoder positions 0, 1 and last; argmax over every position; "
                      "label_logprobs[t] = log_softmax(logits[t])[labels[t]]",
    "generate": "model.generate(input_ids, attention_mask, **args). sequences include the decoder start token at "
                "position 0 and are right-padded with pad_token_id after EOS. effective_generation_config = the "
                "GenerationConfig generate() actually used (model generation_config.json merged with args; "
                "max_length = max_new_tokens + 1). logits_processors / stopping_criteria = what HF built, in order. "
                "greedy 'steps': per generated position, [top1_id, top1_score, top2_id, top2_score] of the PROCESSED "
                "scores (greedy: processed raw logits; no log_softmax), null once the row has finished. "
                "beam 'sequences_scores' = sum of log_softmax scores / (generated_len ** length_penalty), generated_len "
                "counting generated tokens incl. EOS but not the decoder start token. The run "
                "'generation_config_defaults' passes only max_new_tokens: beams, length_penalty, early_stopping, "
                "num_return_sequences and forced tokens come from generation_config.json.",
}


def r6(x):
    a = np.asarray(x, dtype=np.float64)
    flat = [float(f"{v:.6g}") for v in a.ravel()]
    return np.array(flat, dtype=np.float64).reshape(a.shape).tolist()


def jsonable(v):
    if isinstance(v, torch.Tensor):
        return v.tolist()
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, float) and not np.isfinite(v):
        return str(v)  # "-inf" / "inf" / "nan" (JSON has no literal for them)
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return repr(v)


def describe(obj):
    d = {"class": type(obj).__name__}
    for k, v in vars(obj).items():
        if k.startswith("_") or callable(v):
            continue
        if isinstance(v, (torch.Tensor, list, tuple, dict, str, int, float, bool)) or v is None:
            if isinstance(v, torch.Tensor) and v.numel() > 64:
                continue
            d[k] = jsonable(v)
    return d


class Recorder:
    """Wraps the model's internal hooks so the actually-used config / processors / criteria are captured."""

    def __init__(self, model):
        self.model = model
        self.last = {}
        orig_len = model._prepare_generated_length
        orig_lp = model._get_logits_processor
        orig_sc = model._get_stopping_criteria

        def prep_len(generation_config, *a, **k):
            gc = orig_len(generation_config, *a, **k)
            self.last["effective_generation_config"] = {key: jsonable(getattr(gc, key, None)) for key in GEN_KEYS}
            return gc

        def get_lp(*a, **k):
            lp = orig_lp(*a, **k)
            self.last["logits_processors"] = [describe(p) for p in lp]
            return lp

        def get_sc(*a, **k):
            sc = orig_sc(*a, **k)
            self.last["stopping_criteria"] = [describe(c) for c in sc]
            return sc

        model._prepare_generated_length = prep_len
        model._get_logits_processor = get_lp
        model._get_stopping_criteria = get_sc

    def generate(self, enc, args):
        self.last = {}
        with torch.no_grad():
            out = self.model.generate(
                input_ids=enc["input_ids"], attention_mask=enc["attention_mask"],
                output_scores=True, return_dict_in_generate=True, **copy.deepcopy(args),
            )
        return out, dict(self.last)


def run_generation(rec, tok, enc, name, args):
    out, info = rec.generate(enc, args)
    seqs = out.sequences
    res = {
        "args": dict(args),
        **info,
        "sequences_shape": list(seqs.shape),
        "sequences": seqs.tolist(),
        "text": tok.batch_decode(seqs, skip_special_tokens=True),
        "text_with_special": tok.batch_decode(seqs, skip_special_tokens=False),
    }
    if getattr(out, "sequences_scores", None) is not None:
        res["sequences_scores"] = r6(out.sequences_scores)
    else:
        eos = rec.model.generation_config.eos_token_id
        steps = []
        done = [False] * seqs.shape[0]
        for t, sc in enumerate(out.scores):
            row_steps = []
            for b in range(sc.shape[0]):
                if done[b]:
                    row_steps.append(None)
                    continue
                v, i = torch.topk(sc[b], 2)
                row_steps.append([int(i[0]), r6(v[0].item()) if torch.isfinite(v[0]) else str(v[0].item()),
                                  int(i[1]), r6(v[1].item()) if torch.isfinite(v[1]) else str(v[1].item())])
                if int(seqs[b, t + 1]) == eos:
                    done[b] = True
            steps.append(row_steps)
        res["steps"] = steps
    return res


def tokenize_case(tok, src, tgt, truncation):
    enc = tok(src, truncation=truncation)
    ids = enc["input_ids"]
    d = {
        "tokens": tok.tokenize(src),
        "input_ids": ids,
        "attention_mask": enc["attention_mask"],
        "decoded": tok.decode(ids, skip_special_tokens=True),
        "decoded_with_special": tok.decode(ids, skip_special_tokens=False),
    }
    d["roundtrip_equal"] = d["decoded"] == src
    tgt_enc = tok(text_target=tgt, truncation=truncation)
    t = {"text": tgt, "labels": tgt_enc["input_ids"], "tokens": tok.convert_ids_to_tokens(tgt_enc["input_ids"])}
    t["decoded"] = tok.decode(tgt_enc["input_ids"], skip_special_tokens=True)
    return d, t


def encoder_out(model, enc):
    with torch.no_grad():
        h = model.get_encoder()(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
    return {"shape": list(h.shape), "last_hidden_state": r6(h)}


def shift_labels(model, lab):
    if hasattr(model, "prepare_decoder_input_ids_from_labels"):
        return model.prepare_decoder_input_ids_from_labels(labels=lab), "model.prepare_decoder_input_ids_from_labels"
    module = importlib.import_module(MODELING_MODULES[model.config.model_type])
    dec = module.shift_tokens_right(lab, model.config.pad_token_id, model.config.decoder_start_token_id)
    return dec, module.__name__.rsplit(".", 1)[-1] + ".shift_tokens_right(labels, pad_token_id, decoder_start_token_id)"


def teacher_forced(model, enc, labels):
    lab = torch.tensor([labels])
    dec, dec_from = shift_labels(model, lab)
    with torch.no_grad():
        logits = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], decoder_input_ids=dec).logits
    T = logits.shape[1]
    logp = torch.log_softmax(logits[0], dim=-1)
    rows = {"0": r6(logits[0, 0])}
    if T > 1:
        rows["1"] = r6(logits[0, 1])
    return {
        "decoder_input_ids_from": dec_from,
        "decoder_input_ids": dec[0].tolist(),
        "logits_shape": list(logits.shape),
        "last_index": T - 1,
        "logits_rows": {**rows, "last": r6(logits[0, T - 1])},
        "argmax": logits[0].argmax(-1).tolist(),
        "label_logprobs": r6(logp[torch.arange(T), lab[0]]),
    }


def language_tokens(tok):
    """src_lang / tgt_lang as the tokenizer spells their tokens (M2M100: "en" -> "__en__")."""
    result = {}
    for side in ("src_lang", "tgt_lang"):
        code = getattr(tok, side, None)
        if code:
            result[side] = tok.get_lang_token(code) if hasattr(tok, "get_lang_token") else code
    return result


def golden_for(fixture_dir, inputs, set_name):
    fixture_dir = pathlib.Path(fixture_dir)
    cfg = json.loads((fixture_dir / "config.json").read_text())
    model_cls, tok_cls = MODEL_CLASSES[cfg["model_type"]], TOKENIZER_CLASSES[cfg["tokenizer_class"]]
    languages = inputs.get("languages", {}).get(fixture_dir.name, {})
    tok = tok_cls.from_pretrained(fixture_dir, **languages)
    model = model_cls.from_pretrained(fixture_dir).eval()  # loads model.safetensors
    rec = Recorder(model)
    gen_cfg_file = fixture_dir / "generation_config.json"
    doc = {
        "format": "hf-reference-golden/1",
        "fixture": fixture_dir.name,
        "set": set_name,
        "versions": refenv.versions(),
        "transformers_source": "github:huggingface/transformers tag v" + transformers.__version__,
        "model_class": model_cls.__name__,
        "tokenizer_class": tok_cls.__name__ + " (slow, pure Python; the Rust `tokenizers` package is not used)",
        "tokenizer_load": {"call": f"{tok_cls.__name__}.from_pretrained(fixture_dir, **kwargs)", "kwargs": languages},
        "load": {"call": f"{model_cls.__name__}.from_pretrained(fixture_dir)", "weights_file": "model.safetensors",
                 "dtype": "float32", "device": "cpu", "mode": "eval()", "torch_threads": torch.get_num_threads()},
        "model_generation_config": json.loads(gen_cfg_file.read_text()) if gen_cfg_file.exists() else None,
        "tokenizer_facts": {
            "vocab_size": tok.vocab_size, "len": len(tok), "padding_side": tok.padding_side,
            "clean_up_tokenization_spaces": tok.clean_up_tokenization_spaces,
            "special_ids": {k: getattr(tok, k + "_id", None) for k in
                            ("bos_token", "eos_token", "unk_token", "pad_token", "sep_token", "cls_token", "mask_token")},
            "all_special_ids": tok.all_special_ids,
            "model_max_length": tok.model_max_length,
            "language_ids": {code: tok.convert_tokens_to_ids(token) for code, token in language_tokens(tok).items()},
        },
        "generation_runs": RUNS,
        "legend": LEGEND,
        "cases": [],
        "batches": [],
    }
    for case in inputs["cases"]:
        src, tgt = case["src"], case["tgt"]
        truncation = case.get("truncation", False)
        tk, tg = tokenize_case(tok, src, tgt, truncation)
        if truncation:
            tk["truncation"] = tg["truncation"] = True
        enc = tok([src], return_tensors="pt", truncation=truncation)
        entry = {"id": case["id"], "src": src, "tokenize": tk, "target": tg,
                 "encoder": encoder_out(model, enc),
                 "teacher_forced": teacher_forced(model, enc, tg["labels"]),
                 "generate": {name: run_generation(rec, tok, enc, name, args) for name, args in RUNS.items()}}
        doc["cases"].append(entry)
    for batch in inputs.get("batches", []):
        enc = tok(batch["src"], return_tensors="pt", padding=True)
        doc["batches"].append({
            "id": batch["id"], "src": batch["src"],
            "input_ids": enc["input_ids"].tolist(), "attention_mask": enc["attention_mask"].tolist(),
            "encoder": encoder_out(model, enc),
            "generate": {name: run_generation(rec, tok, enc, name, args) for name, args in RUNS.items()},
        })
    return doc


def dump(doc, path):
    s = json.dumps(doc, ensure_ascii=False, indent=1, allow_nan=False)
    # put innermost numeric arrays on one line
    pat = re.compile(r"\[\s*([-0-9.eE,\s]*|(?:null|[-0-9.eE,\s])*)\s*\]")
    s = pat.sub(lambda m: "[" + re.sub(r"\s+", "", m.group(1)).replace(",", ", ") + "]", s)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(s + "\n", encoding="utf-8")
    print(f"  wrote {path} ({path.stat().st_size // 1024} KiB)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fixture", help="one fixture directory (then --inputs and --out are required)")
    ap.add_argument("--inputs", help="inputs JSON (default: inputs_families.json next to this script)")
    ap.add_argument("--out")
    ap.add_argument("--testdata", default=str(REPO / "testdata"))
    ap.add_argument("--only", nargs="*", choices=FIXTURES)
    args = ap.parse_args()
    torch.set_num_threads(1)
    refenv.check_expected()
    default_inputs = pathlib.Path(__file__).resolve().parent / "inputs_families.json"
    inputs = json.loads(pathlib.Path(args.inputs or default_inputs).read_text(encoding="utf-8"))
    if args.fixture:
        dump(golden_for(args.fixture, inputs, inputs.get("set", "custom")), pathlib.Path(args.out))
        return
    for fx in args.only or FIXTURES:
        print(f"{fx} / {inputs.get('set', 'public')}")
        fixture = pathlib.Path(args.testdata) / fx
        dump(golden_for(fixture, inputs, inputs.get("set", "public")), fixture / "golden" / "golden_public.json")


if __name__ == "__main__":
    sys.exit(main())
