using System.Buffers;
using System.Runtime.Intrinsics;

namespace GpuTransformer.Kernels.Cpu;

/// <summary>
/// Scaled dot-product attention on the CPU with key-padding and causal masks, one (sequence, head) pair per task.
/// Masked keys are skipped, which equals HF adding <c>finfo(float32).min</c>: that underflows to an exact zero weight.
/// </summary>
public static unsafe class CpuAttention
{
    private const int StackScores = 2048;

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

            float[]? rented = null;
            Span<float> scores = valid <= StackScores ? stackalloc float[StackScores] : (rented = ArrayPool<float>.Shared.Rent(valid));
            Span<float> scaled = d <= 256 ? stackalloc float[256] : new float[d];
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

                        float* biasRow = Bias == null ? null : Bias + h * l.BiasHeadStride + (long)(l.BiasRowOffset + i) * l.BiasRowStride;
                        for (int j = 0; j < visible; j++)
                        {
                            float score = CpuGemm.Dot(qs, kBase + (long)j * l.KeyValueRowStride, d);
                            if (biasRow != null)
                            {
                                score += biasRow[j];
                            }

                            s[j] = score;
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

                        WeightedSum(s, visible, vBase, l.KeyValueRowStride, oRow, d);
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
    }
}
