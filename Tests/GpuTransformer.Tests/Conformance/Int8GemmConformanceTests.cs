using GpuTransformer.Tests.Support;
using GpuTransformer.Kernels;
using GpuTransformer.Kernels.Cpu;
using GpuTransformer.Runtime;
using Xunit;

namespace GpuTransformer.Tests.Conformance;

/// <summary>
/// <see cref="CpuInt8Gemm"/> against two references: a double-precision product of the very int8 inputs the kernel
/// multiplies (the weight read back out of its panels, the activations through <see cref="CpuInt8Quantizer"/>), which it
/// must match to float rounding; and the fp32 product of the original inputs, which it must match within the bound
/// that per-row rounding to int8 implies. Each kernel this processor has is checked (<see cref="CpuInt8Kernel.Avx2"/>
/// everywhere int8 runs, <see cref="CpuInt8Kernel.AvxVnni"/> where it has AVX-VNNI).
/// </summary>
public sealed class Int8GemmConformanceTests
{
    private static readonly int[] Ks = [1, 3, 4, 5, 63, 64, 130, 515];
    private static readonly int[] Ns = [1, 15, 16, 17, 33, 50];

    /// <summary>The int8 kernels this processor runs; a kernel it lacks is refused by name.</summary>
    public static TheoryData<CpuInt8Kernel> Kernels => [CpuInt8Kernel.Avx2, CpuInt8Kernel.AvxVnni];

    /// <summary>Every row count 1..17 against K not a multiple of 4 or 64 and N not a multiple of 16 or 32, with each activation.</summary>
    /// <param name="kernel">The micro-kernel.</param>
    [Theory]
    [MemberData(nameof(Kernels))]
    public void MatchesDequantizedAndFloatReferences(CpuInt8Kernel kernel)
    {
        if (!Int8Support.PresentOrRefused() || !KernelPresentOrRefused(kernel))
        {
            return;
        }

        var activations = new[] { Activation.None, Activation.Relu, Activation.Gelu };
        int caseIndex = 0;
        foreach (int k in Ks)
        {
            foreach (int n in Ns)
            {
                for (int m = 1; m <= 17; m++)
                {
                    var activation = activations[caseIndex++ % activations.Length];
                    Check(kernel, m, n, k, activation, bias: (m + n) % 2 == 0);
                }
            }
        }

        // Large enough for the threaded activation quantization and several row blocks' worth of tasks.
        Check(kernel, 45, 33, 1701, Activation.None, bias: true);
        Check(kernel, 300, 70, 514, Activation.Relu, bias: false);
    }

    /// <summary>
    /// Both kernels sum the same int8 products exactly and dequantize them with the same roundings, so where the
    /// processor has both they return the same floats, bit for bit (and so the same translations).
    /// </summary>
    [Fact]
    public void KernelsAgreeBitForBit()
    {
        if (!Int8Support.PresentOrRefused() || !KernelPresentOrRefused(CpuInt8Kernel.AvxVnni))
        {
            return;
        }

        foreach (var (m, n, k) in new[] { (1, 16, 4), (7, 33, 130), (17, 50, 515), (64, 48, 2048) })
        {
            var x = RandomData.Uniform(31 + m, m * k);
            var w = RandomData.Uniform(32 + m, n * k, 0.5f);
            var bias = RandomData.Uniform(33 + m, n);
            using var vnni = CpuInt8Weight.Create(w, bias, n, k, CpuInt8Kernel.AvxVnni);
            using var avx2 = CpuInt8Weight.Create(w, bias, n, k, CpuInt8Kernel.Avx2);
            var yVnni = new float[m * n];
            var yAvx2 = new float[m * n];
            CpuInt8Gemm.Linear(x, k, vnni, yVnni, n, m, Activation.Gelu);
            CpuInt8Gemm.Linear(x, k, avx2, yAvx2, n, m, Activation.Gelu);
            Assert.Equal(yVnni, yAvx2);
        }
    }

    /// <summary>Strided rows through <see cref="Gemm.Linear(Accelerator, ArrayView{float}, in RowLayout, LinearWeight, ArrayView{float}, in RowLayout, Activation)"/> with an int8 <see cref="LinearWeight"/> leave the gaps alone.</summary>
    [Fact]
    public void LinearWeightInt8GoesThroughTheFacadeWithStrides()
    {
        if (!Int8Support.PresentOrRefused())
        {
            return;
        }

        const int m = 5, n = 40, k = 70, ldx = 75, ldy = 47;
        var x = RandomData.Uniform(11, (m - 1) * ldx + k);
        var w = RandomData.Uniform(12, n * k, 0.5f);
        var bias = RandomData.Uniform(13, n);
        using var accelerator = ConformanceBackends.Open("cpu");
        using var weight = LinearWeight.Create(accelerator, n, k, bias, (first, rows) => w.AsSpan(first * k, rows.Length).CopyTo(rows), LinearWeightUse.Gemm, ComputeType.Int8);
        Assert.Equal(ComputeType.Int8, weight.ComputeType);
        using var xb = accelerator.Upload<float>(x);
        var yInitial = Enumerable.Repeat(-5f, (m - 1) * ldy + n).ToArray();
        using var yb = accelerator.Upload<float>(yInitial);
        Gemm.Linear(accelerator, xb.View, new RowLayout(1, m, ldx, (long)m * ldx), weight, yb.View, new RowLayout(1, m, ldy, (long)m * ldy));
        var y = yb.View.AsSpan().ToArray();

        var expected = new float[y.Length];
        yInitial.CopyTo(expected, 0);
        using var direct = CpuInt8Weight.Create(w, bias, n, k);
        CpuInt8Gemm.Linear(x, ldx, direct, expected, ldy, m);
        Assert.Equal(expected, y);
    }

