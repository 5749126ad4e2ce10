using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GpuTransformer.Kernels.Cpu;

/// <summary>
/// <c>Y = act(X · Wᵀ + bias)</c> in 8-bit integers against a <see cref="CpuInt8Weight"/>. Each call quantizes the
/// rows of X per row (<see cref="CpuInt8Quantizer"/>) into a pooled buffer, then runs a register-blocked micro-kernel
/// (6 rows × 16 features, 32-bit accumulators over all of K) split into tasks like <see cref="CpuPackedGemm"/>, and
/// dequantizes as each tile leaves the registers: <c>y = (acc − offset) · sx · sw + bias</c>, then the activation.
/// The kernel is the one the weight was packed for (<see cref="CpuInt8Weight.Kernel"/>): AVX-VNNI's <c>vpdpbusd</c>
/// (this file) or AVX2's <c>vpmaddwd</c> on int16 (CpuInt8Gemm.Avx2.cs). Both sum the same int8 products exactly, so
/// they return the same floats.
/// </summary>
/// <remarks>
/// <c>vpdpbusd</c> multiplies unsigned by signed bytes. Activations are signed, so they are stored as <c>q + 128</c>
/// (an XOR of the sign bit) and the epilogue subtracts <c>128 · Σₖ Wq[j, k]</c>, precomputed per feature at load:
/// exact, as oneDNN and CTranslate2 do, and cheaper than the sign trick (<c>|a| · sign(b, a)</c>) which costs two
/// more instructions per step. Products are at most 255 · 127 and a 4-term sum fits in 17 bits, so the
/// non-saturating instruction cannot overflow for any K below 2²³/127. The instruction is reached through .NET's
/// AVX-VNNI (VEX, 256-bit) form, which addresses only 16 vector registers: 12 accumulators, two weight vectors and a
/// broadcast fill them, hence the 6 × 16 tile.
/// </remarks>
[SkipLocalsInit]
public static unsafe partial class CpuInt8Gemm
{
    private const int TileRows = 6;

    // Bytes of quantized X rows a task keeps in L2 next to its panel.
    // (256 and 512 KiB measured the same with the AVX2 kernel on a 512 KiB L2, M = 32-1024.)
    private const int RowBlockBytes = 128 * 1024;

