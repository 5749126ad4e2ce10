using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GpuTransformer.Kernels.Cpu;

/// <summary>The Vector512 (AVX-512) micro-kernel of <see cref="CpuPackedGemm"/>.</summary>
public static unsafe partial class CpuPackedGemm
{
    /// <summary>
    /// The register-blocked micro-kernel: <typeparamref name="TRows"/> rows of X (up to 12) times one panel of 32
    /// output features, over all of K. 24 Vector512 accumulators, two panel vectors and one broadcast take 27 of the
    /// 32 zmm registers; each step is 24 independent FMAs against two aligned loads and 12 broadcasts. Twelve rows
    /// rather than eight read each panel from L2 two thirds as often for the same FMAs, which is what a large M is
    /// bound by when another thread shares the core's L2. Rows past <c>TRows.Count</c> are removed by the JIT, as the
    /// count is a constant of the instantiation.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PanelTile<TRows, TPrefetch>(float* x, long ldx, float* panel, int k, float* bias, float* y, long ldy, int cols, Activation activation, float* prefetch, int stride)
        where TRows : struct, IRowCount
        where TPrefetch : struct, IPrefetchMode
    {
        var tile = default(Tile512);
        PrefetchOutput(y, ldy, TRows.Count);

        // Three moving pointers (rows 0-3, 4-7 and 8-11) with the strides ldx, 2·ldx and 3·ldx address all twelve rows.
        // A pointer per row and an index did not fit next to the loop's other registers: the JIT reloaded some of them
        // from the stack at every step of K (measured 2-7 % slower at M >= 32 and up to 1.6x slower at M <= 4, where
        // the loads are the bottleneck).
        float* lo = x, hi = x + (4 * ldx), top = x + (8 * ldx);
        long ldx2 = 2 * ldx, ldx3 = 3 * ldx, advance = stride;
        float* end = panel + ((long)k * CpuPackedWeight.PanelWidth);

        // Two steps of K per iteration, so that the loop's own instructions (pointer updates, compare and branch, the
        // prefetch address) are spread over 48 FMAs instead of 24. In the A/B harness (interleaved blocks of calls,
        // two runs) this measured faster by the mean at 18 of 19 shape pairs, M = 1-1024 (0.5-3.5 %, one 11 %; one
        // level), and about 1 % by the median; the fastest calls at M = 1024 reach 336-342 GFLOP/s, 97-99 % of the
        // FMA peak.
        for (float* pairsEnd = panel + ((long)(k & ~1) * CpuPackedWeight.PanelWidth); panel < pairsEnd; panel += 2 * CpuPackedWeight.PanelWidth, lo += 2, hi += 2, top += 2)
        {
            tile.Step<TRows>(panel, lo, hi, top, ldx, ldx2, ldx3, 0);
            tile.Step<TRows>(panel, lo, hi, top, ldx, ldx2, ldx3, 1);
            if (TPrefetch.Enabled && Sse.IsSupported)
            {
                // Into L2: the next panel is larger than L1, and the current one is still being read from there. One
                // prefetch per step of K (two when a single tile shares the panel).
                Sse.Prefetch1(prefetch);
                Sse.Prefetch1(prefetch + advance);
                if (stride > 16)
                {
                    Sse.Prefetch1(prefetch + 16);
                    Sse.Prefetch1(prefetch + advance + 16);
                }

                prefetch += 2 * advance;
            }
        }

        if (panel < end)
        {
            tile.Step<TRows>(panel, lo, hi, top, ldx, ldx2, ldx3, 0);
        }

        // A narrow last panel stores to the stack tile, and FinishTile copies its columns out.
        bool full = cols == CpuPackedWeight.PanelWidth;
        float* scratch = stackalloc float[TileRows * CpuPackedWeight.PanelWidth];
        tile.Store<TRows>(full ? y : scratch, full ? ldy : CpuPackedWeight.PanelWidth, bias);
        FinishTile(TRows.Count, y, ldy, full ? null : scratch, CpuPackedWeight.PanelWidth, cols, activation);
    }

    // The accumulators of a Vector512 tile, row r's two halves in Cr0 and Cr1. Step and Store are inlined into
    // PanelTile, where the JIT promotes the struct and keeps all 24 in zmm registers (checked with DOTNET_JitDisasm:
    // the K loop is loads, broadcasts and FMAs on zmm0-26 with constant offsets for the second step), so one copy of
    // the step serves the loop's two unrolled steps and the odd last one.
    private struct Tile512
    {
        public Vector512<float> C00, C01, C10, C11, C20, C21, C30, C31, C40, C41, C50, C51, C60, C61, C70, C71, C80, C81, C90, C91, C100, C101, C110, C111;

