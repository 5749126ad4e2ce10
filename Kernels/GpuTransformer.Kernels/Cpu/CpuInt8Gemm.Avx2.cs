using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GpuTransformer.Kernels.Cpu;

/// <summary>The AVX2 micro-kernel of <see cref="CpuInt8Gemm"/>, for processors without AVX-VNNI.</summary>
public static unsafe partial class CpuInt8Gemm
{
    // Dispatches a tile of 1-6 rows to the kernel instantiated for that count.
    private static void RunPairTile(int rows, int* x, long ldx, sbyte* panel, int pairs, float* xScale, float* scale, float* bias, float* y, long ldy, int cols, Activation activation)
    {
        switch (rows)
        {
            case 6: PairTile<Rows6>(x, ldx, panel, pairs, xScale, scale, bias, y, ldy, cols, activation); break;
            case 5: PairTile<Rows5>(x, ldx, panel, pairs, xScale, scale, bias, y, ldy, cols, activation); break;
            case 4: PairTile<Rows4>(x, ldx, panel, pairs, xScale, scale, bias, y, ldy, cols, activation); break;
            case 3: PairTile<Rows3>(x, ldx, panel, pairs, xScale, scale, bias, y, ldy, cols, activation); break;
            case 2: PairTile<Rows2>(x, ldx, panel, pairs, xScale, scale, bias, y, ldy, cols, activation); break;
            default: PairTile<Rows1>(x, ldx, panel, pairs, xScale, scale, bias, y, ldy, cols, activation); break;
        }
    }

    /// <summary>
    /// <typeparamref name="TRows"/> rows of int16 activations (up to 6) times one panel of 16 features over all of K,
    /// two K values per step: the panel's 32 bytes of a step are sign-extended to int16 in two halves of 8 features
    /// (<c>vpmovsxbw</c> straight from memory), each row's pair of activations is broadcast as one int32, and
    /// <c>vpmaddwd</c> multiplies and adds the pair into int32 lanes, one per feature. Products of int8 values are at
    /// most 127², a pair's sum fits int16's product range with no saturation (unlike <c>vpmaddubsw</c> on unsigned
    /// bytes, which would saturate at 2 · 255 · 127), and the int32 sums are exact for K below 2³¹ / 127²: the same
    /// sums as the VNNI kernel's. 12 accumulators, two weight vectors, a broadcast and the product fill the 16 ymm
    /// registers. Rows past <c>TRows.Count</c> are removed by the JIT. <c>x</c> points at row 0's activations read as
    /// int32 pairs, rows <c>ldx</c> pairs apart; <c>pairs</c> is K / 2, even, as K is padded to a multiple of 4.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PairTile<TRows>(int* x, long ldx, sbyte* panel, int pairs, float* xScale, float* scale, float* bias, float* y, long ldy, int cols, Activation activation)
        where TRows : struct, IRowCount
    {
        var acc = default(PairAccumulators);

        CpuPackedGemm.PrefetchTileOutput(TRows.Count, y, ldy);

        // Two moving pointers (rows 0-2 and 3-5) and the strides ldx and 2·ldx address the six rows, as in the float
        // kernels, so that the pointers stay in registers through the loop.
        int* lo = x, hi = x + (3 * ldx);
        long ldx2 = 2 * ldx;

        // Four steps (eight K values) per iteration, then two: K is padded to a multiple of 4, so pairs is even. Four
        // measured 1-3 % faster than two at M = 32-1024 (both by the mean and the fastest calls, on the AMD EPYC host).
        sbyte* end = panel + ((long)pairs * 2 * CpuInt8Weight.PanelWidth);
        for (sbyte* quadsEnd = panel + ((long)(pairs & ~3) * 2 * CpuInt8Weight.PanelWidth); panel < quadsEnd; panel += 8 * CpuInt8Weight.PanelWidth, lo += 4, hi += 4)
        {
            acc.Step<TRows>(panel, lo, hi, ldx, ldx2, 0);
            acc.Step<TRows>(panel, lo, hi, ldx, ldx2, 1);
            acc.Step<TRows>(panel, lo, hi, ldx, ldx2, 2);
            acc.Step<TRows>(panel, lo, hi, ldx, ldx2, 3);
        }

        if (panel < end)
        {
            acc.Step<TRows>(panel, lo, hi, ldx, ldx2, 0);
            acc.Step<TRows>(panel, lo, hi, ldx, ldx2, 1);
        }

        bool full = cols == CpuInt8Weight.PanelWidth;
        float* tile = stackalloc float[TileRows * CpuInt8Weight.PanelWidth];
        acc.Store<TRows>(xScale, scale, bias, full ? y : tile, full ? ldy : CpuInt8Weight.PanelWidth);
        CpuPackedGemm.FinishTile(TRows.Count, y, ldy, full ? null : tile, CpuInt8Weight.PanelWidth, cols, activation);
    }

