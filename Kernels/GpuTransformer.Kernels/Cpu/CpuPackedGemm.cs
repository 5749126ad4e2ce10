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
/// applied as each tile leaves the registers. (Blocks of K = 256 or 384 with a panel slice in L1, partial sums in Y
/// and row blocks sized to the slice, BLIS's KC, measured 1-15 % slower at every shape with M >= 32 on a Xeon with a
/// 48 KiB L1 and a 2 MiB L2: the panel streams from L2 fast enough, see docs/benchmarks.md.) No allocation per call.
/// The micro-kernel is up to 12 rows × 32 columns of Vector512 where the processor has AVX-512
/// (CpuPackedGemm.Vector512.cs) and up to 6 rows × 16 columns of Vector256 with FMA otherwise
/// (CpuPackedGemm.Vector256.cs), each on panels laid out for it (see <see cref="CpuPackedWeight"/>).
/// </summary>
[SkipLocalsInit]
public static unsafe partial class CpuPackedGemm
{
    // Rows of X per micro-kernel call at most: 12 × 2 Vector512 or 6 × 2 Vector256 accumulators.
    private const int TileRows = 12;
    private const int TileRows256 = 6;

    // Features per half panel, the Vector256 kernel's tile width.
    private const int HalfWidth = CpuPackedWeight.PanelWidth / 2;

    // Bytes of X rows a task keeps in L2 next to its panel. The more rows, the more often each panel read from L3 is
    // used: with K = 2048 and N = 512 (16 panels), 512 KiB (64 rows) instead of 256 KiB measured 4-7 % faster at
    // M >= 64 on a 2 MiB L2, and no different at K = 512. Processors with AVX-512 have at least 1 MiB of L2 per core;
    // some with only AVX2 have 512 KiB, so the Vector256 kernel keeps 256 KiB.
    private const int RowBlockBytes512 = 512 * 1024;
    private const int RowBlockBytes256 = 256 * 1024;

    // Panels per task at most (32 panels = 1024 output features).
    private const int MaxPanelsPerTask = 32;

    // Floating-point operations per prefetching task at most, about 0.2 ms on one AVX-512 core. A thread holds the
    // task it claimed ahead (see RunClaimedTasks) even when the others have run out of work, so a thread delayed by
    // other work on the machine can cost the call up to two of its tasks. Sized by panels alone, the encoder's
    // M = 1024, K = 512, N = 2048 was 8 tasks of 1.6 ms for 2 threads. With this cap, and a process busy 1 ms in
    // every 5 beside it, that shape measured 8-10 % faster by the median and the mean (K = 2048, N = 512: 2-7 %); on
    // an idle machine, level to 2 % slower by the median. Finer tasks for every shape instead (16 a thread rather
    // than 4) cost decoding shapes (M = 4-32) 3-5 %.
    private const double MaxTaskFlops = 32 << 20;

    // Which weights are prefetched into L2 a panel ahead. In a decoding step every weight comes from L3 or memory (a
    // step reads all layers' weights, far more than L2), and with rows enough for two or more micro-kernel calls per
    // panel the prefetch measured 6-57 % faster (M = 4-1024, weights of 1-4 MiB cycled through 384 MiB, and 3-12 %
    // even when the same weight stays in the caches between calls, M >= 16). With one or two rows the kernel is bound
    // by its loads, and the prefetch instructions' load slots cost 6-10 % unless the weight comes from memory: only
    // weights too big for L3 to hold for long (the 58101-word output projection, 119 MB: 1.3-1.8x at M = 4-16) are
    // prefetched there. Weights below 512 KiB (small models) stay in L2 between calls and are never prefetched.
    private const long PrefetchAboveBytes = 8L << 20;
    private const long PrefetchManyRowsAboveBytes = 512L << 10;
    private const int PrefetchManyRowsFrom = 3;

