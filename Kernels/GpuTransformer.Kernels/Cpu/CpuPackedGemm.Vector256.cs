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
    /// 6 × 16 shape for two FMA ports. The half panel is one sequential stream, 16 floats (one 64-byte line) per step
    /// of K, in the layout <see cref="CpuPackedWeight"/> packs for this kernel. Rows past <c>TRows.Count</c> are removed
    /// by the JIT.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void HalfPanelTile<TRows, TPrefetch>(float* x, long ldx, float* halfPanel, int k, float* bias, float* y, long ldy, int cols, Activation activation, float* prefetch, int stride)
        where TRows : struct, IRowCount
        where TPrefetch : struct, IPrefetchMode
    {
        var acc = default(Tile256);

        PrefetchTileOutput(TRows.Count, y, ldy);

        // Two moving pointers (rows 0-2 and 3-5) and the strides ldx and 2·ldx address the six rows, as in the
        // Vector512 kernel: six row pointers and an index would not all stay in registers through the loop.
        float* lo = x, hi = x + (3 * ldx);
        long ldx2 = 2 * ldx;
        float* end = halfPanel + ((long)k * HalfWidth);

        // Four steps of K per iteration: the loop's own instructions (pointer updates, compare and branch, the
        // prefetch) spread over 48 FMAs instead of 12. On a 2-vCPU AMD EPYC (Zen 3) guest, in the interleaved A/B
        // harness (docs/benchmarks.md), this was 13-20 % faster by the mean than one step per iteration at M = 32-1024
        // on 2 threads (12-17 % on one), and up to 12 % by the fastest calls; two steps gained half to three quarters
        // as much and eight no more than four. It gains most when the host is busy (the mean more than the best):
        // most likely another guest's hyperthread then shares the core's dispatch, and the fewer instructions each FMA
        // costs, the less that slows it.
        for (float* quadsEnd = halfPanel + ((long)(k & ~3) * HalfWidth); halfPanel < quadsEnd; halfPanel += 4 * HalfWidth, lo += 4, hi += 4)
        {
            acc.Step<TRows>(halfPanel, lo, hi, ldx, ldx2, 0);
            acc.Step<TRows>(halfPanel, lo, hi, ldx, ldx2, 1);
            acc.Step<TRows>(halfPanel, lo, hi, ldx, ldx2, 2);
            acc.Step<TRows>(halfPanel, lo, hi, ldx, ldx2, 3);
            if (TPrefetch.Enabled && Sse.IsSupported)
            {
                // This call's share of the next panel for four steps, 4 · stride floats (at most 64: two or more
                // calls share a panel), one prefetch per 64-byte line.
                Sse.Prefetch1(prefetch);
                if (stride > 4)
                {
                    Sse.Prefetch1(prefetch + 16);
                    if (stride > 8)
                    {
                        Sse.Prefetch1(prefetch + 32);
                        Sse.Prefetch1(prefetch + 48);
                    }
                }

                prefetch += 4 * stride;
            }
        }

        for (; halfPanel < end; halfPanel += HalfWidth, lo++, hi++)
        {
            acc.Step<TRows>(halfPanel, lo, hi, ldx, ldx2, 0);
            if (TPrefetch.Enabled && Sse.IsSupported)
            {
                // stride <= 16: one line per step at most.
                Sse.Prefetch1(prefetch);
                prefetch += stride;
            }
        }

        // A narrow last half panel stores to the stack tile, and FinishTile copies its columns out.
        bool full = cols == HalfWidth;
        float* tile = stackalloc float[TileRows256 * HalfWidth];
        acc.Store<TRows>(full ? y : tile, full ? ldy : HalfWidth, bias);
        FinishTile(TRows.Count, y, ldy, full ? null : tile, HalfWidth, cols, activation);
    }

    // The accumulators of a Vector256 tile, row r's two halves in Cr0 and Cr1; Step is inlined into HalfPanelTile,
    // where the JIT keeps all twelve in ymm registers.
    private struct Tile256
    {
        public Vector256<float> C00, C01, C10, C11, C20, C21, C30, C31, C40, C41, C50, C51;

        // One step of K at X's column `step` from lo and hi and the half panel's row `step` (a constant at each call,
        // folded into the addresses).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Step<TRows>(float* halfPanel, float* lo, float* hi, long ldx, long ldx2, int step)
            where TRows : struct, IRowCount
        {
            var b0 = Vector256.LoadAligned(halfPanel + (step * HalfWidth));
            var b1 = Vector256.LoadAligned(halfPanel + (step * HalfWidth) + 8);
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
                Row(ref C30, ref C31, hi[step], b0, b1);
            }

            if (TRows.Count > 4)
            {
                Row(ref C40, ref C41, (hi + step)[ldx], b0, b1);
            }

            if (TRows.Count > 5)
            {
                Row(ref C50, ref C51, (hi + step)[ldx2], b0, b1);
            }
        }

        // Adds the bias and stores the tile's rows, ldy floats apart.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Store<TRows>(float* y, long ldy, float* bias)
            where TRows : struct, IRowCount
        {
            var bias0 = Vector256.LoadAligned(bias);
            var bias1 = Vector256.LoadAligned(bias + 8);
            Vector256.Store(C00 + bias0, y);
            Vector256.Store(C01 + bias1, y + 8);

            if (TRows.Count > 1)
            {
                Vector256.Store(C10 + bias0, y + (1 * ldy));
                Vector256.Store(C11 + bias1, y + (1 * ldy) + 8);
            }

            if (TRows.Count > 2)
            {
                Vector256.Store(C20 + bias0, y + (2 * ldy));
                Vector256.Store(C21 + bias1, y + (2 * ldy) + 8);
            }

            if (TRows.Count > 3)
            {
                Vector256.Store(C30 + bias0, y + (3 * ldy));
                Vector256.Store(C31 + bias1, y + (3 * ldy) + 8);
            }

            if (TRows.Count > 4)
            {
                Vector256.Store(C40 + bias0, y + (4 * ldy));
                Vector256.Store(C41 + bias1, y + (4 * ldy) + 8);
            }

            if (TRows.Count > 5)
            {
                Vector256.Store(C50 + bias0, y + (5 * ldy));
                Vector256.Store(C51 + bias1, y + (5 * ldy) + 8);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Row(ref Vector256<float> c0, ref Vector256<float> c1, float a, Vector256<float> b0, Vector256<float> b1)
        {
            var broadcast = Vector256.Create(a);
            c0 = Vector256.FusedMultiplyAdd(broadcast, b0, c0);
            c1 = Vector256.FusedMultiplyAdd(broadcast, b1, c1);
        }
    }
}
