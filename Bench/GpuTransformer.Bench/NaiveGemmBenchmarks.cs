using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using GpuTransformer.Kernels.Cpu;

namespace GpuTransformer.Bench;

/// <summary>
/// A naive triple loop (one thread, scalar, no blocking) next to the packed kernel, at the decoding shapes only:
/// larger products would take minutes per invocation.
/// </summary>
public unsafe class NaiveGemmBenchmarks
{
    private float* x;
    private float* w;
    private float* y;
    private CpuPackedWeight? packed;

    /// <summary>Rows of X.</summary>
    [Params(1, 32)]
    public int M { get; set; }

    /// <summary>K.</summary>
    [Params(512)]
    public int K { get; set; }

    /// <summary>N.</summary>
    [Params(512, 2048)]
    public int N { get; set; }

    /// <summary>Floating-point operations per invocation.</summary>
    public double Flops => 2.0 * M * K * N;

    /// <summary>Allocates and fills the operands.</summary>
    [GlobalSetup]
    public void Setup()
    {
        x = Operands.Random(M * K, 1);
        w = Operands.Random(K * N, 2);
        y = (float*)NativeMemory.AlignedAlloc((nuint)M * (nuint)N * sizeof(float), 64);
        packed = CpuPackedWeight.Create(new ReadOnlySpan<float>(w, K * N), [], N, K);
    }

    /// <summary>Frees the operands.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        packed?.Dispose();
        NativeMemory.AlignedFree(x);
        NativeMemory.AlignedFree(w);
        NativeMemory.AlignedFree(y);
    }

    /// <summary>The naive loop.</summary>
    [Benchmark(Baseline = true)]
    public void Naive()
    {
        for (int i = 0; i < M; i++)
        {
            for (int j = 0; j < N; j++)
            {
                float sum = 0;
                for (int p = 0; p < K; p++)
                {
                    sum += x[i * K + p] * w[j * K + p];
                }

                y[i * N + j] = sum;
            }
        }
    }

    /// <summary>Ours.</summary>
    [Benchmark]
    public void Packed() => CpuPackedGemm.Linear(new ReadOnlySpan<float>(x, M * K), K, packed!, new Span<float>(y, M * N), N, M);
}
