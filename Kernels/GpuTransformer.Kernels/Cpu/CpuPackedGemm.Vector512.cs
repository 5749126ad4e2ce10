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
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default, c80 = default, c81 = default, c90 = default, c91 = default, c100 = default, c101 = default, c110 = default, c111 = default;

        PrefetchOutput(y, ldy, TRows.Count);

        // Three moving pointers (rows 0-3, 4-7 and 8-11) with the strides ldx, 2·ldx and 3·ldx address all twelve rows.
        // A pointer per row and an index did not fit next to the loop's other registers: the JIT reloaded some of them
        // from the stack at every step of K (measured 2-7 % slower at M >= 32 and up to 1.6x slower at M <= 4, where
        // the loads are the bottleneck).
        float* lo = x, hi = x + (4 * ldx), top = x + (8 * ldx);
        long ldx2 = 2 * ldx, ldx3 = 3 * ldx;
        for (float* end = panel + ((long)k * CpuPackedWeight.PanelWidth); panel < end; lo++, hi++, top++)
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

            var a0 = Vector512.Create(*lo);
            c00 = Vector512.FusedMultiplyAdd(a0, b0, c00);
            c01 = Vector512.FusedMultiplyAdd(a0, b1, c01);

            if (TRows.Count > 1)
            {
                var a = Vector512.Create(lo[ldx]);
                c10 = Vector512.FusedMultiplyAdd(a, b0, c10);
                c11 = Vector512.FusedMultiplyAdd(a, b1, c11);
            }

            if (TRows.Count > 2)
            {
                var a = Vector512.Create(lo[ldx2]);
                c20 = Vector512.FusedMultiplyAdd(a, b0, c20);
                c21 = Vector512.FusedMultiplyAdd(a, b1, c21);
            }

            if (TRows.Count > 3)
            {
                var a = Vector512.Create(lo[ldx3]);
                c30 = Vector512.FusedMultiplyAdd(a, b0, c30);
                c31 = Vector512.FusedMultiplyAdd(a, b1, c31);
            }

            if (TRows.Count > 4)
            {
                var a = Vector512.Create(*hi);
                c40 = Vector512.FusedMultiplyAdd(a, b0, c40);
                c41 = Vector512.FusedMultiplyAdd(a, b1, c41);
            }

            if (TRows.Count > 5)
            {
                var a = Vector512.Create(hi[ldx]);
                c50 = Vector512.FusedMultiplyAdd(a, b0, c50);
                c51 = Vector512.FusedMultiplyAdd(a, b1, c51);
            }

            if (TRows.Count > 6)
            {
                var a = Vector512.Create(hi[ldx2]);
                c60 = Vector512.FusedMultiplyAdd(a, b0, c60);
                c61 = Vector512.FusedMultiplyAdd(a, b1, c61);
            }

            if (TRows.Count > 7)
            {
                var a = Vector512.Create(hi[ldx3]);
                c70 = Vector512.FusedMultiplyAdd(a, b0, c70);
                c71 = Vector512.FusedMultiplyAdd(a, b1, c71);
            }

            if (TRows.Count > 8)
            {
                var a = Vector512.Create(*top);
                c80 = Vector512.FusedMultiplyAdd(a, b0, c80);
                c81 = Vector512.FusedMultiplyAdd(a, b1, c81);
            }

            if (TRows.Count > 9)
            {
                var a = Vector512.Create(top[ldx]);
                c90 = Vector512.FusedMultiplyAdd(a, b0, c90);
                c91 = Vector512.FusedMultiplyAdd(a, b1, c91);
            }

            if (TRows.Count > 10)
            {
                var a = Vector512.Create(top[ldx2]);
                c100 = Vector512.FusedMultiplyAdd(a, b0, c100);
                c101 = Vector512.FusedMultiplyAdd(a, b1, c101);
            }

            if (TRows.Count > 11)
            {
                var a = Vector512.Create(top[ldx3]);
                c110 = Vector512.FusedMultiplyAdd(a, b0, c110);
                c111 = Vector512.FusedMultiplyAdd(a, b1, c111);
            }
        }

        var bias0 = Vector512.LoadAligned(bias);
        var bias1 = Vector512.LoadAligned(bias + 16);

        // A narrow last panel stores to the stack tile, and FinishTile copies its columns out.
        bool full = cols == CpuPackedWeight.PanelWidth;
        float* tile = stackalloc float[TileRows * CpuPackedWeight.PanelWidth];
        float* out0 = full ? y : tile;
        long step = full ? ldy : CpuPackedWeight.PanelWidth;
        Vector512.Store(c00 + bias0, out0);
        Vector512.Store(c01 + bias1, out0 + 16);

        if (TRows.Count > 1)
        {
            Vector512.Store(c10 + bias0, out0 + (1 * step));
            Vector512.Store(c11 + bias1, out0 + (1 * step) + 16);
        }

        if (TRows.Count > 2)
        {
            Vector512.Store(c20 + bias0, out0 + (2 * step));
            Vector512.Store(c21 + bias1, out0 + (2 * step) + 16);
        }

        if (TRows.Count > 3)
        {
            Vector512.Store(c30 + bias0, out0 + (3 * step));
            Vector512.Store(c31 + bias1, out0 + (3 * step) + 16);
        }

        if (TRows.Count > 4)
        {
            Vector512.Store(c40 + bias0, out0 + (4 * step));
            Vector512.Store(c41 + bias1, out0 + (4 * step) + 16);
        }

        if (TRows.Count > 5)
        {
            Vector512.Store(c50 + bias0, out0 + (5 * step));
            Vector512.Store(c51 + bias1, out0 + (5 * step) + 16);
        }

        if (TRows.Count > 6)
        {
            Vector512.Store(c60 + bias0, out0 + (6 * step));
            Vector512.Store(c61 + bias1, out0 + (6 * step) + 16);
        }

        if (TRows.Count > 7)
        {
            Vector512.Store(c70 + bias0, out0 + (7 * step));
            Vector512.Store(c71 + bias1, out0 + (7 * step) + 16);
        }

        if (TRows.Count > 8)
        {
            Vector512.Store(c80 + bias0, out0 + (8 * step));
            Vector512.Store(c81 + bias1, out0 + (8 * step) + 16);
        }

        if (TRows.Count > 9)
        {
            Vector512.Store(c90 + bias0, out0 + (9 * step));
            Vector512.Store(c91 + bias1, out0 + (9 * step) + 16);
        }

        if (TRows.Count > 10)
        {
            Vector512.Store(c100 + bias0, out0 + (10 * step));
            Vector512.Store(c101 + bias1, out0 + (10 * step) + 16);
        }

        if (TRows.Count > 11)
        {
            Vector512.Store(c110 + bias0, out0 + (11 * step));
            Vector512.Store(c111 + bias1, out0 + (11 * step) + 16);
        }

        FinishTile(TRows.Count, y, ldy, full ? null : tile, CpuPackedWeight.PanelWidth, cols, activation);
    }

    // Asks for the lines a Vector512 tile will store (rows of a panel's 32 floats, which span two or three lines) before
    // its loop over K, so that they arrive while the FMAs run instead of stalling the stores at the end. A Y larger than
    // the caches (the output projection: 128 rows × 58101 words is 30 MB) otherwise misses on every tile's stores. In
    // the A/B harness (interleaved blocks of calls, five runs on a shared host) this measured 4-11 % faster by the
    // median at M = 128 and -2 to +13 % at M = 1024 against the output projection, and no different at the other
    // shapes, M = 1-1024. The Vector256 kernel measured no different at those shapes, and does without. Prefetch
    // instructions never fault, so lines past a narrow last panel or past Y are harmless.
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
            Sse.Prefetch0(row);
            Sse.Prefetch0(row + 16);
            Sse.Prefetch0(row + CpuPackedWeight.PanelWidth - 1);
        }
    }
}
