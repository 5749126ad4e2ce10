using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GpuTransformer.Kernels.Cpu;

/// <summary>
/// <c>Y = act(X · Wᵀ + bias)</c> against a <see cref="CpuPackedWeight"/>: the BLIS-style CPU GEMM of the <c>cpu</c>
/// backend. Work is split into tasks of (a block of up to <c>MC</c> rows) × (a group of panels) for
/// <see cref="CpuParallel"/>; inside a task each panel (32 × K floats, at most 256 KiB for K = 2048) stays in L2 while
/// the row tiles of the block stream over it, and the block of X rows (MC × K) is sized to stay in L2 as well. K is not
/// blocked: the whole dot product lives in registers, so there is no C read-modify-write, and bias and activation are
/// applied as each tile leaves the registers. No allocation per call.
/// </summary>
[SkipLocalsInit]
public static unsafe class CpuPackedGemm
{
    private const int TileRows = 8;

    // Bytes of X rows a task keeps in L2 next to its panel.
    private const int RowBlockBytes = 256 * 1024;

    // Panels per task at most (32 panels = 1024 output features).
    private const int MaxPanelsPerTask = 32;

    // Weights above this size are prefetched panel by panel (they come from L3 or memory, e.g. the 58101-word output
    // projection, 119 MB); smaller ones stay in the caches between calls, where the prefetch instructions only take
    // load slots (about 10 % slower at M <= 4 when measured).
    private const long PrefetchAboveBytes = 8L << 20;

    /// <summary>Computes <c>Y = act(X · Wᵀ + bias)</c> with rows of X and Y <paramref name="ldx"/> and <paramref name="ldy"/> elements apart.</summary>
    /// <param name="x">Input rows of <see cref="CpuPackedWeight.In"/>.</param>
    /// <param name="ldx">Elements between consecutive rows of X.</param>
    /// <param name="weight">The packed weight and bias.</param>
    /// <param name="y">Output rows of <see cref="CpuPackedWeight.Out"/>; elements between rows are left alone.</param>
    /// <param name="ldy">Elements between consecutive rows of Y.</param>
    /// <param name="m">Rows.</param>
    /// <param name="activation">Applied after the bias.</param>
    /// <exception cref="ArgumentException">A span is too short or a stride too small.</exception>
    public static void Linear(ReadOnlySpan<float> x, int ldx, CpuPackedWeight weight, Span<float> y, int ldy, int m, Activation activation = Activation.None)
    {
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        int n = weight.Out, k = weight.In;
        long xNeed = m == 0 ? 0 : (long)(m - 1) * ldx + k, yNeed = m == 0 ? 0 : (long)(m - 1) * ldy + n;
        if (ldx < k || ldy < n || x.Length < xNeed || y.Length < yNeed)
        {
            throw new ArgumentException($"Linear: spans too short for m={m}, n={n}, k={k}, ldx={ldx}, ldy={ldy} (x {x.Length}, y {y.Length}).");
        }

        if (m == 0)
        {
            return;
        }

        int rowBlock = Math.Max(TileRows, RowBlockBytes / (k * sizeof(float)) / TileRows * TileRows);
        int rowBlocks = (m + rowBlock - 1) / rowBlock;

        // Enough tasks to balance the threads (about four each), each at least one panel and at most MaxPanelsPerTask.
        // Long runs of panels matter for big weights: a task prefetches each next panel of its own run (see Run), so
        // only the first panel of a task is read from memory without a prefetch ahead of it.
        int threads = CpuParallel.ThreadCount;
        int panelsPerTask = Math.Clamp(weight.Panels * rowBlocks / (4 * threads), 1, MaxPanelsPerTask);
        int panelGroups = (weight.Panels + panelsPerTask - 1) / panelsPerTask;
        fixed (float* px = x, py = y)
        {
            var job = new Job
            {
                X = px, Ldx = ldx, Y = py, Ldy = ldy, M = m, N = n, K = k,
                Panels = weight.PanelData, Bias = weight.BiasData, PanelCount = weight.Panels,
                RowBlock = rowBlock, PanelsPerTask = panelsPerTask, PanelGroups = panelGroups, Activation = activation,
                Prefetch = weight.Bytes > PrefetchAboveBytes,
            };
            int tasks = rowBlocks * panelGroups;
            if (tasks == 1 || (long)m * n * k < 65_536)
            {
                for (int t = 0; t < tasks; t++)
                {
                    job.Run(t);
                }
            }
            else
            {
                CpuParallel.For(tasks, &RunJob, &job);
            }
        }
    }