    // The accumulators of an AVX2 tile, row r's features 0-7 in Cr0 and 8-15 in Cr1; Step is inlined into PairTile,
    // where the JIT keeps all twelve in ymm registers.
    private struct PairAccumulators
    {
        public Vector256<int> C00, C01, C10, C11, C20, C21, C30, C31, C40, C41, C50, C51;

        // One step (two K values) at pair `step` of lo and hi and the panel (a constant at each call, folded into the
        // addresses).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Step<TRows>(sbyte* panel, int* lo, int* hi, long ldx, long ldx2, int step)
            where TRows : struct, IRowCount
        {
            var w0 = Avx2.ConvertToVector256Int16(panel + (step * 2 * CpuInt8Weight.PanelWidth));
            var w1 = Avx2.ConvertToVector256Int16(panel + (step * 2 * CpuInt8Weight.PanelWidth) + CpuInt8Weight.PanelWidth);
            Row(ref C00, ref C01, lo[step], w0, w1);
            if (TRows.Count > 1)
            {
                Row(ref C10, ref C11, (lo + step)[ldx], w0, w1);
            }

            if (TRows.Count > 2)
            {
                Row(ref C20, ref C21, (lo + step)[ldx2], w0, w1);
            }

            if (TRows.Count > 3)
            {
                Row(ref C30, ref C31, hi[step], w0, w1);
            }

            if (TRows.Count > 4)
            {
                Row(ref C40, ref C41, (hi + step)[ldx], w0, w1);
            }

            if (TRows.Count > 5)
            {
                Row(ref C50, ref C51, (hi + step)[ldx2], w0, w1);
            }
        }

        // Dequantizes, adds the bias and stores the tile's rows, ldy floats apart.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Store<TRows>(float* xScale, float* scale, float* bias, float* y, long ldy)
            where TRows : struct, IRowCount
        {
            var ws0 = Vector256.LoadAligned(scale);
            var ws1 = Vector256.LoadAligned(scale + 8);
            var bias0 = Vector256.LoadAligned(bias);
            var bias1 = Vector256.LoadAligned(bias + 8);
            StoreRow(C00, C01, xScale[0], ws0, ws1, bias0, bias1, y);
            if (TRows.Count > 1)
            {
                StoreRow(C10, C11, xScale[1], ws0, ws1, bias0, bias1, y + ldy);
            }

            if (TRows.Count > 2)
            {
                StoreRow(C20, C21, xScale[2], ws0, ws1, bias0, bias1, y + (2 * ldy));
            }

            if (TRows.Count > 3)
            {
                StoreRow(C30, C31, xScale[3], ws0, ws1, bias0, bias1, y + (3 * ldy));
            }

            if (TRows.Count > 4)
            {
                StoreRow(C40, C41, xScale[4], ws0, ws1, bias0, bias1, y + (4 * ldy));
            }

            if (TRows.Count > 5)
            {
                StoreRow(C50, C51, xScale[5], ws0, ws1, bias0, bias1, y + (5 * ldy));
            }
        }

        // Through the VNNI kernel's Store with no offset: the sums are exact, so the same roundings give the same floats.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void StoreRow(Vector256<int> c0, Vector256<int> c1, float xScale, Vector256<float> ws0, Vector256<float> ws1, Vector256<float> bias0, Vector256<float> bias1, float* dst) =>
            CpuInt8Gemm.Store(c0, c1, xScale, Vector256<int>.Zero, Vector256<int>.Zero, ws0, ws1, bias0, bias1, dst);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Row(ref Vector256<int> c0, ref Vector256<int> c1, int pair, Vector256<short> w0, Vector256<short> w1)
        {
            var a = Vector256.Create(pair).AsInt16();
            c0 += Avx2.MultiplyAddAdjacent(w0, a);
            c1 += Avx2.MultiplyAddAdjacent(w1, a);
        }
    }
}
