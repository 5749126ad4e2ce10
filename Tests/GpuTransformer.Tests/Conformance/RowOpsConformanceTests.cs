using GpuTransformer.Kernels;
using Xunit;

namespace GpuTransformer.Tests.Conformance;

/// <summary>
/// The row-wise ops (LayerNorm with and without the residual, RMSNorm, softmax, log-softmax) and the element-wise
/// updates, on every backend against the double reference, over row lengths 0..257 so that every SIMD tail and every
/// partial work-group is exercised, and with the output aliasing the input as the model uses them.
/// </summary>
public sealed class RowOpsConformanceTests
{
    private static readonly int[] Lengths = [.. Enumerable.Range(1, 257), 511, 1000, 2049];

    /// <summary>Every row length on every backend.</summary>
    public static TheoryData<string, string> Rows() =>
        ConformanceBackends.Rows(Lengths.Select(n => $"{(n <= 9 ? "small" : "cols")} {n}"));

    /// <summary>Element counts 0..257 (and larger) on every backend.</summary>
    public static TheoryData<string, string> Counts() =>
        ConformanceBackends.Rows([.. Enumerable.Range(0, 10).Select(n => $"small {n}"), .. Enumerable.Range(10, 248).Select(n => $"count {n}"), "count 4099"]);

    /// <summary>LayerNorm of (x + residual), written over x, and of x alone into another buffer.</summary>
    [Theory]
    [MemberData(nameof(Rows))]
    public void LayerNormMatchesReference(string name, string device)
    {
        int cols = Size(name), rows = 3, seed = RandomData.Seed("layernorm " + name);
        var x = RandomData.Uniform(seed, rows * cols, 3f);
        var residual = RandomData.Uniform(seed + 1, rows * cols);
        var gamma = RandomData.Uniform(seed + 2, cols);
        var beta = RandomData.Uniform(seed + 3, cols);
        using var accelerator = ConformanceBackends.Open(device);
        using var xb = new GuardedBuffer<float>(accelerator, x.Length, 1234f, x);
        using var rb = new GuardedBuffer<float>(accelerator, x.Length, 1234f, residual);
        using var gb = new GuardedBuffer<float>(accelerator, cols, 1234f, gamma);
        using var bb = new GuardedBuffer<float>(accelerator, cols, 1234f, beta);
        using var yb = new GuardedBuffer<float>(accelerator, x.Length, 1234f);
        Normalization.LayerNorm(accelerator, xb.View, default, gb.View, bb.View, yb.View, rows, cols, 1e-5f);
        Normalization.LayerNorm(accelerator, xb.View, rb.View, gb.View, bb.View, xb.View, rows, cols, 1e-5f);
        Compare.Close(LayerNorm(x, null, gamma, beta, rows, cols), yb.ReadChecked(name), 1e-5, 1e-5, $"LayerNorm {name} on {device}");
        Compare.Close(LayerNorm(x, residual, gamma, beta, rows, cols), xb.ReadChecked(name), 1e-5, 1e-5, $"LayerNorm+residual {name} on {device}");
    }

    /// <summary>RMSNorm written over its input.</summary>
    [Theory]
    [MemberData(nameof(Rows))]
    public void RmsNormMatchesReference(string name, string device)
    {
        int cols = Size(name), rows = 2, seed = RandomData.Seed("rmsnorm " + name);
        var x = RandomData.Uniform(seed, rows * cols, 3f);
        var gamma = RandomData.Uniform(seed + 1, cols);
        var expected = new double[x.Length];
        for (int r = 0; r < rows; r++)
        {
            double ms = 0;
            for (int c = 0; c < cols; c++)
            {
                ms += (double)x[r * cols + c] * x[r * cols + c];
            }

            double scale = 1 / Math.Sqrt(ms / cols + 1e-6);
            for (int c = 0; c < cols; c++)
            {
                expected[r * cols + c] = gamma[c] * x[r * cols + c] * scale;
            }
        }

        using var accelerator = ConformanceBackends.Open(device);
        using var xb = new GuardedBuffer<float>(accelerator, x.Length, 1234f, x);
        using var gb = new GuardedBuffer<float>(accelerator, cols, 1234f, gamma);
        Normalization.RmsNorm(accelerator, xb.View, gb.View, xb.View, rows, cols, 1e-6f);
        Compare.Close(expected, xb.ReadChecked(name), 1e-5, 1e-5, $"RmsNorm {name} on {device}");
    }