    private static void RunJob(int task, void* state) => ((Job*)state)->Run(task);

    private interface IRowCount
    {
        static abstract int Count { get; }
    }

    private interface IPrefetchMode
    {
        static abstract bool Enabled { get; }
    }

    private struct Prefetching : IPrefetchMode { public static bool Enabled => true; }

    private struct NotPrefetching : IPrefetchMode { public static bool Enabled => false; }

    private struct Rows1 : IRowCount { public static int Count => 1; }

    private struct Rows2 : IRowCount { public static int Count => 2; }

    private struct Rows3 : IRowCount { public static int Count => 3; }

    private struct Rows4 : IRowCount { public static int Count => 4; }

    private struct Rows5 : IRowCount { public static int Count => 5; }

    private struct Rows6 : IRowCount { public static int Count => 6; }

    private struct Rows7 : IRowCount { public static int Count => 7; }

    private struct Rows8 : IRowCount { public static int Count => 8; }

    private struct Job
    {
        public float* X;
        public int Ldx;
        public float* Y;
        public int Ldy;
        public int M;
        public int N;
        public int K;
        public float* Panels;
        public float* Bias;
        public int PanelCount;
        public int RowBlock;
        public int PanelsPerTask;
        public int PanelGroups;
        public Activation Activation;

        public bool Prefetch;

        public readonly void Run(int task)
        {
            if (Prefetch)
            {
                Run<Prefetching>(task);
            }
            else
            {
                Run<NotPrefetching>(task);
            }
        }

        private readonly void Run<TPrefetch>(int task)
            where TPrefetch : struct, IPrefetchMode
        {
            int rowBlock = task / PanelGroups, group = task % PanelGroups;
            int r0 = rowBlock * RowBlock, r1 = Math.Min(M, r0 + RowBlock);
            int p0 = group * PanelsPerTask, p1 = Math.Min(PanelCount, p0 + PanelsPerTask);
            long panelFloats = (long)CpuPackedWeight.PanelWidth * K;
            int tiles = (r1 - r0 + TileRows - 1) / TileRows;

            // The row tiles of a panel share the prefetch of the next one, so that a weight too big for the caches
            // streams from memory while the FMAs run instead of stalling the first tile of every panel: tile t asks
            // for its 1/tiles of the next panel, one prefetch per step of K (stride floats apart, at least a line
            // every step). The last panel of the task prefetches itself (already cached) rather than a panel that
            // another thread is likely to take. Prefetch instructions never fault, so the few addresses past the
            // panel that a tile with many rows may name are harmless.
            int stride = Math.Max(1, CpuPackedWeight.PanelWidth / tiles);
            for (int p = p0; p < p1; p++)
            {
                float* panel = Panels + p * panelFloats;
                float* next = p + 1 < p1 ? panel + panelFloats : panel;
                float* bias = Bias + p * CpuPackedWeight.PanelWidth;
                int col = p * CpuPackedWeight.PanelWidth;
                int cols = Math.Min(CpuPackedWeight.PanelWidth, N - col);
                for (int r = r0, t = 0; r < r1; r += TileRows, t++)
                {
                    float* x = X + (long)r * Ldx;
                    float* y = Y + (long)r * Ldy + col;
                    float* prefetch = next + Math.Min((long)t * stride * K, panelFloats - 1);
                    switch (Math.Min(TileRows, r1 - r))
                    {
                        case 8: Tile<Rows8, TPrefetch>(x, Ldx, panel, K, bias, y, Ldy, cols, Activation, prefetch, stride); break;
                        case 7: Tile<Rows7, TPrefetch>(x, Ldx, panel, K, bias, y, Ldy, cols, Activation, prefetch, stride); break;
                        case 6: Tile<Rows6, TPrefetch>(x, Ldx, panel, K, bias, y, Ldy, cols, Activation, prefetch, stride); break;
                        case 5: Tile<Rows5, TPrefetch>(x, Ldx, panel, K, bias, y, Ldy, cols, Activation, prefetch, stride); break;
                        case 4: Tile<Rows4, TPrefetch>(x, Ldx, panel, K, bias, y, Ldy, cols, Activation, prefetch, stride); break;
                        case 3: Tile<Rows3, TPrefetch>(x, Ldx, panel, K, bias, y, Ldy, cols, Activation, prefetch, stride); break;
                        case 2: Tile<Rows2, TPrefetch>(x, Ldx, panel, K, bias, y, Ldy, cols, Activation, prefetch, stride); break;
                        default: Tile<Rows1, TPrefetch>(x, Ldx, panel, K, bias, y, Ldy, cols, Activation, prefetch, stride); break;
                    }
                }
            }
        }
    }

