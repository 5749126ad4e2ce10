using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GpuTransformer.Kernels.Cpu;

/// <summary>The Vector512 (AVX-512) micro-kernel of <see cref="CpuPackedGemm"/>.</summary>
public static unsafe partial class CpuPackedGemm
{
    /// <summary>
    /// The register-blocked micro-kernel: <typeparamref name="TRows"/> rows of X (up to 8) times one panel of 32
    /// output features, over all of K. 16 Vector512 accumulators, two panel vectors and one broadcast stay in the 32
    /// zmm registers; each step is 16 independent FMAs against two aligned loads. Rows past <c>TRows.Count</c> are
    /// removed by the JIT, as the count is a constant of the instantiation.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PanelTile<TRows, TPrefetch>(float* x, long ldx, float* panel, int k, float* bias, float* y, long ldy, int cols, Activation activation, float* prefetch, int stride)
        where TRows : struct, IRowCount
        where TPrefetch : struct, IPrefetchMode
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;

        // Two moving pointers (rows 0-3 and rows 4-7) with the strides ldx, 2·ldx and 3·ldx address all eight rows
        // ([lo], [lo + 4·ldx], [lo + 4·ldx2], ...). Eight row pointers and an index did not fit next to the loop's
        // other registers: the JIT reloaded three of them from the stack at every step of K (measured 2-7 % slower at
        // M >= 32 and up to 1.6x slower at M <= 4, where the loads are the bottleneck).
        float* lo = x, hi = x + (4 * ldx);
        long ldx2 = 2 * ldx, ldx3 = 3 * ldx;
        for (float* end = panel + ((long)k * CpuPackedWeight.PanelWidth); panel < end; lo++, hi++)
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

        FinishTile(TRows.Count, y, ldy, full ? null : tile, CpuPackedWeight.PanelWidth, cols, activation);
    }
}
