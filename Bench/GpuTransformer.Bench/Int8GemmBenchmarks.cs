using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using GpuTransformer.Kernels.Cpu;

namespace GpuTransformer.Bench;

/// <summary>
/// The int8 GEMM of <c>--compute-type int8</c> (per-call activation quantization included) against the fp32 packed
/// GEMM, in the same run, at the linear layers' shapes and the 58101-word output projection: one decoding row, a greedy batch of 32, a beam-4 batch of 128.
/// </summary>
[MemoryDiagnoser]
public unsafe class Int8GemmBenchmarks
{
    private float* x;
    private float* y;
    private CpuPackedWeight? packed;
    private CpuInt8Weight? int8;

    /// <summary>Rows of X.</summary>
    [Params(1, 32, 128)]
    public int M { get; set; }

    /// <summary>(K, N) as "KxN".</summary>
    [Params("512x512", "512x2048", "2048x512", "512x58101")]
    public string Shape { get; set; } = "512x512";

    private int K => GemmShape.K(Shape);

    private int N => GemmShape.N(Shape);

    /// <summary>Allocates and fills the operands, packs the weight both ways.</summary>
    [GlobalSetup]
    public void Setup()
    {
        x = Operands.Random(M * K, 1);
        float* w = Operands.Random(K * N, 2);
        y = (float*)NativeMemory.AlignedAlloc((nuint)M * (nuint)N * sizeof(float), 64);
        packed = CpuPackedWeight.Create(new ReadOnlySpan<float>(w, K * N), [], N, K);
        int8 = CpuInt8Weight.Create(new ReadOnlySpan<float>(w, K * N), [], N, K);
        NativeMemory.AlignedFree(w);
    }

    /// <summary>Frees the operands.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        packed?.Dispose();
        int8?.Dispose();
        NativeMemory.AlignedFree(x);
        NativeMemory.AlignedFree(y);
    }

    /// <summary>The fp32 packed-panel kernel at the widest width this processor runs, the baseline.</summary>
    [Benchmark(Baseline = true)]
    public void Float32Packed() => CpuPackedGemm.Linear(new ReadOnlySpan<float>(x, M * K), K, packed!, new Span<float>(y, M * N), N, M);

    /// <summary>The int8 kernel this processor runs best (AVX-VNNI, else AVX2), quantizing X on every call.</summary>
    [Benchmark]
    public void Int8() => CpuInt8Gemm.Linear(new ReadOnlySpan<float>(x, M * K), K, int8!, new Span<float>(y, M * N), N, M);
}
