using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GpuTransformer.Kernels.Cpu;

/// <summary>The Vector256 (AVX2 + FMA) micro-kernel of <see cref="CpuPackedGemm"/>, for processors without AVX-512.</summary>
public static unsafe partial class CpuPackedGemm
{
    /// <summary>
    /// <typeparamref name="TRows"/> rows of X (up to 6) times one half of a panel (16 output features) over all of K:
    /// 12 Vector256 accumulators, two panel vectors and one broadcast fill 15 of the 16 ymm registers, the classic
    /// 6 × 16 shape for two FMA ports. The half panel is read in place, 32 floats apart per step of K, so both kernels
    /// share one packed layout. Rows past <c>TRows.Count</c> are removed by the JIT.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void HalfPanelTile<TRows, TPrefetch>(float* x, long ldx, float* halfPanel, int k, float* bias, float* y, long ldy, int cols, Activation activation, float* prefetch, int stride)
        where TRows : struct, IRowCount
        where TPrefetch : struct, IPrefetchMode
    {
        const int Half = CpuPackedWeight.PanelWidth / 2;
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;

        // Two moving pointers (rows 0-2 and 3-5) and the strides ldx and 2·ldx address the six rows, as in the
        // Vector512 kernel: six row pointers and an index would not all stay in registers through the loop.
        float* lo = x, hi = x + (3 * ldx);
        long ldx2 = 2 * ldx;
        for (float* end = halfPanel + ((long)k * CpuPackedWeight.PanelWidth); halfPanel < end; lo++, hi++)
        {
            var b0 = Vector256.LoadAligned(halfPanel);
            var b1 = Vector256.LoadAligned(halfPanel + 8);
            halfPanel += CpuPackedWeight.PanelWidth;
            if (TPrefetch.Enabled && Sse.IsSupported)
            {
                Sse.Prefetch1(prefetch);
                if (stride > 16)
                {
                    Sse.Prefetch1(prefetch + 16);
                }

                prefetch += stride;
            }

            var a0 = Vector256.Create(*lo);
            c00 = Vector256.FusedMultiplyAdd(a0, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(a0, b1, c01);

            if (TRows.Count > 1)
            {
                var a = Vector256.Create(lo[ldx]);
                c10 = Vector256.FusedMultiplyAdd(a, b0, c10);
                c11 = Vector256.FusedMultiplyAdd(a, b1, c11);
            }

            if (TRows.Count > 2)
            {
                var a = Vector256.Create(lo[ldx2]);
                c20 = Vector256.FusedMultiplyAdd(a, b0, c20);
                c21 = Vector256.FusedMultiplyAdd(a, b1, c21);
            }

            if (TRows.Count > 3)
            {
                var a = Vector256.Create(*hi);
                c30 = Vector256.FusedMultiplyAdd(a, b0, c30);
                c31 = Vector256.FusedMultiplyAdd(a, b1, c31);
            }

            if (TRows.Count > 4)
            {
                var a = Vector256.Create(hi[ldx]);
                c40 = Vector256.FusedMultiplyAdd(a, b0, c40);
                c41 = Vector256.FusedMultiplyAdd(a, b1, c41);
            }

            if (TRows.Count > 5)
            {
                var a = Vector256.Create(hi[ldx2]);
                c50 = Vector256.FusedMultiplyAdd(a, b0, c50);
                c51 = Vector256.FusedMultiplyAdd(a, b1, c51);
            }
        }

        var bias0 = Vector256.LoadAligned(bias);
        var bias1 = Vector256.LoadAligned(bias + 8);
        bool full = cols == Half;
        float* tile = stackalloc float[6 * Half];
        float* out0 = full ? y + 0 * ldy : tile + 0 * Half;
        float* out1 = full ? y + 1 * ldy : tile + 1 * Half;
        float* out2 = full ? y + 2 * ldy : tile + 2 * Half;
        float* out3 = full ? y + 3 * ldy : tile + 3 * Half;
        float* out4 = full ? y + 4 * ldy : tile + 4 * Half;
        float* out5 = full ? y + 5 * ldy : tile + 5 * Half;

        Vector256.Store(c00 + bias0, out0);
        Vector256.Store(c01 + bias1, out0 + 8);

        if (TRows.Count > 1)
        {
            Vector256.Store(c10 + bias0, out1);
            Vector256.Store(c11 + bias1, out1 + 8);
        }

        if (TRows.Count > 2)
        {
            Vector256.Store(c20 + bias0, out2);
            Vector256.Store(c21 + bias1, out2 + 8);
        }

        if (TRows.Count > 3)
        {
            Vector256.Store(c30 + bias0, out3);
            Vector256.Store(c31 + bias1, out3 + 8);
        }

        if (TRows.Count > 4)
        {
            Vector256.Store(c40 + bias0, out4);
            Vector256.Store(c41 + bias1, out4 + 8);
        }

        if (TRows.Count > 5)
        {
            Vector256.Store(c50 + bias0, out5);
            Vector256.Store(c51 + bias1, out5 + 8);
        }

        FinishTile(TRows.Count, y, ldy, full ? null : tile, Half, cols, activation);
    }
}