    /// <summary>
    /// The register-blocked micro-kernel: <typeparamref name="TRows"/> rows of X (up to 8) times one panel of 32
    /// output features, over all of K. 16 Vector512 accumulators, two panel vectors and one broadcast stay in the 32
    /// zmm registers; each step is 16 independent FMAs against two aligned loads. Rows past <c>TRows.Count</c> are
    /// removed by the JIT, as the count is a constant of the instantiation.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TRows, TPrefetch>(float* x, long ldx, float* panel, int k, float* bias, float* y, long ldy, int cols, Activation activation, float* prefetch, int stride)
        where TRows : struct, IRowCount
        where TPrefetch : struct, IPrefetchMode
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        float* x0 = x, x1 = x0 + ldx, x2 = x1 + ldx, x3 = x2 + ldx, x4 = x3 + ldx, x5 = x4 + ldx, x6 = x5 + ldx, x7 = x6 + ldx;
        for (int i = 0; i < k; i++)
        {
            var b0 = Vector512.LoadAligned(panel);
            var b1 = Vector512.LoadAligned(panel + 16);
            panel += CpuPackedWeight.PanelWidth;
            if (TPrefetch.Enabled && Sse.IsSupported)
            {
                // Into L2: the next panel is larger than L1, and the current one is still being read from there.
                Sse.Prefetch1(prefetch);
                if (stride > 16)
                {
                    Sse.Prefetch1(prefetch + 16);
                }

                prefetch += stride;
            }

            var a0 = Vector512.Create(x0[i]);
            c00 = Vector512.FusedMultiplyAdd(a0, b0, c00);
            c01 = Vector512.FusedMultiplyAdd(a0, b1, c01);

            if (TRows.Count > 1)
            {
                var a = Vector512.Create(x1[i]);
                c10 = Vector512.FusedMultiplyAdd(a, b0, c10);
                c11 = Vector512.FusedMultiplyAdd(a, b1, c11);
            }

            if (TRows.Count > 2)
            {
                var a = Vector512.Create(x2[i]);
                c20 = Vector512.FusedMultiplyAdd(a, b0, c20);
                c21 = Vector512.FusedMultiplyAdd(a, b1, c21);
            }

            if (TRows.Count > 3)
            {
                var a = Vector512.Create(x3[i]);
                c30 = Vector512.FusedMultiplyAdd(a, b0, c30);
                c31 = Vector512.FusedMultiplyAdd(a, b1, c31);
            }

            if (TRows.Count > 4)
            {
                var a = Vector512.Create(x4[i]);
                c40 = Vector512.FusedMultiplyAdd(a, b0, c40);
                c41 = Vector512.FusedMultiplyAdd(a, b1, c41);
            }

            if (TRows.Count > 5)
            {
                var a = Vector512.Create(x5[i]);
                c50 = Vector512.FusedMultiplyAdd(a, b0, c50);
                c51 = Vector512.FusedMultiplyAdd(a, b1, c51);
            }

            if (TRows.Count > 6)
            {
                var a = Vector512.Create(x6[i]);
                c60 = Vector512.FusedMultiplyAdd(a, b0, c60);
                c61 = Vector512.FusedMultiplyAdd(a, b1, c61);
            }

            if (TRows.Count > 7)
            {
                var a = Vector512.Create(x7[i]);
                c70 = Vector512.FusedMultiplyAdd(a, b0, c70);
                c71 = Vector512.FusedMultiplyAdd(a, b1, c71);
            }
        }

