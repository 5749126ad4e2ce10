#!/usr/bin/env python3
"""HF's M2M100 sinusoidal position table at full size, for testing the port's table directly (the goldens only reach
position 257 and see it through the whole model).

    /usr/bin/python3 testdata/reference/make_position_reference.py   ->  testdata/reference/m2m100_positions.json

For d_model 64, 1024 and 65 (odd: zero column), padding_idx 1 and 1026 rows (nllb-200 / m2m100_418M's
max_position_embeddings 1024 + 2): the float32 frequencies exp(-i ln(10000)/(h-1)) and rows 0, 1, 2, 3, 255, 257, 511,
1000 and 1025 of M2M100SinusoidalPositionalEmbedding.get_embedding (float32 values, written exactly as doubles).
Made with torch's CPU kernels on a machine with AVX2 (torch's exp there is SLEEF expf_u10, not correctly rounded).
"""
import json
import math
import pathlib

import refenv  # noqa: F401  (must precede transformers)

import torch
from transformers.models.m2m_100.modeling_m2m_100 import M2M100SinusoidalPositionalEmbedding

ROWS, PADDING = 1026, 1
PICK = [0, 1, 2, 3, 255, 257, 511, 1000, 1025]


def main():
    torch.set_num_threads(1)
    doc = {"source": "transformers v4.43.4 M2M100SinusoidalPositionalEmbedding.get_embedding(rows, dim, padding_idx)",
           "versions": refenv.versions(), "cpu_capability": "AVX2", "rows": ROWS, "padding_idx": PADDING, "tables": []}
    for dim in (64, 1024, 65):
        half = dim // 2
        frequencies = torch.exp(torch.arange(half, dtype=torch.int64).float() * -(math.log(10000) / (half - 1)))
        table = M2M100SinusoidalPositionalEmbedding.get_embedding(ROWS, dim, PADDING)
        doc["tables"].append({
            "dim": dim,
            "frequencies": [float(v) for v in frequencies.tolist()],
            "rows": {str(p): [float(v) for v in table[p].tolist()] for p in PICK},
        })
    out = pathlib.Path(__file__).resolve().parent / "m2m100_positions.json"
    out.write_text(json.dumps(doc, indent=0) + "\n", encoding="utf-8")
    print(f"wrote {out} ({out.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
