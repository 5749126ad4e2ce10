using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using GpuTransformer.Kernels.Cpu;

namespace GpuTransformer.Bench;

/// <summary>
/// The decoding shapes of <see cref="GemmBenchmarks"/> with the weight coming from memory, as it does in a decoding
/// step: a step reads every layer's weights (283 MB for Marian base in fp32), so no weight is still in L2, and few in
/// L3, when its turn comes again. Each invocation uses the next of enough copies of the weight to fill twice this
/// machine's L3 (260 MiB), for ours (packed) and OpenBLAS (row-major) alike; <see cref="GemmBenchmarks"/> repeats one
/// weight, which stays in the caches.
/// </summary>
[MemoryDiagnoser]
public unsafe class ColdGemmBenchmarks
{
    // Bytes of weight copies cycled through: twice the L3 of the machine in docs/benchmarks.md.
    private const long CycledBytes = 512L << 20;

    private float* x;
    private float* y;
    private float*[] rowMajor = [];
    private CpuPackedWeight[] packed = [];
    private int next;

    /// <summary>Rows of X: decoding with batch × beams = 1, 4, 32 and 128, or the comma-separated list in GPUTRANSFORMER_BENCH_M.</summary>
    [ParamsSource(nameof(RowCounts))]
    public int M { get; set; }

    /// <summary>The values of <see cref="M"/>.</summary>
    public static IEnumerable<int> RowCounts => GemmShape.RowCounts(1, 4, 32, 128);

    /// <summary>(K, N) as "KxN".</summary>
    [Params("512x512", "512x2048", "2048x512", "512x58101")]
    public string Shape { get; set; } = "512x512";

    /// <summary>Floating-point operations per invocation.</summary>
    public double Flops => GemmShape.Flops(M, Shape);

    /// <summary>Bytes each invocation must move at least: X and W read, Y written once.</summary>
    public double Bytes => GemmShape.Bytes(M, Shape);

    private int K => GemmShape.K(Shape);

    private int N => GemmShape.N(Shape);

    /// <summary>Allocates X, Y and the copies of the weight, packed and row-major.</summary>
    [GlobalSetup]
    public void Setup()
    {
        long weightFloats = (long)K * N;
        int copies = (int)Math.Max(2, (CycledBytes + (weightFloats * sizeof(float)) - 1) / (weightFloats * sizeof(float)));
        x = Operands.Random(M * K, 1);
        y = (float*)NativeMemory.AlignedAlloc((nuint)M * (nuint)N * sizeof(float), 64);
        float* w = Operands.Random(weightFloats, 2);
        rowMajor = new float*[copies];
        packed = new CpuPackedWeight[copies];
        for (int c = 0; c < copies; c++)
        {
            rowMajor[c] = (float*)NativeMemory.AlignedAlloc((nuint)weightFloats * sizeof(float), 64);
            Buffer.MemoryCopy(w, rowMajor[c], weightFloats * sizeof(float), weightFloats * sizeof(float));
            packed[c] = CpuPackedWeight.Create(new ReadOnlySpan<float>(w, (int)weightFloats), [], N, K);
        }

        NativeMemory.AlignedFree(w);
        OpenBlas.SetThreads(CpuParallel.ThreadCount);
    }

    /// <summary>Frees everything.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var p in packed)
        {
            p.Dispose();
        }

        foreach (float* p in rowMajor)
        {
            NativeMemory.AlignedFree(p);
        }

        NativeMemory.AlignedFree(x);
        NativeMemory.AlignedFree(y);
    }

    /// <summary>OpenBLAS, the baseline, on the next copy of the weight.</summary>
    [Benchmark(Baseline = true)]
    public void OpenBlasSgemm()
    {
        next = next + 1 == rowMajor.Length ? 0 : next + 1;
        OpenBlas.LinearNoBias(x, rowMajor[next], y, M, N, K);
    }

    /// <summary>Ours, the cpu backend's packed kernel, on the next copy of the weight.</summary>
    [Benchmark]
    public void Packed()
    {
        next = next + 1 == packed.Length ? 0 : next + 1;
        CpuPackedGemm.Linear(new ReadOnlySpan<float>(x, M * K), K, packed[next], new Span<float>(y, M * N), N, M);
    }
}