        // One step of K at X's column `step` from lo, hi and top and the panel's row `step` (0 or 1, a constant at
        // each call, so that the JIT folds it into the addresses).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Step<TRows>(float* panel, float* lo, float* hi, float* top, long ldx, long ldx2, long ldx3, int step)
            where TRows : struct, IRowCount
        {
            var b0 = Vector512.LoadAligned(panel + (step * CpuPackedWeight.PanelWidth));
            var b1 = Vector512.LoadAligned(panel + (step * CpuPackedWeight.PanelWidth) + 16);
            Row(ref C00, ref C01, lo[step], b0, b1);
            if (TRows.Count > 1)
            {
                Row(ref C10, ref C11, (lo + step)[ldx], b0, b1);
            }

            if (TRows.Count > 2)
            {
                Row(ref C20, ref C21, (lo + step)[ldx2], b0, b1);
            }

            if (TRows.Count > 3)
            {
                Row(ref C30, ref C31, (lo + step)[ldx3], b0, b1);
            }

            if (TRows.Count > 4)
            {
                Row(ref C40, ref C41, hi[step], b0, b1);
            }

            if (TRows.Count > 5)
            {
                Row(ref C50, ref C51, (hi + step)[ldx], b0, b1);
            }

            if (TRows.Count > 6)
            {
                Row(ref C60, ref C61, (hi + step)[ldx2], b0, b1);
            }

            if (TRows.Count > 7)
            {
                Row(ref C70, ref C71, (hi + step)[ldx3], b0, b1);
            }

            if (TRows.Count > 8)
            {
                Row(ref C80, ref C81, top[step], b0, b1);
            }

            if (TRows.Count > 9)
            {
                Row(ref C90, ref C91, (top + step)[ldx], b0, b1);
            }

            if (TRows.Count > 10)
            {
                Row(ref C100, ref C101, (top + step)[ldx2], b0, b1);
            }

            if (TRows.Count > 11)
            {
                Row(ref C110, ref C111, (top + step)[ldx3], b0, b1);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Store<TRows>(float* y, long ldy, float* bias)
            where TRows : struct, IRowCount
        {
            var bias0 = Vector512.LoadAligned(bias);
            var bias1 = Vector512.LoadAligned(bias + 16);
            Vector512.Store(C00 + bias0, y);
            Vector512.Store(C01 + bias1, y + 16);

            if (TRows.Count > 1)
            {
                Vector512.Store(C10 + bias0, y + (1 * ldy));
                Vector512.Store(C11 + bias1, y + (1 * ldy) + 16);
            }

            if (TRows.Count > 2)
            {
                Vector512.Store(C20 + bias0, y + (2 * ldy));
                Vector512.Store(C21 + bias1, y + (2 * ldy) + 16);
            }

            if (TRows.Count > 3)
            {
                Vector512.Store(C30 + bias0, y + (3 * ldy));
                Vector512.Store(C31 + bias1, y + (3 * ldy) + 16);
            }

            if (TRows.Count > 4)
            {
                Vector512.Store(C40 + bias0, y + (4 * ldy));
                Vector512.Store(C41 + bias1, y + (4 * ldy) + 16);
            }

            if (TRows.Count > 5)
            {
                Vector512.Store(C50 + bias0, y + (5 * ldy));
                Vector512.Store(C51 + bias1, y + (5 * ldy) + 16);
            }

            if (TRows.Count > 6)
            {
                Vector512.Store(C60 + bias0, y + (6 * ldy));
                Vector512.Store(C61 + bias1, y + (6 * ldy) + 16);
            }

            if (TRows.Count > 7)
            {
                Vector512.Store(C70 + bias0, y + (7 * ldy));
                Vector512.Store(C71 + bias1, y + (7 * ldy) + 16);
            }

            if (TRows.Count > 8)
            {
                Vector512.Store(C80 + bias0, y + (8 * ldy));
                Vector512.Store(C81 + bias1, y + (8 * ldy) + 16);
            }

            if (TRows.Count > 9)
            {
                Vector512.Store(C90 + bias0, y + (9 * ldy));
                Vector512.Store(C91 + bias1, y + (9 * ldy) + 16);
            }

            if (TRows.Count > 10)
            {
                Vector512.Store(C100 + bias0, y + (10 * ldy));
                Vector512.Store(C101 + bias1, y + (10 * ldy) + 16);
            }

            if (TRows.Count > 11)
            {
                Vector512.Store(C110 + bias0, y + (11 * ldy));
                Vector512.Store(C111 + bias1, y + (11 * ldy) + 16);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Row(ref Vector512<float> c0, ref Vector512<float> c1, float x, Vector512<float> b0, Vector512<float> b1)
        {
            var a = Vector512.Create(x);
            c0 = Vector512.FusedMultiplyAdd(a, b0, c0);
            c1 = Vector512.FusedMultiplyAdd(a, b1, c1);
        }
    }

    // Asks for the lines a Vector512 tile will store (rows of a panel's 32 floats, which span two or three lines)
    // before its loop over K, so that they arrive while the FMAs run instead of stalling the stores at the end. A Y
    // larger than the caches (the output projection: 128 rows × 58101 words is 30 MB) otherwise misses on every tile's
    // stores. In the A/B harness (interleaved blocks of calls, five runs on a shared host) this measured 4-11 % faster
    // by the median at M = 128 and -2 to +13 % at M = 1024 against the output projection, and no different at the other
    // shapes, M = 1-1024. The lines go to L2, not L1: with K = 512 or more the tile's panel (64 KiB and up) streams
    // through L1 and would evict them before the stores (L2 rather than L1 measured faster by the 10th percentile at 11
    // of 12 shape pairs, M = 32-1024, two runs, by 0.2-1.2 %, and by the mean at 11 of 12, up to 2.6 %). The Vector256
    // kernel measured no different at those shapes, and does without. Prefetch instructions never fault, so lines past
    // a narrow last panel or past Y are harmless.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchOutput(float* y, long ldy, int rows)
    {
        if (!Sse.IsSupported)
        {
            return;
        }

        for (int r = 0; r < rows; r++)
        {
            float* row = y + (r * ldy);
            Sse.Prefetch1(row);
            Sse.Prefetch1(row + 16);
            Sse.Prefetch1(row + CpuPackedWeight.PanelWidth - 1);
        }
    }
}
