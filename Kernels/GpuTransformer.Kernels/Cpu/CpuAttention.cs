using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GpuTransformer.Kernels.Cpu;

/// <summary>
/// Scaled dot-product attention on the CPU with key-padding and causal masks, one (sequence, head) pair per task.
/// Masked keys are skipped, which equals HF adding <c>finfo(float32).min</c>: that underflows to an exact zero weight.
/// Keys and values are read in place through their strides (a decoding step reads the KV cache where it is); a row
/// of scores exists only for the queries being worked on (one, or a block of four), never the full score matrix.
/// Softmax and the weighted sum of the values are vectorised; see RunRows and RunBlocked for the two score paths.
/// </summary>
[SkipLocalsInit]
public static unsafe class CpuAttention
{
    private const int StackScores = 2048;

    // Query rows whose scores are computed together against transposed keys (the register block of RunBlocked).
    private const int BlockQueries = 4;

    // Head dimensions up to this keep the scaled query on the stack.
    private const int MaxScaledDim = 256;

    /// <summary>Computes <c>softmax(scale·q·kᵀ + mask)·v</c> for every sequence and head.</summary>
    /// <param name="q">Queries.</param>
    /// <param name="k">Keys.</param>
    /// <param name="v">Values, laid out like <paramref name="k"/>.</param>
    /// <param name="output">Output, laid out like <paramref name="q"/>.</param>
    /// <param name="layout">Shapes and strides.</param>
    /// <param name="keyLengths">Valid keys per key/value sequence (right padding), or empty when all are valid.</param>
    /// <param name="bias">Added to the scores before the softmax, laid out as the layout's bias strides say and shared by every sequence (T5's relative position bias), or empty.</param>
    /// <exception cref="ArgumentException">The layout does not fit the spans.</exception>
    public static void Attend(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, Span<float> output, in AttentionLayout layout, ReadOnlySpan<int> keyLengths = default, ReadOnlySpan<float> bias = default)
    {
        Validate(q.Length, k.Length, v.Length, output.Length, layout, keyLengths);
        if (!bias.IsEmpty && bias.Length < layout.BiasElements)
        {
            throw new ArgumentException($"Attention: bias of {bias.Length} values is too short for {layout}.", nameof(bias));
        }

        if (layout.Batch == 0 || layout.QueryLength == 0)
        {
            return;
        }

        fixed (float* pq = q, pk = k, pv = v, po = output, pb = bias)
        fixed (int* pl = keyLengths)
        {
            var job = new Job { Q = pq, K = pk, V = pv, O = po, KeyLengths = keyLengths.IsEmpty ? null : pl, Bias = bias.IsEmpty ? null : pb, Layout = layout };
            int tasks = layout.Batch * layout.Heads;
            if (tasks == 1 || (long)tasks * layout.QueryLength * layout.KeyLength * layout.HeadDim < 16_384)
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

    private static void Validate(long q, long k, long v, long o, in AttentionLayout l, ReadOnlySpan<int> keyLengths)
    {
        if (l.Batch < 0 || l.Heads <= 0 || l.HeadDim <= 0 || l.QueryLength < 0 || l.KeyLength < 0 || l.KeyValueGroup <= 0)
        {
            throw new ArgumentException($"Attention: invalid layout {l}.");
        }

        if (l.Batch == 0 || l.QueryLength == 0)
        {
            return;
        }

        long width = (long)l.Heads * l.HeadDim;
        long qNeed = (l.Batch - 1) * l.QueryBatchStride + (long)(l.QueryLength - 1) * l.QueryRowStride + width;
        int kvBatches = (l.Batch + l.KeyValueGroup - 1) / l.KeyValueGroup;
        long kvNeed = l.KeyLength == 0 ? 0 : (kvBatches - 1) * l.KeyValueBatchStride + (long)(l.KeyLength - 1) * l.KeyValueRowStride + width;
        if (q < qNeed || o < qNeed || k < kvNeed || v < kvNeed)
        {
            throw new ArgumentException($"Attention: spans too short for layout {l} (q {q}, k {k}, v {v}, out {o}).");
        }

        if (!keyLengths.IsEmpty && keyLengths.Length < kvBatches)
        {
            throw new ArgumentException($"Attention: {keyLengths.Length} key lengths for {kvBatches} key/value sequences.");
        }
    }

    private static void RunJob(int task, void* state) => ((Job*)state)->Run(task);

    private struct Job
    {
        public float* Q;
        public float* K;
        public float* V;
        public float* O;
        public int* KeyLengths;
        public float* Bias;
        public AttentionLayout Layout;

        /// <summary>
        /// <c>o = Σ_j p_j · v_j</c> over <paramref name="count"/> value rows, vectorised across the head dimension with
        /// the accumulators in registers and j in order, so each element gets the same sequence of fused
        /// multiply-adds as the scalar loop it replaces.
        /// </summary>
        private static void WeightedSum(float* p, int count, float* v, long rowStride, float* o, int d)
        {
            int e = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                for (; e + 64 <= d; e += 64)
                {
                    Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
                    float* vr = v + e;
                    for (int j = 0; j < count; j++, vr += rowStride)
                    {
                        var w = Vector512.Create(p[j]);
                        a0 = Vector512.FusedMultiplyAdd(w, Vector512.Load(vr), a0);
                        a1 = Vector512.FusedMultiplyAdd(w, Vector512.Load(vr + 16), a1);
                        a2 = Vector512.FusedMultiplyAdd(w, Vector512.Load(vr + 32), a2);
                        a3 = Vector512.FusedMultiplyAdd(w, Vector512.Load(vr + 48), a3);
                    }

                    a0.Store(o + e);
                    a1.Store(o + e + 16);
                    a2.Store(o + e + 32);
                    a3.Store(o + e + 48);
                }

                for (; e + 16 <= d; e += 16)
                {
                    Vector512<float> a = default;
                    float* vr = v + e;
                    for (int j = 0; j < count; j++, vr += rowStride)
                    {
                        a = Vector512.FusedMultiplyAdd(Vector512.Create(p[j]), Vector512.Load(vr), a);
                    }

                    a.Store(o + e);
                }
            }

            if (Vector256.IsHardwareAccelerated)
            {
                for (; e + 8 <= d; e += 8)
                {
                    Vector256<float> a = default;
                    float* vr = v + e;
                    for (int j = 0; j < count; j++, vr += rowStride)
                    {
                        a = Vector256.FusedMultiplyAdd(Vector256.Create(p[j]), Vector256.Load(vr), a);
                    }

                    a.Store(o + e);
                }
            }

            for (; e < d; e++)
            {
                float a = 0;
                float* vr = v + e;
                for (int j = 0; j < count; j++, vr += rowStride)
                {
                    a = MathF.FusedMultiplyAdd(p[j], *vr, a);
                }

                o[e] = a;
            }
        }

        public readonly void Run(int task)
        {
            ref readonly AttentionLayout l = ref Layout;
            int b = task / l.Heads, h = task % l.Heads;
            int kvb = b / l.KeyValueGroup;
            int valid = KeyLengths == null ? l.KeyLength : Math.Clamp(KeyLengths[kvb], 0, l.KeyLength);
            int d = l.HeadDim;
            float* kBase = K + kvb * l.KeyValueBatchStride + h * d;
            float* vBase = V + kvb * l.KeyValueBatchStride + h * d;
            if (Vector256.IsHardwareAccelerated && l.QueryLength >= BlockQueries && d <= MaxScaledDim && valid > 0)
            {
                RunBlocked(b, h, valid, kBase, vBase);
            }
            else
            {
                RunRows(b, h, valid, kBase, vBase);
            }
        }

        /// <summary>One query row at a time: its scores by dot products with the keys in place (decoding steps, where each key is read once anyway).</summary>
        private readonly void RunRows(int b, int h, int valid, float* kBase, float* vBase)
        {
            ref readonly AttentionLayout l = ref Layout;
            int d = l.HeadDim;
            float[]? rented = null;
            Span<float> scores = valid <= StackScores ? stackalloc float[StackScores] : (rented = ArrayPool<float>.Shared.Rent(valid));
            Span<float> scaled = d <= MaxScaledDim ? stackalloc float[MaxScaledDim] : new float[d];
            try
            {
                fixed (float* s = scores, qs = scaled)
                {
                    for (int i = 0; i < l.QueryLength; i++)
                    {
                        float* qRow = Q + b * l.QueryBatchStride + (long)i * l.QueryRowStride + h * d;
                        float* oRow = O + b * l.QueryBatchStride + (long)i * l.QueryRowStride + h * d;
                        int visible = l.Causal ? Math.Min(valid, l.CausalOffset + i + 1) : valid;
                        if (visible <= 0)
                        {
                            new Span<float>(oRow, d).Clear();
                            continue;
                        }

                        for (int e = 0; e < d; e++)
                        {
                            qs[e] = qRow[e] * l.Scale;
                        }

                        for (int j = 0; j < visible; j++)
                        {
                            s[j] = CpuGemm.Dot(qs, kBase + (long)j * l.KeyValueRowStride, d);
                        }

                        FinishRow(s, visible, i, h, vBase, oRow);
                    }
                }
            }
            finally
            {
                if (rented is not null)
                {
                    ArrayPool<float>.Shared.Return(rented);
                }
            }
        }

        /// <summary>
        /// Blocks of <see cref="BlockQueries"/> query rows (encoder self-attention, prefill, long inputs): the head's
        /// keys are first transposed into blocks of 16 (<c>kt[block][e][16]</c>), so that the scores of four queries
        /// against 16 keys are four Vector512 accumulators fed by one load per step of the head dimension, instead
        /// of a dot product with a horizontal sum per (query, key). Only one score row per query exists at a time,
        /// never the full score matrix beyond the block of four.
        /// </summary>
        private readonly void RunBlocked(int b, int h, int valid, float* kBase, float* vBase)
        {
            ref readonly AttentionLayout l = ref Layout;
            int d = l.HeadDim;
            int keyBlocks = (valid + 15) / 16;
            int padded = keyBlocks * 16;
            int need = keyBlocks * 16 * d + BlockQueries * padded + BlockQueries * d;
            float[] rented = ArrayPool<float>.Shared.Rent(need + 16);
            try
            {
                fixed (float* buffer = rented)
                {
                    // 64-byte alignment for the transposed keys' vector loads.
                    float* kt = (float*)(((nint)buffer + 63) & ~(nint)63);
                    float* scores = kt + (long)keyBlocks * 16 * d;
                    float* qs = scores + BlockQueries * padded;
                    for (int kb = 0; kb < keyBlocks; kb++)
                    {
                        float* block = kt + (long)kb * 16 * d;
                        for (int jj = 0; jj < 16; jj++)
                        {
                            int j = kb * 16 + jj;
                            float* kRow = kBase + (long)j * l.KeyValueRowStride;
                            for (int e = 0; e < d; e++)
                            {
                                block[e * 16 + jj] = j < valid ? kRow[e] : 0f;
                            }
                        }
                    }

                    for (int i0 = 0; i0 < l.QueryLength; i0 += BlockQueries)
                    {
                        int rows = Math.Min(BlockQueries, l.QueryLength - i0);
                        int blockVisible = l.Causal ? Math.Min(valid, l.CausalOffset + i0 + rows) : valid;
                        for (int r = 0; r < BlockQueries; r++)
                        {
                            // Rows past the end repeat the last query; their scores are computed and dropped.
                            float* qRow = Q + b * l.QueryBatchStride + (long)(i0 + Math.Min(r, rows - 1)) * l.QueryRowStride + h * d;
                            for (int e = 0; e < d; e++)
                            {
                                qs[r * d + e] = qRow[e] * l.Scale;
                            }
                        }

                        for (int kb = 0; kb * 16 < blockVisible; kb++)
                        {
                            float* block = kt + (long)kb * 16 * d;
                            if (Vector512.IsHardwareAccelerated)
                            {
                                BlockScores512(block, qs, d, scores + (kb * 16), padded);
                            }
                            else
                            {
                                BlockScores256(block, qs, d, scores + (kb * 16), padded);
                            }
                        }

                        for (int r = 0; r < rows; r++)
                        {
                            int i = i0 + r;
                            float* oRow = O + b * l.QueryBatchStride + (long)i * l.QueryRowStride + h * d;
                            int visible = l.Causal ? Math.Min(valid, l.CausalOffset + i + 1) : valid;
                            if (visible <= 0)
                            {
                                new Span<float>(oRow, d).Clear();
                                continue;
                            }

                            FinishRow(scores + (r * padded), visible, i, h, vBase, oRow);
                        }
                    }
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(rented);
            }
        }

        /// <summary>
        /// The scores of four scaled queries (<paramref name="qs"/>, rows <paramref name="d"/> apart) against a block of
        /// 16 transposed keys, each a chain of fused multiply-adds over the head dimension in order, written
        /// <paramref name="stride"/> floats apart.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void BlockScores512(float* block, float* qs, int d, float* scores, int stride)
        {
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int e = 0; e < d; e++)
            {
                var k = Vector512.LoadAligned(block + (e * 16));
                a0 = Vector512.FusedMultiplyAdd(Vector512.Create(qs[e]), k, a0);
                a1 = Vector512.FusedMultiplyAdd(Vector512.Create(qs[d + e]), k, a1);
                a2 = Vector512.FusedMultiplyAdd(Vector512.Create(qs[(2 * d) + e]), k, a2);
                a3 = Vector512.FusedMultiplyAdd(Vector512.Create(qs[(3 * d) + e]), k, a3);
            }

            a0.Store(scores);
            a1.Store(scores + stride);
            a2.Store(scores + (2 * stride));
            a3.Store(scores + (3 * stride));
        }

        /// <summary>
        /// <see cref="BlockScores512"/> for processors without AVX-512: each key's lane gets the same chain of fused
        /// multiply-adds, so the scores are the same floats. Before it, such processors took RunRows for every query
        /// row, a horizontal sum per key.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void BlockScores256(float* block, float* qs, int d, float* scores, int stride)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
            for (int e = 0; e < d; e++)
            {
                var k0 = Vector256.LoadAligned(block + (e * 16));
                var k1 = Vector256.LoadAligned(block + (e * 16) + 8);
                var q0 = Vector256.Create(qs[e]);
                var q1 = Vector256.Create(qs[d + e]);
                var q2 = Vector256.Create(qs[(2 * d) + e]);
                var q3 = Vector256.Create(qs[(3 * d) + e]);
                a0 = Vector256.FusedMultiplyAdd(q0, k0, a0);
                b0 = Vector256.FusedMultiplyAdd(q0, k1, b0);
                a1 = Vector256.FusedMultiplyAdd(q1, k0, a1);
                b1 = Vector256.FusedMultiplyAdd(q1, k1, b1);
                a2 = Vector256.FusedMultiplyAdd(q2, k0, a2);
                b2 = Vector256.FusedMultiplyAdd(q2, k1, b2);
                a3 = Vector256.FusedMultiplyAdd(q3, k0, a3);
                b3 = Vector256.FusedMultiplyAdd(q3, k1, b3);
            }

            a0.Store(scores);
            b0.Store(scores + 8);
            a1.Store(scores + stride);
            b1.Store(scores + stride + 8);
            a2.Store(scores + (2 * stride));
            b2.Store(scores + (2 * stride) + 8);
            a3.Store(scores + (3 * stride));
            b3.Store(scores + (3 * stride) + 8);
        }

        /// <summary>Adds the bias to a row of raw scores, turns it into softmax weights and writes the weighted sum of the values.</summary>
        private readonly void FinishRow(float* s, int visible, int i, int h, float* vBase, float* oRow)
        {
            ref readonly AttentionLayout l = ref Layout;
            if (Bias != null)
            {
                float* biasRow = Bias + h * l.BiasHeadStride + (long)(l.BiasRowOffset + i) * l.BiasRowStride;
                for (int j = 0; j < visible; j++)
                {
                    s[j] += biasRow[j];
                }
            }

            var row = new Span<float>(s, visible);
            float max = CpuRowReductions.Max(row);
            float sum = 0;
            if (float.IsFinite(max))
            {
                sum = CpuRowReductions.ExpInPlace(row, max);
            }
            else
            {
                // An infinite or NaN score (an additive bias of -inf everywhere): the scalar rule, as before.
                for (int j = 0; j < visible; j++)
                {
                    float p = MathF.Exp(s[j] - max);
                    s[j] = p;
                    sum += p;
                }
            }

            float inv = 1f / sum;
            for (int j = 0; j < visible; j++)
            {
                s[j] *= inv;
            }

            WeightedSum(s, visible, vBase, l.KeyValueRowStride, oRow, l.HeadDim);
        }
    }
}
