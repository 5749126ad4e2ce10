using System.Buffers;

using System.Runtime.Intrinsics;
using GpuTransformer.Kernels;
using GpuTransformer.Kernels.Cpu;

namespace GpuTransformer.Bench;

/// <summary>
/// The in-run baseline of <see cref="CpuAttention"/>: its implementation of commit 83301eb (scores by a Vector256 dot
/// product, scalar exp, scalar weighted sum of the values), kept unchanged apart from this class's name and a local
/// copy of the dot product, with the same threading.
/// </summary>
public static unsafe class ScalarAttention
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

    private static float Dot(float* a, float* b, int length)
    {
        Vector256<float> acc0 = default, acc1 = default;
        int i = 0;
        for (; i + 16 <= length; i += 16)
        {
            acc0 = Vector256.FusedMultiplyAdd(Vector256.Load(a + i), Vector256.Load(b + i), acc0);
            acc1 = Vector256.FusedMultiplyAdd(Vector256.Load(a + i + 8), Vector256.Load(b + i + 8), acc1);
        }

        for (; i + 8 <= length; i += 8)
        {
            acc0 = Vector256.FusedMultiplyAdd(Vector256.Load(a + i), Vector256.Load(b + i), acc0);
        }

        float sum = Vector256.Sum(acc0 + acc1);
        for (; i < length; i++)
        {
            sum = MathF.FusedMultiplyAdd(a[i], b[i], sum);
        }

        return sum;
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

                        float max = float.NegativeInfinity;
                        float* biasRow = Bias == null ? null : Bias + h * l.BiasHeadStride + (long)(l.BiasRowOffset + i) * l.BiasRowStride;
                        for (int j = 0; j < visible; j++)
                        {
                            float score = Dot(qs, kBase + (long)j * l.KeyValueRowStride, d);
                            if (biasRow != null)
                            {
                                score += biasRow[j];
                            }

                            s[j] = score;
                            max = MathF.Max(max, score);
                        }

                        float sum = 0;
                        for (int j = 0; j < visible; j++)
                        {
                            float p = MathF.Exp(s[j] - max);
                            s[j] = p;
                            sum += p;
                        }

                        float inv = 1f / sum;
                        new Span<float>(oRow, d).Clear();
                        for (int j = 0; j < visible; j++)
                        {
                            float p = s[j] * inv;
                            float* vRow = vBase + (long)j * l.KeyValueRowStride;
                            for (int e = 0; e < d; e++)
                            {
                                oRow[e] = MathF.FusedMultiplyAdd(p, vRow[e], oRow[e]);
                            }
                        }
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