    /// <summary>Computes <c>Y = act(X · Wᵀ + bias)</c> with rows of X and Y <paramref name="ldx"/> and <paramref name="ldy"/> elements apart.</summary>
    /// <param name="x">Input rows of <see cref="CpuPackedWeight.In"/>.</param>
    /// <param name="ldx">Elements between consecutive rows of X.</param>
    /// <param name="weight">The packed weight and bias.</param>
    /// <param name="y">Output rows of <see cref="CpuPackedWeight.Out"/>; elements between rows are left alone.</param>
    /// <param name="ldy">Elements between consecutive rows of Y.</param>
    /// <param name="m">Rows.</param>
    /// <param name="activation">Applied after the bias.</param>
    /// <exception cref="ArgumentException">A span is too short or a stride too small.</exception>
    public static void Linear(ReadOnlySpan<float> x, int ldx, CpuPackedWeight weight, Span<float> y, int ldy, int m, Activation activation = Activation.None) =>
        Linear(x, ldx, weight, y, ldy, m, activation, CpuSimdWidth.Best);

    /// <summary>As <see cref="Linear(ReadOnlySpan{float}, int, CpuPackedWeight, Span{float}, int, int, Activation)"/>, with the micro-kernel named by the caller (benchmarks and tests of the narrower kernel): it must be the one the weight was packed for.</summary>
    /// <param name="x">Input rows of <see cref="CpuPackedWeight.In"/>.</param>
    /// <param name="ldx">Elements between consecutive rows of X.</param>
    /// <param name="weight">The packed weight and bias.</param>
    /// <param name="y">Output rows of <see cref="CpuPackedWeight.Out"/>; elements between rows are left alone.</param>
    /// <param name="ldy">Elements between consecutive rows of Y.</param>
    /// <param name="m">Rows.</param>
    /// <param name="activation">Applied after the bias.</param>
    /// <param name="width">The micro-kernel: <see cref="CpuSimdWidth.Best"/> is the one of <see cref="CpuPackedWeight.Kernel"/>.</param>
    /// <exception cref="ArgumentException">A span is too short, a stride too small, or the weight is packed for another kernel.</exception>
    /// <exception cref="PlatformNotSupportedException">The processor lacks the instructions of the weight's kernel.</exception>
    public static void Linear(ReadOnlySpan<float> x, int ldx, CpuPackedWeight weight, Span<float> y, int ldy, int m, Activation activation, CpuSimdWidth width)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (width is not (CpuSimdWidth.Best or CpuSimdWidth.Vector512 or CpuSimdWidth.Vector256))
        {
            throw new ArgumentOutOfRangeException(nameof(width), width, "unknown SIMD width");
        }

        // Each kernel reads only the panels laid out for it (see CpuPackedWeight).
        if (width != CpuSimdWidth.Best && width != weight.Kernel)
        {
            throw new ArgumentException($"Linear: the weight is packed for the {weight.Kernel} kernel, not {width}; pack it with CpuPackedWeight.Create(..., CpuSimdWidth.{width}).", nameof(width));
        }

        bool wide = weight.Kernel == CpuSimdWidth.Vector512;
        if (wide ? !CpuPackedWeight.HasVector512 : !CpuPackedWeight.HasVector256)
        {
            throw new PlatformNotSupportedException($"Linear: this processor has no {weight.Kernel} floating-point FMA kernel; see CpuPackedWeight.IsSupported.");
        }

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

        int tileRows = wide ? TileRows : TileRows256;
        // Both kernels split a block's rows evenly over their tiles (see Run), so blocks need not be whole tiles: as
        // few blocks as fit the budget, of even size. A weight that comes from L3 or memory is read once per block, so
        // 1024 rows at K = 512 are 4 blocks of 256 rows, not 5 of 252 (whole 12-row tiles) or less.
        int rowBlock = Math.Max(tileRows, (wide ? RowBlockBytes512 : RowBlockBytes256) / (k * sizeof(float)));
        int rowBlocks = (m + rowBlock - 1) / rowBlock;
        rowBlock = (m + rowBlocks - 1) / rowBlocks;

        // Enough tasks to balance the threads (about four each), each at least one panel. A weight that is prefetched
        // gets long runs of panels (up to MaxPanelsPerTask and MaxTaskFlops): a task prefetches each next panel of its
        // own run and then the first panel of the thread's next task (see RunClaimedTasks), so only each thread's first
        // panel comes from memory without a prefetch ahead of it. A cached weight gets short tasks, more panels only
        // when rows are few, so that a thread held up by other work on a shared machine leaves little for the others
        // to wait on.
        int threads = CpuParallel.ThreadCount;
        bool prefetch = weight.Bytes > PrefetchAboveBytes || (m >= PrefetchManyRowsFrom && weight.Bytes > PrefetchManyRowsAboveBytes);
        double panelFlops = 2.0 * Math.Min(m, rowBlock) * CpuPackedWeight.PanelWidth * k;
        int panelsPerTask = prefetch
            ? Math.Clamp(weight.Panels * rowBlocks / (4 * threads), 1, Math.Clamp((int)(MaxTaskFlops / panelFlops), 1, MaxPanelsPerTask))
            : Math.Max(1, Math.Min(weight.Panels * rowBlocks / (4 * threads), 64 / Math.Min(m, rowBlock)));

