using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using GpuTransformer.Bench;
using GpuTransformer.Kernels.Cpu;

// `peak` measures the FMA throughput and the memory read bandwidth of this machine without BenchmarkDotNet (a few
// seconds); anything else goes to BenchmarkDotNet's switcher, e.g. `--filter *Gemm* --job short --inProcess`.
// GPUTRANSFORMER_BENCH_THREADS sets the threads of our kernels and of OpenBLAS alike (with --inProcess);
// GPUTRANSFORMER_BENCH_M restricts GemmBenchmarks and ColdGemmBenchmarks to the listed row counts, e.g. "1024".
if (args.Length > 0 && args[0] == "peak")
{
    FmaPeak.Report(Console.Out);
    MemoryBandwidth.Report(Console.Out);
    Console.WriteLine($"OpenBLAS kernels: {(OpenBlas.IsAvailable ? OpenBlas.CoreName() : "library not found")}");
    return 0;
}

if (Environment.GetEnvironmentVariable("GPUTRANSFORMER_BENCH_THREADS") is { Length: > 0 } threads)
{
    CpuParallel.ThreadCount = int.Parse(threads, System.Globalization.CultureInfo.InvariantCulture);
}

var config = DefaultConfig.Instance.AddColumn(ThroughputColumn.Gflops, ThroughputColumn.BestGflops, ThroughputColumn.GigabytesPerSecond, PeakShareColumn.Mean, PeakShareColumn.Best);
BenchmarkSwitcher.FromAssembly(typeof(GemmBenchmarks).Assembly).Run(args, config);
return 0;