    /// <summary>Computes <c>Y = act(X · Wᵀ + bias)</c> with rows of X and Y <paramref name="ldx"/> and <paramref name="ldy"/> elements apart.</summary>
    /// <param name="x">Input rows of <see cref="CpuInt8Weight.In"/>.</param>
    /// <param name="ldx">Elements between consecutive rows of X.</param>
    /// <param name="weight">The quantized weight and bias.</param>
    /// <param name="y">Output rows of <see cref="CpuInt8Weight.Out"/>; elements between rows are left alone.</param>
    /// <param name="ldy">Elements between consecutive rows of Y.</param>
    /// <param name="m">Rows.</param>
    /// <param name="activation">Applied after the bias.</param>
    /// <exception cref="ArgumentException">A span is too short or a stride too small.</exception>
    /// <exception cref="PlatformNotSupportedException">The processor lacks AVX2 (<see cref="CpuInt8Weight.IsSupported"/>).</exception>
    public static void Linear(ReadOnlySpan<float> x, int ldx, CpuInt8Weight weight, Span<float> y, int ldy, int m, Activation activation = Activation.None)
    {
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        if (!CpuInt8Weight.IsSupported)
        {
            throw new PlatformNotSupportedException("the int8 GEMM needs a processor with AVX2 and FMA");
        }

        int n = weight.Out, k = weight.In, kp = weight.PaddedIn;
        long xNeed = m == 0 ? 0 : (long)(m - 1) * ldx + k, yNeed = m == 0 ? 0 : (long)(m - 1) * ldy + n;
        if (ldx < k || ldy < n || x.Length < xNeed || y.Length < yNeed)
        {
            throw new ArgumentException($"Linear: spans too short for m={m}, n={n}, k={k}, ldx={ldx}, ldy={ldy} (x {x.Length}, y {y.Length}).");
        }

        if (m == 0)
        {
            return;
        }

        // Quantized rows (bytes for vpdpbusd, int16 for vpmaddwd), then their scales; TileRows spare scales let a tile
        // read past the last row harmlessly.
        bool vnni = weight.Kernel == CpuInt8Kernel.AvxVnni;
        int rowBytes = vnni ? kp : kp * sizeof(short);
        int quantBytes = m * rowBytes;
        byte[] scratch = ArrayPool<byte>.Shared.Rent(quantBytes + (m + TileRows) * sizeof(float) + sizeof(float));
        try
        {
            fixed (float* px = x, py = y)
            fixed (byte* pq = scratch)
            {
                float* xScales = (float*)(((nint)(pq + quantBytes) + 3) & ~(nint)3);

                // Quantizing is a few percent of the product (K per row against N·K), but serial it would leave the
                // other threads idle for an encoder batch of hundreds of rows.
                var quantize = new QuantizeJob { X = px, Ldx = ldx, K = k, Kp = kp, Q = pq, Scales = xScales, M = m, Vnni = vnni };
                if ((long)m * k < 65_536 || m < 2)
                {
                    quantize.RowsPerTask = m;
                    quantize.Run(0);
                }
                else
                {
                    int chunks = Math.Min(m, 4 * CpuParallel.ThreadCount);
                    quantize.RowsPerTask = (m + chunks - 1) / chunks;
                    CpuParallel.For((m + quantize.RowsPerTask - 1) / quantize.RowsPerTask, &RunQuantize, &quantize);
                }

                int rowBlock = Math.Max(TileRows, RowBlockBytes / rowBytes / TileRows * TileRows);
                int rowBlocks = (m + rowBlock - 1) / rowBlock;
                int threads = CpuParallel.ThreadCount;
                int panelsPerTask = Math.Max(1, Math.Min(weight.Panels * rowBlocks / (4 * threads), Math.Max(1, 128 / Math.Min(m, rowBlock))));
                int panelGroups = (weight.Panels + panelsPerTask - 1) / panelsPerTask;
                var job = new Job
                {
                    X = pq, Ldx = rowBytes, XScales = xScales, Y = py, Ldy = ldy, M = m, N = n, Kp = kp, Vnni = vnni,
                    Panels = weight.PanelData, Scales = weight.ScaleData, Offsets = weight.OffsetData, Bias = weight.BiasData,
                    PanelCount = weight.Panels, RowBlock = rowBlock, PanelsPerTask = panelsPerTask, PanelGroups = panelGroups,
                    Activation = activation,
                };
                int tasks = rowBlocks * panelGroups;
                if (tasks == 1 || (long)m * n * k < 131_072)
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
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    private static void RunJob(int task, void* state) => ((Job*)state)->Run(task);

    private static void RunQuantize(int task, void* state) => ((QuantizeJob*)state)->Run(task);

    private interface IRowCount
    {
        static abstract int Count { get; }
    }

    private struct Rows1 : IRowCount { public static int Count => 1; }

    private struct Rows2 : IRowCount { public static int Count => 2; }

    private struct Rows3 : IRowCount { public static int Count => 3; }

    private struct Rows4 : IRowCount { public static int Count => 4; }

    private struct Rows5 : IRowCount { public static int Count => 5; }

    private struct Rows6 : IRowCount { public static int Count => 6; }

    private struct QuantizeJob
    {
        public float* X;
        public int Ldx;
        public int K;
        public int Kp;
        public byte* Q;
        public float* Scales;
        public int M;
        public int RowsPerTask;
        public bool Vnni;

        public readonly void Run(int task)
        {
            int r1 = Math.Min(M, (task + 1) * RowsPerTask);
            for (int r = task * RowsPerTask; r < r1; r++)
            {
                if (!Vnni)
                {
                    // int16 rows for vpmaddwd; the padding K values are zero, as are the weights they meet.
                    short* s = (short*)Q + ((long)r * Kp);
                    Scales[r] = CpuInt8Quantizer.QuantizeRow(X + ((long)r * Ldx), K, s);
                    new Span<short>(s + K, Kp - K).Clear();
                    continue;
                }

                byte* q = Q + (long)r * Kp;
                Scales[r] = CpuInt8Quantizer.QuantizeRow(X + (long)r * Ldx, K, q, 0x80);

                // The padding K values meet zero weights; 0x80 (the offset zero) keeps them out of the sum either way.
                for (int i = K; i < Kp; i++)
                {
                    q[i] = 0x80;
                }
            }
        }
    }

    private struct Job
    {
        public byte* X;
        public int Ldx;
        public float* XScales;
        public float* Y;
        public int Ldy;
        public int M;
        public int N;
        public int Kp;
        public bool Vnni;
        public sbyte* Panels;
        public float* Scales;
        public int* Offsets;
        public float* Bias;
        public int PanelCount;
        public int RowBlock;
        public int PanelsPerTask;
        public int PanelGroups;
        public Activation Activation;

        public readonly void Run(int task)
        {
            int rowBlock = task / PanelGroups, group = task % PanelGroups;
            int r0 = rowBlock * RowBlock, r1 = Math.Min(M, r0 + RowBlock);
            int p0 = group * PanelsPerTask, p1 = Math.Min(PanelCount, p0 + PanelsPerTask);
            for (int p = p0; p < p1; p++)
            {
                sbyte* panel = Panels + ((long)p * CpuInt8Weight.PanelWidth * Kp);
                int col = p * CpuInt8Weight.PanelWidth;
                float* scale = Scales + col, bias = Bias + col;
                int* offset = Offsets + col;
                int cols = Math.Min(CpuInt8Weight.PanelWidth, N - col);

                // The block's rows split evenly over the tiles (32 rows as 6 + 6 + 5 + 5 + 5 + 5, not five tiles of
                // 6 and one of 2, which reads the panel for a third of the products): with the AVX2 kernel on the AMD
                // EPYC host, 2-4 % faster by the mean at M = 32 and 128 against 512×2048 and 2048×512.
                int tiles = (r1 - r0 + TileRows - 1) / TileRows;
                for (int r = r0, t = 0; t < tiles; t++)
                {
                    int rows = ((r1 - r0) * (t + 1) / tiles) - (r - r0);
                    byte* x = X + (long)r * Ldx;
                    float* xs = XScales + r;
                    float* y = Y + (long)r * Ldy + col;
                    r += rows;
                    if (!Vnni)
                    {
                        RunPairTile(rows, (int*)x, Ldx / sizeof(int), panel, Kp / 2, xs, scale, bias, y, Ldy, cols, Activation);
                        continue;
                    }

                    int groups = Kp / 4;
                    switch (rows)
                    {
                        case 6: Tile<Rows6>(x, Ldx, panel, groups, xs, scale, offset, bias, y, Ldy, cols, Activation); break;
                        case 5: Tile<Rows5>(x, Ldx, panel, groups, xs, scale, offset, bias, y, Ldy, cols, Activation); break;
                        case 4: Tile<Rows4>(x, Ldx, panel, groups, xs, scale, offset, bias, y, Ldy, cols, Activation); break;
                        case 3: Tile<Rows3>(x, Ldx, panel, groups, xs, scale, offset, bias, y, Ldy, cols, Activation); break;
                        case 2: Tile<Rows2>(x, Ldx, panel, groups, xs, scale, offset, bias, y, Ldy, cols, Activation); break;
                        default: Tile<Rows1>(x, Ldx, panel, groups, xs, scale, offset, bias, y, Ldy, cols, Activation); break;
                    }
                }
            }
        }
    }

    /// <summary>
    /// The micro-kernel: <typeparamref name="TRows"/> quantized rows (up to 6) times one panel of 16 features over all
    /// of K, 4 K values per step: each step broadcasts 4 activation bytes per row and issues two <c>vpdpbusd</c> per row
    /// against two aligned 32-byte weight loads. Rows past <c>TRows.Count</c> are removed by the JIT.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TRows>(byte* x, long ldx, sbyte* panel, int groups, float* xScale, float* scale, int* offset, float* bias, float* y, long ldy, int cols, Activation activation)
        where TRows : struct, IRowCount
    {
        Vector256<int> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        byte* x0 = x, x1 = x0 + ldx, x2 = x1 + ldx, x3 = x2 + ldx, x4 = x3 + ldx, x5 = x4 + ldx;
        for (int g = 0; g < groups; g++)
        {
            var b0 = Vector256.LoadAligned(panel);
            var b1 = Vector256.LoadAligned(panel + 32);
            panel += 64;
            int o = g * 4;
                var a0 = Vector256.Create(*(int*)(x0 + o)).AsByte();
                c00 = AvxVnni.MultiplyWideningAndAdd(c00, a0, b0);
                c01 = AvxVnni.MultiplyWideningAndAdd(c01, a0, b1);

            if (TRows.Count > 1)
            {
                var a1 = Vector256.Create(*(int*)(x1 + o)).AsByte();
                c10 = AvxVnni.MultiplyWideningAndAdd(c10, a1, b0);
                c11 = AvxVnni.MultiplyWideningAndAdd(c11, a1, b1);
            }

            if (TRows.Count > 2)
            {
                var a2 = Vector256.Create(*(int*)(x2 + o)).AsByte();
                c20 = AvxVnni.MultiplyWideningAndAdd(c20, a2, b0);
                c21 = AvxVnni.MultiplyWideningAndAdd(c21, a2, b1);
            }

            if (TRows.Count > 3)
            {
                var a3 = Vector256.Create(*(int*)(x3 + o)).AsByte();
                c30 = AvxVnni.MultiplyWideningAndAdd(c30, a3, b0);
                c31 = AvxVnni.MultiplyWideningAndAdd(c31, a3, b1);
            }

            if (TRows.Count > 4)
            {
                var a4 = Vector256.Create(*(int*)(x4 + o)).AsByte();
                c40 = AvxVnni.MultiplyWideningAndAdd(c40, a4, b0);
                c41 = AvxVnni.MultiplyWideningAndAdd(c41, a4, b1);
            }

            if (TRows.Count > 5)
            {
                var a5 = Vector256.Create(*(int*)(x5 + o)).AsByte();
                c50 = AvxVnni.MultiplyWideningAndAdd(c50, a5, b0);
                c51 = AvxVnni.MultiplyWideningAndAdd(c51, a5, b1);
            }
        }

        var off0 = Vector256.LoadAligned(offset);
        var off1 = Vector256.LoadAligned(offset + 8);
        var ws0 = Vector256.LoadAligned(scale);
        var ws1 = Vector256.LoadAligned(scale + 8);
        var bias0 = Vector256.LoadAligned(bias);
        var bias1 = Vector256.LoadAligned(bias + 8);
        bool full = cols == CpuInt8Weight.PanelWidth;
        float* tile = stackalloc float[TileRows * CpuInt8Weight.PanelWidth];

        Store(c00, c01, xScale[0], off0, off1, ws0, ws1, bias0, bias1, full ? y + 0 * ldy : tile + 0 * CpuInt8Weight.PanelWidth);

        if (TRows.Count > 1)
        {
                Store(c10, c11, xScale[1], off0, off1, ws0, ws1, bias0, bias1, full ? y + 1 * ldy : tile + 1 * CpuInt8Weight.PanelWidth);
        }

        if (TRows.Count > 2)
        {
                Store(c20, c21, xScale[2], off0, off1, ws0, ws1, bias0, bias1, full ? y + 2 * ldy : tile + 2 * CpuInt8Weight.PanelWidth);
        }

        if (TRows.Count > 3)
        {
                Store(c30, c31, xScale[3], off0, off1, ws0, ws1, bias0, bias1, full ? y + 3 * ldy : tile + 3 * CpuInt8Weight.PanelWidth);
        }

        if (TRows.Count > 4)
        {
                Store(c40, c41, xScale[4], off0, off1, ws0, ws1, bias0, bias1, full ? y + 4 * ldy : tile + 4 * CpuInt8Weight.PanelWidth);
        }

        if (TRows.Count > 5)
        {
                Store(c50, c51, xScale[5], off0, off1, ws0, ws1, bias0, bias1, full ? y + 5 * ldy : tile + 5 * CpuInt8Weight.PanelWidth);
        }

        CpuPackedGemm.FinishTile(TRows.Count, y, ldy, full ? null : tile, CpuInt8Weight.PanelWidth, cols, activation);
    }

    // The int32 sum is exact (|acc| < 2^24 for K < 1040, and within float rounding beyond), so the only roundings are
    // the conversion, the scale product and the fused multiply-add with the bias.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector256<int> c0, Vector256<int> c1, float xScale, Vector256<int> off0, Vector256<int> off1, Vector256<float> ws0, Vector256<float> ws1, Vector256<float> bias0, Vector256<float> bias1, float* dst)
    {
        var xs = Vector256.Create(xScale);
        Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(c0 - off0), ws0 * xs, bias0).Store(dst);
        Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(c1 - off1), ws1 * xs, bias1).Store(dst + 8);
    }
}
