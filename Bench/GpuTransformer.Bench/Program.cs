using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using GpuTransformer.Bench;

// `peak` measures the FMA throughput of this machine without BenchmarkDotNet (a few seconds); anything else goes to
// BenchmarkDotNet's switcher, e.g. `--filter *Gemm* --job short --inProcess`.
if (args.Length > 0 && args[0] == "peak")
{
    FmaPeak.Report(Console.Out);
    return 0;
}

var config = DefaultConfig.Instance.AddColumn(new GflopsColumn());
BenchmarkSwitcher.FromAssembly(typeof(GemmBenchmarks).Assembly).Run(args, config);
return 0;
