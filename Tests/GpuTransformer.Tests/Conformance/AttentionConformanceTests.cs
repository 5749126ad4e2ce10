using GpuTransformer.Kernels;
using Xunit;

namespace GpuTransformer.Tests.Conformance;

/// <summary><see cref="Attention.Attend"/> on every backend against the double reference: masks, strides, shared keys, bias.</summary>
public sealed class AttentionConformanceTests
{
    private static readonly Dictionary<string, AttentionCase> Cases = Build();

    /// <summary>Every case on every backend.</summary>
    public static TheoryData<string, string> Rows() => ConformanceBackends.Rows(Cases.Keys);

    /// <summary>The output matches the reference and nothing outside the query rows' head slices is written.</summary>
    [Theory]
    [MemberData(nameof(Rows))]
    public void MatchesReference(string name, string device)
    {
        var c = Cases[name];
        var l = c.Layout;
        int seed = RandomData.Seed(name);
        var q = RandomData.Uniform(seed, (int)l.QueryElements);
        var k = RandomData.Uniform(seed + 1, (int)l.KeyValueElements);
        var v = RandomData.Uniform(seed + 2, (int)l.KeyValueElements);
        var bias = c.Bias ? RandomData.Uniform(seed + 3, (int)l.BiasElements, 2f) : [];
        var outInitial = RandomData.Uniform(seed + 4, (int)l.QueryElements, 50f);
        var expected = Reference(l, q, k, v, c.Lengths, bias, outInitial);

        using var accelerator = ConformanceBackends.Open(device);
        using var qb = new GuardedBuffer<float>(accelerator, q.Length, 9999f, q);
        using var kb = new GuardedBuffer<float>(accelerator, k.Length, 9999f, k);
        using var vb = new GuardedBuffer<float>(accelerator, v.Length, 9999f, v);
        using var ob = new GuardedBuffer<float>(accelerator, outInitial.Length, 9999f, outInitial);
        using var lb = new GuardedBuffer<int>(accelerator, c.Lengths.Length, -5, c.Lengths);
        using var bb = new GuardedBuffer<float>(accelerator, bias.Length, 9999f, bias);
        Attention.Attend(accelerator, qb.View, kb.View, vb.View, ob.View, l, c.Lengths.Length > 0 ? lb.View : default, c.Bias ? bb.View : default);
        Compare.Close(expected, ob.ReadChecked($"{name} on {device}"), 1e-5, 1e-5, $"{name} on {device}");
    }

    private static double[] Reference(AttentionLayout l, float[] q, float[] k, float[] v, int[] lengths, float[] bias, float[] initial)
    {
        var output = initial.Select(x => (double)x).ToArray();
        for (int b = 0; b < l.Batch; b++)
        {
            int kvb = b / l.KeyValueGroup;
            int valid = lengths.Length > 0 ? Math.Clamp(lengths[kvb], 0, l.KeyLength) : l.KeyLength;
            for (int h = 0; h < l.Heads; h++)
            {
                for (int i = 0; i < l.QueryLength; i++)
                {
                    int visible = l.Causal ? Math.Min(valid, l.CausalOffset + i + 1) : valid;
                    long qRow = b * l.QueryBatchStride + (long)i * l.QueryRowStride + h * l.HeadDim;
                    var scores = new double[visible];
                    for (int j = 0; j < visible; j++)
                    {
                        long kRow = kvb * l.KeyValueBatchStride + (long)j * l.KeyValueRowStride + h * l.HeadDim;
                        double s = 0;
                        for (int e = 0; e < l.HeadDim; e++)
                        {
                            s += (double)q[qRow + e] * l.Scale * k[kRow + e];
                        }

                        scores[j] = s + (bias.Length > 0 ? bias[h * l.BiasHeadStride + (long)(l.BiasRowOffset + i) * l.BiasRowStride + j] : 0);
                    }

                    double lse = ReferenceOps.LogSumExp(scores);
                    for (int e = 0; e < l.HeadDim; e++)
                    {
                        double sum = 0;
                        for (int j = 0; j < visible; j++)
                        {
                            sum += Math.Exp(scores[j] - lse) * v[kvb * l.KeyValueBatchStride + (long)j * l.KeyValueRowStride + h * l.HeadDim + e];
                        }

                        output[qRow + e] = sum;
                    }
                }
            }
        }

        return output;
    }

    private static Dictionary<string, AttentionCase> Build()
    {
        var cases = new Dictionary<string, AttentionCase>();
        void Add(string prefix, int batch, int heads, int headDim, int queries, int keys, bool causal = false, int offset = 0, int[]? lengths = null, int group = 1, bool bias = false, int qPad = 0, int capacity = 0)
        {
            int inner = heads * headDim;
            int kvRows = Math.Max(keys, capacity);
            var layout = new AttentionLayout
            {
                Batch = batch,
                Heads = heads,
                HeadDim = headDim,
                QueryLength = queries,
                KeyLength = keys,
                QueryRowStride = inner + qPad,
                QueryBatchStride = (long)queries * (inner + qPad),
                KeyValueRowStride = inner,
                KeyValueBatchStride = (long)kvRows * inner,
                KeyValueGroup = group,
                Causal = causal,
                CausalOffset = offset,
                Scale = 1f / MathF.Sqrt(headDim),
            };
            if (bias)
            {
                // As the decoder's T5 bias: one [heads, positions, positions] table read from row `offset` on.
                int positions = offset + queries;
                layout = layout with { BiasHeadStride = (long)positions * keys, BiasRowStride = keys, BiasRowOffset = offset };
            }

            string name = $"{prefix} b{batch} h{heads}x{headDim} q{queries} k{keys}{(causal ? $" causal@{offset}" : "")}{(lengths is null ? "" : " lengths " + string.Join('/', lengths))}{(group > 1 ? $" group{group}" : "")}{(bias ? " bias" : "")}{(qPad > 0 ? " strided" : "")}";
            cases[name] = new AttentionCase(layout, lengths ?? [], bias);
        }

        Add("small", 1, 1, 1, 1, 1);
        Add("small", 2, 2, 3, 1, 5, lengths: [5, 2]);
        Add("small", 1, 2, 4, 3, 3, causal: true);
        Add("small", 2, 1, 5, 1, 4, causal: true, offset: 3, capacity: 9);
        Add("small", 4, 2, 4, 1, 6, lengths: [6, 1], group: 2);
        Add("small", 1, 2, 4, 2, 5, causal: true, offset: 3, bias: true);
        Add("small", 2, 1, 4, 2, 3, lengths: [0, 3]);
        Add("decode", 12, 4, 16, 1, 53, lengths: [53, 20, 7], group: 4);
        Add("decode", 6, 8, 64, 1, 24, causal: true, offset: 23, capacity: 40, qPad: 64);
        Add("decode", 3, 3, 33, 2, 19, causal: true, offset: 17, bias: true);
        Add("decode", 1, 1, 8, 1, 2100);
        Add("prefill", 2, 4, 16, 53, 53, lengths: [53, 31]);
        Add("prefill", 1, 2, 64, 40, 40, causal: true);
        Add("prefill", 2, 3, 20, 33, 70, lengths: [70, 1], qPad: 9);
        Add("prefill", 1, 4, 16, 30, 30, causal: true, bias: true);
        Add("prefill", 2, 2, 128, 17, 65, causal: true, offset: 48);
        return cases;
    }

    private sealed record AttentionCase(AttentionLayout Layout, int[] Lengths, bool Bias);
}
