#!/bin/bash
# Device check for the CUDA backend: unpack the runtime and build, then devices, translate, tests, bench, HF.
cd "$(dirname "$0")"; D=$PWD
T0=$(date +%s); el() { echo "[$(( $(date +%s) - T0 ))s] $*"; }
tar xJf payload.tar.xz -C /tmp || exit 1
export DOTNET_ROOT=/tmp/dn PATH=/tmp/dn:$PATH DOTNET_MULTILEVEL_LOOKUP=0 DOTNET_CLI_TELEMETRY_OPTOUT=1
export GPUTRANSFORMER_CACHE_DIR=/tmp/gtcache
G="dotnet /tmp/t/gpu-transformer.dll"
el setup; nvidia-smi -L; nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm --format=csv
ls /etc/OpenCL/vendors 2>&1; ldconfig -p | grep -i -E "libOpenCL|libnvrtc|libcuda.so" | head
ls /usr/local/cuda*/lib64/libnvrtc.so* 2>&1 | head -4
el devices; timeout 60 $G devices 2>&1
el translate; timeout 60 $G translate --device cuda "A man in a blue shirt is riding a bike." 2>&1
timeout 60 $G translate --device cuda --input $D/multi30k-16.en --format jsonl > $OUT/cuda16.jsonl 2>$OUT/cuda16.err; echo rc=$?; tail -3 $OUT/cuda16.err
timeout 60 $G translate --device cpu --input $D/multi30k-16.en --format jsonl > /tmp/cpu16.jsonl 2>&1; echo rc=$?
python3 - $OUT/cuda16.jsonl /tmp/cpu16.jsonl <<'PY'
import json,sys
a=[json.loads(l) for l in open(sys.argv[1]) if l.startswith('{')]; b=[json.loads(l) for l in open(sys.argv[2]) if l.startswith('{')]
same=sum(x['hypotheses'][0]['ids']==y['hypotheses'][0]['ids'] for x,y in zip(a,b))
print(f"cuda vs cpu beam-4 ids identical: {same}/{len(b)} (cuda lines {len(a)})")
for x,y in zip(a,b):
    if x['hypotheses'][0]['ids']!=y['hypotheses'][0]['ids']: print(' cuda:',x['hypotheses'][0]['text'],'| cpu:',y['hypotheses'][0]['text'])
PY
el tests
cd /tmp/t && GPUTRANSFORMER_REQUIRE_BACKENDS=cpu,cuda timeout 200 dotnet /tmp/vst/vstest.console.dll GpuTransformer.Tests.dll \
  --TestCaseFilter:"DisplayName~cuda|FullyQualifiedName~Cuda|FullyQualifiedName~RequiredBackends|FullyQualifiedName~DecodingTransfer" \
  --logger:"trx;LogFileName=$OUT/cuda.trx" --logger:"console;verbosity=normal" > $OUT/tests.txt 2>&1; echo rc=$?
grep -E "^\s+Failed |Passed!|Failed!|Total tests|Skipped " $OUT/tests.txt | head -60; tail -5 $OUT/tests.txt
cd $D
el bench; timeout 60 $G make-random-model --preset marian-base --out /tmp/mb 2>&1 | tail -2
for b in 1 4 1 4; do timeout 60 $G bench --model /tmp/mb --input $D/multi30k-32.en --device cuda --batch 32 --beams $b --tokens 32 --json 2>&1 | tail -3; done
el profile; timeout 60 $G translate --model /tmp/mb --device cuda --input $D/multi30k-32.en --beams 4 --max-new-tokens 32 --min-new-tokens 32 --batch-size 32 --profile > /dev/null 2> $OUT/profile.txt; echo rc=$?; head -40 $OUT/profile.txt
el hf; PYTHONUNBUFFERED=1 timeout 120 python3 $D/hf_generate_cuda.py /tmp/mb $D/multi30k-32.en 32 5 2>&1 | grep -v Warning | tail -6
el done
