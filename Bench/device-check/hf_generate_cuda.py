"""Times Hugging Face generate() for a Marian folder on the GPU in fp32, with a fixed output length,
the same work as `gpu-transformer bench`: batch of the input file's lines, min_new_tokens = max_new_tokens."""
import json, statistics, sys, time
import torch
from transformers import MarianMTModel, MarianTokenizer

model_dir, input_file, new_tokens, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
torch.backends.cuda.matmul.allow_tf32 = False  # plain fp32, as ours
torch.backends.cudnn.allow_tf32 = False
sents = [l.rstrip("\n") for l in open(input_file, encoding="utf-8") if l.strip()]
tok = MarianTokenizer.from_pretrained(model_dir)
model = MarianMTModel.from_pretrained(model_dir).eval().to("cuda")
enc = tok(sents, return_tensors="pt", padding=True).to("cuda")
for beams in (1, 4):
    kw = dict(num_beams=beams, do_sample=False, min_new_tokens=new_tokens, max_new_tokens=new_tokens)
    with torch.no_grad():
        model.generate(**enc, **kw)  # warm-up
        times = []
        for _ in range(repeats):
            torch.cuda.synchronize(); t0 = time.perf_counter()
            out = model.generate(**enc, **kw)
            torch.cuda.synchronize(); times.append(time.perf_counter() - t0)
    generated = int((out.shape[1] - 1) * out.shape[0])
    med = statistics.median(times)
    print(json.dumps({"engine": "hf-transformers", "torch": torch.__version__, "beams": beams, "batch": len(sents),
                      "tokens": new_tokens, "shape": list(out.shape), "median_s": round(med, 4),
                      "best_s": round(min(times), 4), "target_tokens_per_second": round(generated / med, 1),
                      "gpu": torch.cuda.get_device_name(0)}), flush=True)