        var bias0 = Vector512.LoadAligned(bias);
        var bias1 = Vector512.LoadAligned(bias + 16);
        bool full = cols == CpuPackedWeight.PanelWidth;
        float* tile = stackalloc float[8 * CpuPackedWeight.PanelWidth];
        float* out0 = full ? y : tile;
        float* out1 = full ? y + 1 * ldy : tile + 1 * CpuPackedWeight.PanelWidth;
        float* out2 = full ? y + 2 * ldy : tile + 2 * CpuPackedWeight.PanelWidth;
        float* out3 = full ? y + 3 * ldy : tile + 3 * CpuPackedWeight.PanelWidth;
        float* out4 = full ? y + 4 * ldy : tile + 4 * CpuPackedWeight.PanelWidth;
        float* out5 = full ? y + 5 * ldy : tile + 5 * CpuPackedWeight.PanelWidth;
        float* out6 = full ? y + 6 * ldy : tile + 6 * CpuPackedWeight.PanelWidth;
        float* out7 = full ? y + 7 * ldy : tile + 7 * CpuPackedWeight.PanelWidth;

        Vector512.Store(c00 + bias0, out0);
        Vector512.Store(c01 + bias1, out0 + 16);

        if (TRows.Count > 1)
        {
            Vector512.Store(c10 + bias0, out1);
            Vector512.Store(c11 + bias1, out1 + 16);
        }

        if (TRows.Count > 2)
        {
            Vector512.Store(c20 + bias0, out2);
            Vector512.Store(c21 + bias1, out2 + 16);
        }

        if (TRows.Count > 3)
        {
            Vector512.Store(c30 + bias0, out3);
            Vector512.Store(c31 + bias1, out3 + 16);
        }

        if (TRows.Count > 4)
        {
            Vector512.Store(c40 + bias0, out4);
            Vector512.Store(c41 + bias1, out4 + 16);
        }

        if (TRows.Count > 5)
        {
            Vector512.Store(c50 + bias0, out5);
            Vector512.Store(c51 + bias1, out5 + 16);
        }

        if (TRows.Count > 6)
        {
            Vector512.Store(c60 + bias0, out6);
            Vector512.Store(c61 + bias1, out6 + 16);
        }

        if (TRows.Count > 7)
        {
            Vector512.Store(c70 + bias0, out7);
            Vector512.Store(c71 + bias1, out7 + 16);
        }

        for (int r = 0; r < TRows.Count; r++)
        {
            float* row = y + r * ldy;
            if (!full)
            {
                new ReadOnlySpan<float>(tile + r * CpuPackedWeight.PanelWidth, cols).CopyTo(new Span<float>(row, cols));
            }

            if (activation != Activation.None)
            {
                CpuActivations.Apply(activation, new Span<float>(row, cols));
            }
        }
    }
}
