"""Bootstrap for the Hugging Face reference harness.

Import this module *before* anything from transformers:

    import refenv          # sets sys.path, offline mode, version metadata for shimmed packages
    import transformers

Where the sources come from (no absolute paths are stored in this repository):
  TRANSFORMERS_SRC  checkout of github:huggingface/transformers at tag v4.43.4 (repo root or its src/ dir)
  HF_HUB_SRC        checkout of github:huggingface/huggingface_hub at tag v0.24.5 (repo root or its src/ dir)
Defaults: <parent of this repository>/ext/transformers and <parent of this repository>/ext/huggingface_hub.

This is a copy of shared/reference/refenv.py (the harness that made the Marian/BART/T5 goldens), kept in the
repository so the family fixtures (testdata/reference/make_family_fixtures.py) can be re-made from a clone.

Shims (testdata/reference/shims/): a pure-Python `safetensors`.  `tokenizers` (Rust) is deliberately absent, so
transformers uses the *slow* (pure Python / sentencepiece) tokenizers, which is what the goldens are made with.
"""
import importlib.abc
import importlib.metadata
import os
import pathlib
import re
import sys

HERE = pathlib.Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]  # testdata/reference/ -> repository root
SHIMS = HERE / "shims"
EXPECTED = {"transformers": "4.43.4", "huggingface_hub": "0.24.5"}

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")


def _src_dir(env, name):
    p = os.environ.get(env)
    p = pathlib.Path(p) if p else REPO_ROOT.parent / "ext" / name
    p = p.resolve()
    if (p / "src" / name / "__init__.py").is_file():
        return p / "src"
    if (p / name / "__init__.py").is_file():
        return p
    raise RuntimeError(f"{env}: cannot find package '{name}' under {p} (see reference/README.md)")


def _version_of(init_py):
    m = re.search(r'^__version__\s*=\s*["\']([^"\']+)["\']', pathlib.Path(init_py).read_text(), re.M)
    return m.group(1) if m else "0"


TRANSFORMERS_DIR = _src_dir("TRANSFORMERS_SRC", "transformers")
HF_HUB_DIR = _src_dir("HF_HUB_SRC", "huggingface_hub")

for _p in (str(HF_HUB_DIR), str(TRANSFORMERS_DIR), str(SHIMS)):
    if _p in sys.path:
        sys.path.remove(_p)
    sys.path.insert(0, _p)

_VERSIONS = {
    "transformers": _version_of(TRANSFORMERS_DIR / "transformers" / "__init__.py"),
    "huggingface-hub": _version_of(HF_HUB_DIR / "huggingface_hub" / "__init__.py"),
    "safetensors": _version_of(SHIMS / "safetensors" / "__init__.py"),
}


class _Dist(importlib.metadata.Distribution):
    def __init__(self, name, version):
        self._name, self._version = name, version

    def read_text(self, filename):
        if filename in ("METADATA", "PKG-INFO"):
            return f"Metadata-Version: 2.1\nName: {self._name}\nVersion: {self._version}\n"
        return None

    def locate_file(self, path):
        return pathlib.Path(path)


def _norm(n):
    return re.sub(r"[-_.]+", "-", n).lower()


class _MetadataFinder(importlib.abc.MetaPathFinder):
    """Answers importlib.metadata queries for the packages put on sys.path from source checkouts / shims."""

    def find_spec(self, *args, **kwargs):
        return None

    def find_distributions(self, context=importlib.metadata.DistributionFinder.Context()):
        name = context.name
        if name is None:
            return iter([_Dist(n, v) for n, v in _VERSIONS.items()])
        n = _norm(name)
        return iter([_Dist(k, v) for k, v in _VERSIONS.items() if _norm(k) == n])


if not any(isinstance(f, _MetadataFinder) for f in sys.meta_path):
    sys.meta_path.append(_MetadataFinder())


def _patch_python_added_token():
    """transformers 4.43 without the Rust `tokenizers` package uses a fallback `AddedToken` dataclass that is
    unhashable and has no __setstate__, so every slow tokenizer fails in __init__ with
    "TypeError: unhashable type: 'AddedToken'" (upstream issue huggingface/transformers#30696).  In a normal install
    `tokenizers` is always present and slow tokenizers use the Rust AddedToken.  Give the fallback class the Rust
    class's semantics (tokenizers bindings/python/src/tokenizer.rs, PyAddedToken): hash = hash of the content,
    equality over all fields, __setstate__ updates the given fields, __getstate__/__repr__ with the same keys/format.
    No file of transformers is modified."""
    import transformers.tokenization_utils_base as tub
    from transformers.utils import is_tokenizers_available

    if is_tokenizers_available():
        return
    cls = tub.AddedToken
    fields = ("content", "single_word", "lstrip", "rstrip", "normalized", "special")

    def __hash__(self):
        return hash(self.content)

    def __eq__(self, other):
        if not isinstance(other, cls):
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in fields)

    def __getstate__(self):
        return {f: getattr(self, f) for f in fields}

    def __setstate__(self, state):
        for k, v in state.items():
            if k in fields:
                setattr(self, k, v)

    def __repr__(self):
        return (f'AddedToken("{self.content}", rstrip={self.rstrip}, lstrip={self.lstrip}, '
                f"single_word={self.single_word}, normalized={self.normalized}, special={self.special})")

    for fn in (__hash__, __eq__, __getstate__, __setstate__, __repr__):
        setattr(cls, fn.__name__, fn)
    cls._reference_harness_patched = True


_patch_python_added_token()


def versions():
    import huggingface_hub
    import sentencepiece
    import torch
    import transformers

    return {
        "transformers": transformers.__version__,
        "transformers_tag": "v" + transformers.__version__,
        "huggingface_hub": huggingface_hub.__version__,
        "torch": torch.__version__,
        "sentencepiece": sentencepiece.__version__,
        "python": sys.version.split()[0],
        "safetensors": "pure-Python shim (testdata/reference/shims/safetensors) claiming " + _VERSIONS["safetensors"],
    }


def check_expected():
    v = versions()
    for k, want in EXPECTED.items():
        if v[k] != want:
            print(f"WARNING: {k} {v[k]} != expected {want}; goldens were produced with {want}", file=sys.stderr)
    return v


if __name__ == "__main__":
    # Self-test: `/usr/bin/python3 testdata/reference/refenv.py`
    import transformers  # noqa: F401
    from transformers import (  # noqa: F401
        M2M100ForConditionalGeneration,
        M2M100Tokenizer,
        MBartForConditionalGeneration,
        MBartTokenizer,
        NllbTokenizer,
        PegasusForConditionalGeneration,
        PegasusTokenizer,
    )
    from transformers.utils import is_sentencepiece_available, is_tokenizers_available, is_torch_available

    import json

    print(json.dumps(check_expected(), indent=1))
    print("torch available:", is_torch_available(), "| sentencepiece:", is_sentencepiece_available(),
          "| rust tokenizers (expected False):", is_tokenizers_available())
    print("sources:", TRANSFORMERS_DIR, HF_HUB_DIR, "| shims:", SHIMS)
    print("OK: mBART/M2M100/NLLB/Pegasus model + slow tokenizer classes import")
