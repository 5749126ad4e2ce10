using GpuTransformer.Kernels;
using GpuTransformer.Kernels.Cpu;
using Xunit;

namespace GpuTransformer.Tests.Conformance;

/// <summary><see cref="CpuPackedWeight"/>'s two panel layouts: what packing keeps, and which kernel may read which.</summary>
public sealed class CpuPackedWeightTests
{
    /// <summary>Both layouts, packed from a whole span and streamed a block at a time, give every row back exactly (scaled), at sizes with a partial last panel and half panel.</summary>
    [Theory]
    [InlineData(CpuSimdWidth.Vector512, 1, 1)]
    [InlineData(CpuSimdWidth.Vector512, 77, 33)]
    [InlineData(CpuSimdWidth.Vector256, 1, 1)]
    [InlineData(CpuSimdWidth.Vector256, 77, 33)]
    [InlineData(CpuSimdWidth.Vector256, 1100, 20)]
    [InlineData(CpuSimdWidth.Vector256, 48, 5)]
    public void ReadRowGivesEveryRowBack(CpuSimdWidth kernel, int outFeatures, int inFeatures)
    {
        var w = RandomData.Uniform(RandomData.Seed($"pack {kernel} {outFeatures}x{inFeatures}"), outFeatures * inFeatures);
        using var whole = CpuPackedWeight.Create(w, [], outFeatures, inFeatures, kernel);
        using var streamed = CpuPackedWeight.Create(outFeatures, inFeatures, [], (first, destination) => w.AsSpan(first * inFeatures, destination.Length).CopyTo(destination), kernel);
        Assert.Equal(kernel, whole.Kernel);
        Assert.Equal(kernel, streamed.Kernel);
        var row = new float[inFeatures];
        foreach (var packed in new[] { whole, streamed })
        {
            for (int r = 0; r < outFeatures; r++)
            {
                packed.ReadRow(r, row, 2f);
                for (int k = 0; k < inFeatures; k++)
                {
                    Assert.Equal(2f * w[(r * inFeatures) + k], row[k]);
                }
            }
        }
    }

    /// <summary>Packing for <see cref="CpuSimdWidth.Best"/> picks the widest kernel this processor runs.</summary>
    [Fact]
    public void BestIsTheWidestKernelHere()
    {
        using var packed = CpuPackedWeight.Create(new float[64], [], 8, 8);
        Assert.Equal(CpuPackedWeight.HasVector512 ? CpuSimdWidth.Vector512 : CpuSimdWidth.Vector256, packed.Kernel);
    }

    /// <summary>A kernel is never run on panels laid out for the other: naming the other width is an <see cref="ArgumentException"/> that says which it was packed for, and <see cref="CpuSimdWidth.Best"/> runs the weight's own kernel or refuses where the processor lacks it.</summary>
    [Theory]
    [InlineData(CpuSimdWidth.Vector512, CpuSimdWidth.Vector256)]
    [InlineData(CpuSimdWidth.Vector256, CpuSimdWidth.Vector512)]
    public void KernelMustMatchTheLayout(CpuSimdWidth packedFor, CpuSimdWidth asked)
    {
        const int N = 40, K = 24, M = 3;
        var w = RandomData.Uniform(RandomData.Seed($"layout {packedFor}"), N * K);
        var x = RandomData.Uniform(RandomData.Seed($"layout x {packedFor}"), M * K);
        var y = new float[M * N];
        using var packed = CpuPackedWeight.Create(w, [], N, K, packedFor);

        var error = Assert.Throws<ArgumentException>(() => CpuPackedGemm.Linear(x, K, packed, y, N, M, Activation.None, asked));
        Assert.Contains($"packed for the {packedFor} kernel", error.Message, StringComparison.Ordinal);
        Assert.All(y, v => Assert.Equal(0f, v));

        bool present = packedFor == CpuSimdWidth.Vector512 ? CpuPackedWeight.HasVector512 : CpuPackedWeight.HasVector256;
        if (!present)
        {
            Assert.Throws<PlatformNotSupportedException>(() => CpuPackedGemm.Linear(x, K, packed, y, N, M, Activation.None, CpuSimdWidth.Best));
            return;
        }

        CpuPackedGemm.Linear(x, K, packed, y, N, M, Activation.None, CpuSimdWidth.Best);
        for (int r = 0; r < M; r++)
        {
            for (int n = 0; n < N; n++)
            {
                double sum = 0;
                for (int k = 0; k < K; k++)
                {
                    sum += (double)x[(r * K) + k] * w[(n * K) + k];
                }

                Assert.Equal(sum, y[(r * N) + n], 1e-4);
            }
        }
    }
}