    /// <summary>An int8 weight that a lookup also reads (a tied output projection) keeps its float rows for the lookup.</summary>
    [Fact]
    public void Int8TiedTableKeepsFloatRows()
    {
        if (!Int8Support.PresentOrRefused())
        {
            return;
        }

        const int n = 37, k = 20;
        var w = RandomData.Uniform(21, n * k);
        using var accelerator = ConformanceBackends.Open("cpu");
        using var weight = LinearWeight.Create(accelerator, n, k, [], (first, rows) => w.AsSpan(first * k, rows.Length).CopyTo(rows), LinearWeightUse.GemmAndLookup, ComputeType.Int8);
        Assert.Equal(ComputeType.Int8, weight.ComputeType);
        Assert.Equal(w, weight.Weight.AsSpan().ToArray());
    }

    // True when this processor has the kernel; otherwise asserts that packing for it is refused and returns false.
    private static bool KernelPresentOrRefused(CpuInt8Kernel kernel)
    {
        if (kernel != CpuInt8Kernel.AvxVnni || System.Runtime.Intrinsics.X86.AvxVnni.IsSupported)
        {
            return true;
        }

        var e = Assert.Throws<PlatformNotSupportedException>(() => CpuInt8Weight.Create([1f, 2f, 3f, 4f], [], 1, 4, kernel));
        Assert.Contains("AVX-VNNI", e.Message, StringComparison.Ordinal);
        return false;
    }

    private static void Check(CpuInt8Kernel kernel, int m, int n, int k, Activation activation, bool bias)
    {
        string name = $"{kernel} m={m} n={n} k={k} {activation}{(bias ? " bias" : "")}";
        int seed = RandomData.Seed(name);
        var x = RandomData.Uniform(seed, m * k);

        // A few outliers per row, as real activations have, so that the per-row scale is not just the typical value.
        x[(seed & int.MaxValue) % x.Length] *= 8f;
        var w = RandomData.Uniform(seed + 1, n * k, 0.5f);
        var b = bias ? RandomData.Uniform(seed + 2, n) : [];
        using var weight = CpuInt8Weight.Create(w, b, n, k, kernel);
        Assert.Equal(kernel, weight.Kernel);
        var y = new float[m * n];
        CpuInt8Gemm.Linear(x, k, weight, y, n, m, activation);

        var wq = new sbyte[n * k];
        var ws = new float[n];
        for (int j = 0; j < n; j++)
        {
            ws[j] = weight.ReadQuantizedRow(j, wq.AsSpan(j * k, k));
        }

        var xq = new sbyte[m * k];
        var xs = new float[m];
        for (int r = 0; r < m; r++)
        {
            xs[r] = CpuInt8Quantizer.QuantizeRow(x.AsSpan(r * k, k), xq.AsSpan(r * k, k));
        }

        for (int r = 0; r < m; r++)
        {
            for (int j = 0; j < n; j++)
            {
                long dot = 0, absDot = 0;
                double fp = 0, absW = 0, absX = 0;
                for (int i = 0; i < k; i++)
                {
                    dot += xq[r * k + i] * wq[j * k + i];
                    absDot += Math.Abs(xq[r * k + i] * wq[j * k + i]);
                    fp += (double)x[r * k + i] * w[j * k + i];
                    absW += Math.Abs(w[j * k + i]);
                    absX += Math.Abs(x[r * k + i]);
                }

                double bj = bias ? b[j] : 0;
                double scale = (double)xs[r] * ws[j];
                double dequantized = ReferenceOps.Activate(activation, dot * scale + bj);
                double actual = y[r * n + j];

                // Float rounding of the int32 → float conversion, the scale product, the fused bias add and the float
                // activation, relative to the largest magnitude involved; the activations' slopes stay below 1.2.
                double roundingTol = 2e-6 * (absDot * scale + Math.Abs(bj)) + 1e-6;
                Assert.True(Math.Abs(actual - dequantized) <= roundingTol, $"{name} [{r},{j}]: {actual} vs dequantized {dequantized} (tol {roundingTol})");

                // Per-row rounding moves each x by at most sx/2 and each w by at most sw/2, so the float product moves
                // by at most sx/2·Σ|w| + sw/2·Σ|x| + K·sx·sw/4 (plus the rounding above).
                double quantTol = 1.2 * (0.5 * xs[r] * absW + 0.5 * ws[j] * absX + 0.25 * k * scale) + roundingTol;
                double reference = ReferenceOps.Activate(activation, fp + bj);
                Assert.True(Math.Abs(actual - reference) <= quantTol, $"{name} [{r},{j}]: {actual} vs fp32 {reference} (tol {quantTol})");
            }
        }
    }
}