        // FirstPanel splits the panels over the groups as evenly as the count allows (16 panels in 6 groups as 2-3
        // panels each, not five of 3 and one of 1).
        int panelGroups = (weight.Panels + panelsPerTask - 1) / panelsPerTask;
        fixed (float* px = x, py = y)
        {
            var job = new Job
            {
                X = px, Ldx = ldx, Y = py, Ldy = ldy, M = m, N = n, K = k,
                Panels = weight.PanelData, Bias = weight.BiasData, PanelCount = weight.Panels,
                RowBlock = rowBlock, PanelGroups = panelGroups, Activation = activation,
                Prefetch = prefetch, Wide = wide, Tasks = rowBlocks * panelGroups,
            };
            if (job.Tasks == 1 || (long)m * n * k < 65_536)
            {
                job.RunClaimedTasks();
            }
            else
            {
                CpuParallel.For(Math.Min(threads, job.Tasks), &RunJob, &job);
            }
        }
    }

    private static void RunJob(int worker, void* state) => ((Job*)state)->RunClaimedTasks();

    // The start of the AVX2 micro-kernels (float and int8): each of the tile's output rows, 16 floats that may straddle
    // two lines (rows are ldy floats apart), is fetched before the loop over K, so that the stores at the tile's end
    // find their lines in the cache. An output too big for the caches (the output projection's 58101 logits a row:
    // 30 MB at M = 128) otherwise made every tile wait for its lines to come from memory: in the interleaved A/B on the
    // AMD EPYC host, 10-13 % faster by the mean against the output projection at M = 32, 128 and 1024 (int8: 8-12 %),
    // and level when Y stays cached.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void PrefetchTileOutput(int rows, float* y, long ldy)
    {
        if (Sse.IsSupported)
        {
            for (int r = 0; r < rows; r++)
            {
                Sse.Prefetch0(y + (r * ldy));
                Sse.Prefetch0(y + (r * ldy) + HalfWidth - 1);
            }
        }
    }

    // The end of every CPU GEMM micro-kernel (float and int8), once the biased sums are stored: a narrow last panel's
    // rows were stored to the stack tile (rows tileStride floats apart) and are copied out, then the activation runs
    // over each row's columns.
    internal static void FinishTile(int rows, float* y, long ldy, float* tile, int tileStride, int cols, Activation activation)
    {
        for (int r = 0; r < rows; r++)
        {
            float* row = y + r * ldy;
            if (tile != null)
            {
                new ReadOnlySpan<float>(tile + r * tileStride, cols).CopyTo(new Span<float>(row, cols));
            }

            if (activation != Activation.None)
            {
                CpuActivations.Apply(activation, new Span<float>(row, cols));
            }
        }
    }

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

    private struct Rows9 : IRowCount { public static int Count => 9; }

    private struct Rows10 : IRowCount { public static int Count => 10; }

    private struct Rows11 : IRowCount { public static int Count => 11; }

    private struct Rows12 : IRowCount { public static int Count => 12; }

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
        public int PanelGroups;
        public Activation Activation;

        public bool Prefetch;
        public bool Wide;

        public int Tasks;

        // The first task nobody has claimed yet; threads take tasks with Interlocked.Increment.
        private int firstUnclaimed;

        // One thread's share of the job: tasks claimed one ahead, so that the last panel of a task can prefetch the
        // first panel of the task this thread runs next. Claimed only as it starts (CpuParallel hands out indices
        // in turn), a task's first panel came from memory without a prefetch ahead of it: with weights coming from
        // memory and tasks of two panels (M = 32, K = 2048, N = 512), half the panels. Claiming ahead measured 7-24 %
        // faster on decoding shapes with the weights coming from memory (M = 32 K = 2048 N = 512 +24 %) and 1-7 %
        // with the same weight every call. Holding one claimed task ahead leaves the balance between threads as it
        // was, up to that one task; one task per thread instead (no balancing at all) gained as much from memory but
        // lost 2-3 % by the mean with the weight cached, when another job held a core.
        public void RunClaimedTasks()
        {
            int task = Interlocked.Increment(ref firstUnclaimed) - 1;
            while (task < Tasks)
            {
                int next = Interlocked.Increment(ref firstUnclaimed) - 1;
                if (Prefetch)
                {
                    Run<Prefetching>(task, next);
                }
                else
                {
                    Run<NotPrefetching>(task, next);
                }

                task = next;
            }
        }

        private readonly void Run<TPrefetch>(int task, int nextTask)
            where TPrefetch : struct, IPrefetchMode
        {
            int rowBlock = task / PanelGroups, group = task % PanelGroups;
            int r0 = rowBlock * RowBlock, r1 = Math.Min(M, r0 + RowBlock);
            int p0 = FirstPanel(group), p1 = FirstPanel(group + 1);
            long panelFloats = (long)CpuPackedWeight.PanelWidth * K;

            // Micro-kernel calls that share one prefetch target: the row tiles on a panel (Vector512 kernel) or on a
            // half panel (Vector256 kernel).
            int tiles = Wide ? (r1 - r0 + TileRows - 1) / TileRows : (r1 - r0 + TileRows256 - 1) / TileRows256;

            // The calls share the prefetch of what is read next, so that a weight too big for the caches streams
            // from memory while the FMAs run instead of stalling the first tile of every panel: call t asks for its
            // share of the target, stride floats of each step's 32 (16 for a half panel), one prefetch per step of K.
            // The stride is rounded up so that the shares cover the target (22 tiles at 32 / 22 = 1 float left a third
            // of it unfetched: 4 % slower at M = 1024 against the output projection). The last panel of the task
            // prefetches the first panel of the next task this thread runs, or itself (already cached) when there is
            // none. Prefetch instructions never fault, so the few addresses past the target that a tile with many
            // rows may name are harmless.
            int stride = ((Wide ? CpuPackedWeight.PanelWidth : HalfWidth) + tiles - 1) / tiles;
            float* after = nextTask < Tasks ? Panels + (FirstPanel(nextTask % PanelGroups) * panelFloats) : null;
            for (int p = p0; p < p1; p++)
            {
                float* panel = Panels + p * panelFloats;
                float* next = p + 1 < p1 ? panel + panelFloats : after != null ? after : panel;
                float* bias = Bias + p * CpuPackedWeight.PanelWidth;
                int col = p * CpuPackedWeight.PanelWidth;
                int cols = Math.Min(CpuPackedWeight.PanelWidth, N - col);
                if (Wide)
                {
                    // The block's rows split evenly over its tiles (16 rows as 8 + 8, not 12 + 4): a tile of few rows
                    // reads the panel for as few FMAs.
                    for (int r = r0, t = 0; t < tiles; t++)
                    {
                        int rows = ((r1 - r0) * (t + 1) / tiles) - (r - r0);
                        float* prefetch = next + Math.Min((long)t * stride * K, panelFloats - 1);
                        RunPanelTile<TPrefetch>(rows, X + (long)r * Ldx, panel, bias, Y + (long)r * Ldy + col, cols, prefetch, stride);
                        r += rows;
                    }

                    continue;
                }

                // Here too the block's rows split evenly over the tiles (32 rows as 6 + 6 + 5 + 5 + 5 + 5, not five
                // tiles of 6 and one of 2, whose four accumulators cannot cover the FMA latency): in the interleaved
                // A/B on the AMD EPYC host, 1-2 % faster by the mean at M = 32 and up to 8 % against the output
                // projection at M = 128, level at M = 1024.
                //
                // The two halves of the panel are stored one after the other, 16 · K floats each. Each half's calls
                // share the prefetch of the half panel read after it, the panel's own second half or the next
                // panel's first, rather than of the whole next panel: together with the layout this keeps a row
                // block of X, the half panel and the next one within a 512 KiB L2 at K = 2048 (in the interleaved
                // A/B on the AMD EPYC host, 7-9 % faster by the mean at K = 2048, M = 32-1024, and 10-34 % at
                // M = 4; see docs/benchmarks.md).
                long halfFloats = (long)HalfWidth * K;
                for (int half = 0; half < cols; half += HalfWidth)
                {
                    float* halfPanel = panel + (half == 0 ? 0 : halfFloats);
                    float* readNext = half == 0 ? panel + halfFloats : next;
                    for (int r = r0, t = 0; t < tiles; t++)
                    {
                        int rows = ((r1 - r0) * (t + 1) / tiles) - (r - r0);
                        float* prefetch = readNext + Math.Min((long)t * stride * K, halfFloats - 1);
                        RunHalfPanelTile<TPrefetch>(rows, X + (long)r * Ldx, halfPanel, bias + half, Y + (long)r * Ldy + col + half, Math.Min(HalfWidth, cols - half), prefetch, stride);
                        r += rows;
                    }
                }
            }
        }

        private readonly int FirstPanel(int group) => (int)((long)group * PanelCount / PanelGroups);

        private readonly void RunPanelTile<TPrefetch>(int rows, float* x, float* panel, float* bias, float* y, int cols, float* prefetch, int stride)
            where TPrefetch : struct, IPrefetchMode
        {
            switch (rows)
            {
                case 12: PanelTile<Rows12, TPrefetch>(x, Ldx, panel, K, bias, y, Ldy, cols, Activation, prefetch, stride); break;
                case 11: PanelTile<Rows11, TPrefetch>(x, Ldx, panel, K, bias, y, Ldy, cols, Activation, prefetch, stride); break;
                case 10: PanelTile<Rows10, TPrefetch>(x, Ldx, panel, K, bias, y, Ldy, cols, Activation, prefetch, stride); break;
                case 9: PanelTile<Rows9, TPrefetch>(x, Ldx, panel, K, bias, y, Ldy, cols, Activation, prefetch, stride); break;
                case 8: PanelTile<Rows8, TPrefetch>(x, Ldx, panel, K, bias, y, Ldy, cols, Activation, prefetch, stride); break;
                case 7: PanelTile<Rows7, TPrefetch>(x, Ldx, panel, K, bias, y, Ldy, cols, Activation, prefetch, stride); break;
                case 6: PanelTile<Rows6, TPrefetch>(x, Ldx, panel, K, bias, y, Ldy, cols, Activation, prefetch, stride); break;
                case 5: PanelTile<Rows5, TPrefetch>(x, Ldx, panel, K, bias, y, Ldy, cols, Activation, prefetch, stride); break;
                case 4: PanelTile<Rows4, TPrefetch>(x, Ldx, panel, K, bias, y, Ldy, cols, Activation, prefetch, stride); break;
                case 3: PanelTile<Rows3, TPrefetch>(x, Ldx, panel, K, bias, y, Ldy, cols, Activation, prefetch, stride); break;
                case 2: PanelTile<Rows2, TPrefetch>(x, Ldx, panel, K, bias, y, Ldy, cols, Activation, prefetch, stride); break;
                default: PanelTile<Rows1, TPrefetch>(x, Ldx, panel, K, bias, y, Ldy, cols, Activation, prefetch, stride); break;
            }
        }

        private readonly void RunHalfPanelTile<TPrefetch>(int rows, float* x, float* halfPanel, float* bias, float* y, int cols, float* prefetch, int stride)
            where TPrefetch : struct, IPrefetchMode
        {
            switch (rows)
            {
                case 6: HalfPanelTile<Rows6, TPrefetch>(x, Ldx, halfPanel, K, bias, y, Ldy, cols, Activation, prefetch, stride); break;
                case 5: HalfPanelTile<Rows5, TPrefetch>(x, Ldx, halfPanel, K, bias, y, Ldy, cols, Activation, prefetch, stride); break;
                case 4: HalfPanelTile<Rows4, TPrefetch>(x, Ldx, halfPanel, K, bias, y, Ldy, cols, Activation, prefetch, stride); break;
                case 3: HalfPanelTile<Rows3, TPrefetch>(x, Ldx, halfPanel, K, bias, y, Ldy, cols, Activation, prefetch, stride); break;
                case 2: HalfPanelTile<Rows2, TPrefetch>(x, Ldx, halfPanel, K, bias, y, Ldy, cols, Activation, prefetch, stride); break;
                default: HalfPanelTile<Rows1, TPrefetch>(x, Ldx, halfPanel, K, bias, y, Ldy, cols, Activation, prefetch, stride); break;
            }
        }
    }
}