    /// <summary>Softmax into another buffer and log-softmax in place.</summary>
    [Theory]
    [MemberData(nameof(Rows))]
    public void SoftmaxMatchesReference(string name, string device)
    {
        int cols = Size(name), rows = 2, seed = RandomData.Seed("softmax " + name);
        var x = RandomData.Uniform(seed, rows * cols, 8f);
        var logExpected = new double[x.Length];
        for (int r = 0; r < rows; r++)
        {
            double lse = ReferenceOps.LogSumExp(x.AsSpan(r * cols, cols).ToArray().Select(v => (double)v).ToArray());
            for (int c = 0; c < cols; c++)
            {
                logExpected[r * cols + c] = x[r * cols + c] - lse;
            }
        }

        using var accelerator = ConformanceBackends.Open(device);
        using var xb = new GuardedBuffer<float>(accelerator, x.Length, 1234f, x);
        using var yb = new GuardedBuffer<float>(accelerator, x.Length, 1234f);
        Softmax.Rows(accelerator, xb.View, yb.View, rows, cols, log: false);
        Softmax.Rows(accelerator, xb.View, xb.View, rows, cols, log: true);
        Compare.Close(logExpected.Select(Math.Exp).ToArray(), yb.ReadChecked(name), 1e-5, 1e-6, $"Softmax {name} on {device}");
        Compare.Close(logExpected, xb.ReadChecked(name), 1e-5, 1e-5, $"LogSoftmax {name} on {device}");
    }

    /// <summary>Add, multiply and scale, touching exactly the counted elements.</summary>
    [Theory]
    [MemberData(nameof(Counts))]
    public void ElementwiseMatchesReference(string name, string device)
    {
        int count = Size(name), seed = RandomData.Seed("elementwise " + name);
        var a = RandomData.Uniform(seed, count);
        var b = RandomData.Uniform(seed + 1, count);
        using var accelerator = ConformanceBackends.Open(device);
        using var ab = new GuardedBuffer<float>(accelerator, count, 1234f, a);
        using var bb = new GuardedBuffer<float>(accelerator, count, 1234f, b);
        Elementwise.Add(accelerator, ab.View, bb.View, count);
        Elementwise.Multiply(accelerator, ab.View, bb.View, count);
        Elementwise.Scale(accelerator, bb.View, -0.5f, count);
        var expected = Enumerable.Range(0, count).Select(i => ((double)b[i] + a[i]) * a[i] * -0.5).ToArray();
        Compare.Close(expected, bb.ReadChecked(name), 1e-6, 1e-6, $"Elementwise {name} on {device}");
        Assert.Equal(a, ab.ReadChecked(name));
    }

    private static int Size(string name) => int.Parse(name[(name.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);

    private static double[] LayerNorm(float[] x, float[]? residual, float[] gamma, float[] beta, int rows, int cols)
    {
        var y = new double[x.Length];
        for (int r = 0; r < rows; r++)
        {
            var h = Enumerable.Range(0, cols).Select(c => (double)x[r * cols + c] + (residual is null ? 0 : residual[r * cols + c])).ToArray();
            double mean = h.Average();
            double variance = h.Select(v => (v - mean) * (v - mean)).Average();
            for (int c = 0; c < cols; c++)
            {
                y[r * cols + c] = (h[c] - mean) / Math.Sqrt(variance + 1e-5) * gamma[c] + beta[c];
            }
        }

        return y;
    }
}
