using BenchmarkDotNet.Attributes;
using GpuTransformer.Kernels;
using GpuTransformer.Kernels.Cpu;

namespace GpuTransformer.Bench;

/// <summary>
/// CPU attention at the Marian-base shapes (8 heads of 64): a decoding step's self-attention over a KV cache of 32
/// tokens and its cross-attention over 35 source tokens shared by 4 beams (batch 32 × beams 4 = 128 rows), the encoder's
/// self-attention over a batch of 32 sentences of 35 tokens, and one long input of 512 tokens. Ours against the
/// previous implementation (<see cref="ScalarAttention"/>) in the same run.
/// </summary>
[MemoryDiagnoser]
public class AttentionBenchmarks
{
    private const int Heads = 8;
    private const int HeadDim = 64;
    private const int Width = Heads * HeadDim;
    private float[] q = [], k = [], v = [], output = [];
    private AttentionLayout layout;

    /// <summary>The shape: "decode-self", "decode-cross", "encoder" or "long".</summary>
    [Params("decode-self", "decode-cross", "encoder", "long")]
    public string Case { get; set; } = "decode-self";

    /// <summary>Floating-point operations per invocation: q·kᵀ and p·v, 2 per multiply-add.</summary>
    public double Flops
    {
        get
        {
            var (batch, queries, keys, _, _) = Shape(Case);
            return 4.0 * batch * Heads * queries * keys * HeadDim;
        }
    }

    /// <summary>Builds the layout and fills the operands.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var (batch, queries, keys, capacity, group) = Shape(Case);
        layout = new AttentionLayout
        {
            Batch = batch, Heads = Heads, HeadDim = HeadDim, QueryLength = queries, KeyLength = keys,
            QueryRowStride = Width, QueryBatchStride = (long)queries * Width,
            KeyValueRowStride = Width, KeyValueBatchStride = (long)capacity * Width, KeyValueGroup = group,
            Scale = 0.125f,
        };
        var random = new Random(5);
        float[] Fill(long n) => Enumerable.Range(0, (int)n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        q = Fill(layout.QueryElements);
        k = Fill(layout.KeyValueElements);
        v = Fill(layout.KeyValueElements);
        output = new float[layout.QueryElements];
    }

    // (sequences, queries, keys, cache rows per sequence, sequences sharing one key/value sequence)
    private static (int Batch, int Queries, int Keys, int Capacity, int Group) Shape(string name) => name switch
    {
        "decode-self" => (128, 1, 32, 64, 1),
        "decode-cross" => (128, 1, 35, 35, 4),
        "encoder" => (32, 35, 35, 35, 1),
        "long" => (1, 512, 512, 512, 1),
        _ => throw new ArgumentException($"unknown case {name}", nameof(name)),
    };

    /// <summary>The baseline: the implementation before vectorising exp and the weighted sum of the values.</summary>
    [Benchmark(Baseline = true)]
    public void Scalar() => ScalarAttention.Attend(q, k, v, output, layout);

    /// <summary>Ours: the cpu backend's attention.</summary>
    [Benchmark]
    public void Vectorised() => CpuAttention.Attend(q, k, v, output, layout);
}
