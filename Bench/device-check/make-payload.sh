#!/usr/bin/env bash
# Prepares .dev/ for a CUDA check on a lent GPU machine that has no .NET: the Release test build with its test models,
# a .NET runtime (no SDK), the SDK's vstest console to run the tests without the SDK, and run-on-device.sh.
#
#   bash Bench/device-check/make-payload.sh            # builds, writes .dev/ (about 48 MB, xz)
#   bash Bench/device-check/make-payload.sh isolate    # the index holds nothing and everything but .dev/ is ignored,
#                                                      # so that a device call sends .dev/ alone (the tracked files
#                                                      # are ~54 MB and the call carries at most 64 MiB)
#   (device call: bash .dev/run-on-device.sh 2>&1 | tee $OUT/log.txt, timeout ~420 s)
#   bash Bench/device-check/make-payload.sh restore    # the index back from HEAD, the ignore rule removed
#
# The input sentences are the first 32 (bench, HF) and the 100th-115th (translate cuda vs cpu) lines of Multi30k's
# test_2016_flickr.en, read from ../shared/data at preparation time.
set -euo pipefail
cd "$(dirname "$0")/../.."
exclude=.git/info/exclude
case "${1:-build}" in
  isolate)
    git diff --quiet HEAD || { echo "commit or stash first: isolate empties the index" >&2; exit 1; }
    git rm -r -q --cached .
    printf '/*\n!/.dev/\n' >> "$exclude"
    echo "index emptied; what a device call sends:"; git ls-files --others --exclude-standard; exit 0 ;;
  restore)
    git reset -q
    sed -i '\#^/\*$#d; \#^!/\.dev/$#d' "$exclude"
    grep -qx '/.dev/' "$exclude" || echo '/.dev/' >> "$exclude"
    git status --short; exit 0 ;;
esac

dotnet build Tests/GpuTransformer.Tests -c Release -nologo -v q
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
sdk=$(dotnet --list-sdks | tail -1 | sed 's/ \[\(.*\)\]$//; s/^\([^ ]*\).*/\1/'); sdk_dir="$dotnet_root/sdk/$sdk"
runtime=$(ls -d "$dotnet_root"/shared/Microsoft.NETCore.App/* | sort -V | tail -1)

# The runtime without the debugger and alternative-GC libraries, which nothing here loads.
mkdir -p "$work/dn/shared/Microsoft.NETCore.App"
cp -a "$dotnet_root/dotnet" "$dotnet_root/host" "$work/dn/"
cp -a "$runtime" "$work/dn/shared/Microsoft.NETCore.App/"
(cd "$work/dn/shared/Microsoft.NETCore.App/$(basename "$runtime")" &&
  rm -f libmscordaccore.so libmscordbi.so libclrgcexp.so libclrgc.so libcoreclrtraceptprovider.so createdump)

# vstest.console and what it loads, from the SDK.
mkdir -p "$work/vst/Extensions"
cp -a "$sdk_dir"/vstest.console.* "$sdk_dir"/Microsoft.TestPlatform.*.dll "$sdk_dir"/Microsoft.VisualStudio.TestPlatform.*.dll \
  "$sdk_dir"/testhost* "$sdk_dir"/Microsoft.Extensions.*.dll "$sdk_dir"/Newtonsoft.Json.dll "$sdk_dir"/NuGet.Frameworks.dll "$work/vst/"
cp "$sdk_dir"/Extensions/Microsoft.TestPlatform.TestHostRuntimeProvider.dll \
  "$sdk_dir"/Extensions/Microsoft.VisualStudio.TestPlatform.Extensions.Trx.TestLogger.dll "$work/vst/Extensions/"

# The tests and the CLI, without what only the cpu tests read (tokenizer corpora, .bin twins of the checkpoints).
cp -a Tests/GpuTransformer.Tests/bin/Release/net10.0 "$work/t"
(cd "$work/t" && rm -rf testdata/tokenizer testdata/tokenizer-json testdata/generator && find . -name pytorch_model.bin -delete && rm -f ./*.pdb ./*.xml)

rm -rf .dev; mkdir -p .dev
tar cf - -C "$work" dn vst t | xz -T0 -6 > .dev/payload.tar.xz
cp Bench/device-check/run-on-device.sh Bench/device-check/hf_generate_cuda.py .dev/
zcat ../shared/data/multi30k/test_2016_flickr.en.gz | sed -n 1,32p > .dev/multi30k-32.en
zcat ../shared/data/multi30k/test_2016_flickr.en.gz | sed -n 100,115p > .dev/multi30k-16.en
grep -qx '/.dev/' "$exclude" 2>/dev/null || echo '/.dev/' >> "$exclude"
du -sh .dev
