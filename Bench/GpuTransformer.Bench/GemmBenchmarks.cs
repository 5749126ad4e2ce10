using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using GpuTransformer.Kernels;
using GpuTransformer.Kernels.Cpu;

namespace GpuTransformer.Bench;

/// <summary>
/// The <c>nn.Linear</c> product <c>Y[M, N] = X[M, K] · W[N, K]ᵀ</c> at the transformer's shapes: M from one decoding
/// row to an encoder batch, (K, N) of the attention projections, the feed-forward layers and the 58101-word output
/// projection. Ours (packed panels with the Vector512 and the Vector256 micro-kernel; the previous row-major kernel) against OpenBLAS <c>cblas_sgemm</c> with the same
/// thread count, in the same run, and the FMA peak timed in every case beside them (<see cref="FmaPeakReference"/>,
/// the reference of the "Peak %" columns).
/// </summary>
[MemoryDiagnoser]
public unsafe class GemmBenchmarks
{
    private float* x;
    private float* w;
    private float* y;
    private CpuPackedWeight? packed;
    private CpuPackedWeight? packed256;

    /// <summary>Rows of X: 1, 4, 32, 128 and 1024, or the comma-separated list in GPUTRANSFORMER_BENCH_M (e.g. "1024" to time the encoder's shapes alone).</summary>
    [ParamsSource(nameof(RowCounts))]
    public int M { get; set; }

    /// <summary>The values of <see cref="M"/>.</summary>
    public static IEnumerable<int> RowCounts => GemmShape.RowCounts(1, 4, 32, 128, 1024);

    /// <summary>(K, N) as "KxN".</summary>
    [Params("512x512", "512x2048", "2048x512", "512x58101")]
    public string Shape { get; set; } = "512x512";

    /// <summary>Floating-point operations per invocation.</summary>
    public double Flops => GemmShape.Flops(M, Shape);

    /// <summary>Bytes each invocation must move at least: X and W read, Y written once (what bounds the decoding shapes, M ≤ 4).</summary>
    public double Bytes => GemmShape.Bytes(M, Shape);

    private int K => GemmShape.K(Shape);

    private int N => GemmShape.N(Shape);

    /// <summary>Allocates and fills the operands, packs the weight.</summary>
    [GlobalSetup]
    public void Setup()
    {
        x = Operands.Random(M * K, 1);
        w = Operands.Random(K * N, 2);
        y = (float*)NativeMemory.AlignedAlloc((nuint)M * (nuint)N * sizeof(float), 64);
        packed = CpuPackedWeight.Create(new ReadOnlySpan<float>(w, K * N), [], N, K);
        packed256 = packed.Kernel == CpuSimdWidth.Vector256 ? packed : CpuPackedWeight.Create(new ReadOnlySpan<float>(w, K * N), [], N, K, CpuSimdWidth.Vector256);
        OpenBlas.SetThreads(CpuParallel.ThreadCount);
    }

    /// <summary>Frees the operands.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        if (packed256 != packed)
        {
            packed256?.Dispose();
        }

        packed?.Dispose();
        NativeMemory.AlignedFree(x);
        NativeMemory.AlignedFree(w);
        NativeMemory.AlignedFree(y);
    }

    // Steps of FmaPeakReference per thread: about 2.4 ms at 160 GFLOP/s a core, longer than a pool wake-up by far.
    private const long PeakIterations = 1_000_000;

    /// <summary>Floating-point operations of one <see cref="FmaPeakReference"/> call (read by <see cref="ThroughputColumn"/> as "{Method}Flops").</summary>
    public double FmaPeakReferenceFlops => PeakIterations * FmaPeak.FlopsPerIteration;

    /// <summary>Bytes of one <see cref="FmaPeakReference"/> call: none, it works in registers (so its GB/s column stays empty).</summary>
    public double FmaPeakReferenceBytes => 0;

    /// <summary>OpenBLAS, the baseline.</summary>
    [Benchmark(Baseline = true)]
    public void OpenBlasSgemm() => OpenBlas.LinearNoBias(x, w, y, M, N, K);

    /// <summary>Ours: the packed-panel kernel of the cpu backend (Vector512 where the processor has AVX-512, else Vector256).</summary>
    [Benchmark]
    public void Packed() => CpuPackedGemm.Linear(new ReadOnlySpan<float>(x, M * K), K, packed!, new Span<float>(y, M * N), N, M);

    /// <summary>Ours, the Vector256 micro-kernel (6 x 16, AVX2 + FMA) that processors without AVX-512 run, on the same weight packed for it (the same as <see cref="Packed"/> on such processors).</summary>
    [Benchmark]
    public void PackedVector256() => CpuPackedGemm.Linear(new ReadOnlySpan<float>(x, M * K), K, packed256!, new Span<float>(y, M * N), N, M, Activation.None, CpuSimdWidth.Vector256);

    /// <summary>
    /// The FMA peak on the kernels' threads, timed in every case right beside the GEMMs: the reference of
    /// <see cref="PeakShareColumn"/>. On a shared machine it tells, case by case, whether other work held the FMA
    /// units in that minute; when it stays high while the GEMMs slow, the other work took the caches or the memory
    /// (docs/benchmarks.md, "Runs 10-13").
    /// </summary>
    [Benchmark]
    public void FmaPeakReference() => FmaPeak.RunOnKernelThreads(PeakIterations);

    /// <summary>The cpu backend's previous kernel (row-major weights, 4x2 dot-product tiles), kept for processors with neither AVX-512 nor AVX2 + FMA.</summary>
    [Benchmark]
    public void RowMajor() => CpuGemm.Linear(new ReadOnlySpan<float>(x, M * K), new ReadOnlySpan<float>(w, K * N), [], new Span<float>(y, M * N), M, N, K);
}
