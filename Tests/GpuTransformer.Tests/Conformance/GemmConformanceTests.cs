using GpuTransformer.Kernels;
using GpuTransformer.Kernels.Cpu;
using Xunit;

namespace GpuTransformer.Tests.Conformance;

/// <summary><see cref="Gemm.Linear(GpuTransformer.Runtime.Accelerator, GpuTransformer.Runtime.ArrayView{float}, in RowLayout, LinearWeight, GpuTransformer.Runtime.ArrayView{float}, in RowLayout, Activation)"/> on every backend against the double reference.</summary>
public sealed class GemmConformanceTests
{
    private static readonly Dictionary<string, GemmCase> Cases = Build();

    /// <summary>Every case on every backend (those too large for the kernel emulator go to the packed kernels alone).</summary>
    public static TheoryData<string, string> Rows() => ConformanceBackends.Rows(Cases.Where(c => !c.Value.PackedOnly).Select(c => c.Key));

    /// <summary>The product matches the reference, writes nothing outside its rows, and leaves the gaps between strided rows alone.</summary>
    [Theory]
    [MemberData(nameof(Rows))]
    public void MatchesReference(string name, string device)
    {
        var c = Cases[name];
        var (x, w, bias, yInitial, expected) = Operands(name, c);

        using var accelerator = ConformanceBackends.Open(device);
        using var weight = LinearWeight.Create(accelerator, w, bias, c.N, c.K);
        using var xb = new GuardedBuffer<float>(accelerator, x.Length, -7777f, x);
        using var yb = new GuardedBuffer<float>(accelerator, yInitial.Length, -7777f, yInitial);
        Gemm.Linear(accelerator, xb.View, c.XLayout, weight, yb.View, c.YLayout, c.Activation);
        var y = yb.ReadChecked($"{name} on {device}");
        Assert.Equal(x, xb.ReadChecked($"{name} input"));
        Compare.Close(expected, y, 1e-5, 1e-5, $"{name} on {device}");
    }

    /// <summary>Every case through each of the cpu backend's packed micro-kernels (Vector512 and Vector256), chosen explicitly, so that the narrower one is checked on machines whose <c>cpu</c> backend runs the wider.</summary>
    public static TheoryData<string, CpuSimdWidth> WidthRows()
    {
        var rows = new TheoryData<string, CpuSimdWidth>();
        foreach (string name in Cases.Keys)
        {
            rows.Add(name, CpuSimdWidth.Vector512);
            rows.Add(name, CpuSimdWidth.Vector256);
        }

        return rows;
    }

    /// <summary>The packed kernel of the given width, on a weight packed for it, matches the reference; where the processor lacks it, the call is refused rather than run another way.</summary>
    [Theory]
    [MemberData(nameof(WidthRows))]
    public void PackedKernelOfEachWidthMatchesReference(string name, CpuSimdWidth width)
    {
        var c = Cases[name];
        var (x, w, bias, y, expected) = Operands(name, c);
        using var packed = CpuPackedWeight.Create(w, bias, c.N, c.K, width);
        Assert.Equal(width, packed.Kernel);
        bool present = width == CpuSimdWidth.Vector512 ? CpuPackedWeight.HasVector512 : CpuPackedWeight.HasVector256;
        var xl = c.XLayout;
        var yl = c.YLayout;
        if (!present)
        {
            Assert.Throws<PlatformNotSupportedException>(() => CpuPackedGemm.Linear(x, xl.RowStride, packed, y, yl.RowStride, xl.Rows, c.Activation, width));
            return;
        }

        for (int b = 0; b < xl.Batch; b++)
        {
            CpuPackedGemm.Linear(x.AsSpan((int)(b * xl.BatchStride)), xl.RowStride, packed, y.AsSpan((int)(b * yl.BatchStride)), yl.RowStride, xl.Rows, c.Activation, width);
        }

        Compare.Close(expected, y, 1e-5, 1e-5, $"{name}, {width}");
    }

    // The case's inputs (seeded by its name), Y's initial contents and the double-precision expectation.
    private static (float[] X, float[] W, float[] Bias, float[] YInitial, double[] Expected) Operands(string name, GemmCase c)
    {
        int seed = RandomData.Seed(name);
        var x = RandomData.Uniform(seed, c.XLength);
        var w = RandomData.Uniform(seed + 1, c.N * c.K, 0.5f);
        var bias = c.Bias ? RandomData.Uniform(seed + 2, c.N) : [];
        var yInitial = RandomData.Uniform(seed + 3, c.YLength, 100f);
        return (x, w, bias, yInitial, Reference(c, x, w, bias, yInitial));
    }

    private static double[] Reference(GemmCase c, float[] x, float[] w, float[] bias, float[] yInitial)
    {
        var y = yInitial.Select(v => (double)v).ToArray();
        for (int b = 0; b < c.XLayout.Batch; b++)
        {
            for (int r = 0; r < c.XLayout.Rows; r++)
            {
                long xRow = b * c.XLayout.BatchStride + (long)r * c.XLayout.RowStride;
                long yRow = b * c.YLayout.BatchStride + (long)r * c.YLayout.RowStride;
                for (int n = 0; n < c.N; n++)
                {
                    double sum = bias.Length > 0 ? bias[n] : 0;
                    for (int k = 0; k < c.K; k++)
                    {
                        sum += (double)x[xRow + k] * w[n * c.K + k];
                    }

                    y[yRow + n] = ReferenceOps.Activate(c.Activation, sum);
                }
            }
        }

        return y;
    }

    private static Dictionary<string, GemmCase> Build()
    {
        var cases = new Dictionary<string, GemmCase>();
        void Add(string prefix, int rows, int n, int k, Activation activation = Activation.None, bool bias = true, int batch = 1, int xPad = 0, int yPad = 0, bool packedOnly = false)
        {
            var xl = new RowLayout(batch, rows, k + xPad, (long)rows * (k + xPad) + 3);
            var yl = new RowLayout(batch, rows, n + yPad, (long)rows * (n + yPad) + 5);
            if (batch == 1)
            {
                xl = xl with { BatchStride = (long)rows * (k + xPad) };
                yl = yl with { BatchStride = (long)rows * (n + yPad) };
            }

            string name = $"{prefix} b{batch} m{rows} n{n} k{k} {activation}{(bias ? " bias" : "")}{(xPad + yPad > 0 ? $" pad{xPad}/{yPad}" : "")}";
            cases[name] = new GemmCase(n, k, xl, yl, activation, bias, packedOnly);
        }

        Add("small", 1, 1, 1);
        Add("small", 1, 7, 33, bias: false);
        Add("small", 3, 5, 8, Activation.Relu);
        Add("small", 4, 9, 17, Activation.Swish, xPad: 3, yPad: 2);
        Add("small", 2, 6, 5, Activation.Gelu, batch: 3);
        Add("small", 17, 3, 2);
        Add("skinny", 16, 64, 64, Activation.GeluNew);
        Add("skinny", 12, 871, 64);
        Add("skinny", 5, 130, 257, Activation.Swish);
        Add("skinny", 1, 200, 300, Activation.Gelu, bias: false);
        Add("skinny", 3, 40, 24, batch: 4, xPad: 1, yPad: 7);
        Add("tiled", 17, 64, 64);
        Add("tiled", 65, 130, 31, Activation.Relu);
        Add("tiled", 64, 64, 16, Activation.GeluNew, bias: false);
        Add("tiled", 100, 257, 100, Activation.Swish, xPad: 5, yPad: 3);
        Add("tiled", 33, 70, 48, Activation.Gelu, batch: 3, yPad: 11);
        Add("tiled", 129, 1, 65);

        // Row tiles of every height the kernels have (the Vector512 kernel's tiles are 1-12 rows, the Vector256
        // kernel's 1-6, a block's rows split evenly over them: 13 rows as 6 + 7 or 4 + 4 + 5, 23 as 11 + 12 or
        // 5 + 6 + 6 + 6).
        Add("tiles", 9, 40, 20, Activation.Swish);
        Add("tiles", 13, 64, 30, xPad: 2);
        Add("tiles", 23, 33, 40, Activation.Relu, yPad: 1);

        // Long K with more rows than one register tile and several panels, one partial.
        Add("longk", 40, 96, 600, Activation.Swish, xPad: 2, yPad: 3);
        Add("longk", 20, 100, 513, Activation.Relu, batch: 2);

        // Several of the cpu kernel's row blocks (about 512 KiB of X rows for the Vector512 kernel, 256 KiB for the
        // Vector256 one: at K = 1500, blocks of 68, 68 and 67 rows, or four of 41 and one of 39, each split evenly over
        // its tiles); the weight (576 KiB, many rows) is prefetched panel by panel.
        Add("rowblocks", 203, 70, 1500, Activation.Relu, xPad: 1, yPad: 2);

        // Weights above 8 MiB, which the cpu kernel prefetches panel by panel even for few rows: tiles of several rows
        // sharing the prefetch of the next panel, and a single short tile that prefetches two lines per step.
        Add("bigweight", 21, 2085, 1031, Activation.Swish, yPad: 3);
        Add("bigweight", 3, 2085, 1031, bias: false);

        // The packed kernels' task split where the cap on a task's FLOPs decides it, with several row blocks and panel
        // groups of unequal size (on 2 threads: 3 row blocks × 5 groups of 4-5 of the 23 panels for the Vector512
        // kernel, 5 × 3 groups of 7-8 for the Vector256 one), each thread claiming its next task ahead; 221 M
        // multiply-adds, too many for the emulator.
        Add("tasks", 203, 726, 1500, Activation.Swish, xPad: 4, yPad: 1, packedOnly: true);
        return cases;
    }

    private sealed record GemmCase(int N, int K, RowLayout XLayout, RowLayout YLayout, Activation Activation, bool Bias, bool PackedOnly)
    {
        public int XLength => (int)XLayout.RequiredLength(K);

        public int YLength => (int)YLayout.RequiredLength(N);
    }
}
