using BenchmarkDotNet.Attributes;
using GpuTransformer.Kernels;
using GpuTransformer.Kernels.Cpu;

namespace GpuTransformer.Bench;

/// <summary>
/// The row ops around the GEMMs: residual add + LayerNorm over d_model 512, and the decoding step's log-softmax +
/// top-k over a 58101-word vocabulary (beam search keeps 2 × beams candidates per row).
/// </summary>
[MemoryDiagnoser]
public class RowOpBenchmarks
{
    private const int Width = 512;
    private const int Vocab = 58101;
    private float[] x = [], residual = [], gamma = [], beta = [], normalized = [];
    private float[] logitsSource = [], logits = [], scores = [], logSumExp = [];
    private int[] ids = [];

    /// <summary>Rows (tokens for LayerNorm, batch × beams for token selection).</summary>
    [Params(1, 32, 128)]
    public int Rows { get; set; }

    /// <summary>Bytes an add + LayerNorm must move: read x and the residual, write the result.</summary>
    public double AddLayerNormBytes => 3.0 * Rows * Width * sizeof(float);

    /// <summary>Bytes a token selection must move at least: the copy of the logits (read and write), then one read and one write of the log-softmax.</summary>
    public double LogSoftmaxTopKBytes => 4.0 * Rows * Vocab * sizeof(float);

    /// <summary>As <see cref="LogSoftmaxTopKBytes"/>, for the baseline.</summary>
    public double LogSoftmaxTopKScalarBytes => LogSoftmaxTopKBytes;

    /// <summary>Fills the operands.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(3);
        float Next() => (float)(random.NextDouble() * 2 - 1);
        x = Enumerable.Range(0, Rows * Width).Select(_ => Next()).ToArray();
        residual = Enumerable.Range(0, Rows * Width).Select(_ => Next()).ToArray();
        gamma = Enumerable.Range(0, Width).Select(_ => 1 + (0.1f * Next())).ToArray();
        beta = Enumerable.Range(0, Width).Select(_ => 0.1f * Next()).ToArray();
        normalized = new float[Rows * Width];
        logitsSource = Enumerable.Range(0, Rows * Vocab).Select(_ => 8 * Next()).ToArray();
        logits = new float[Rows * Vocab];
        scores = new float[Rows * 8];
        ids = new int[Rows * 8];
        logSumExp = new float[Rows];
    }

    /// <summary>Bytes, as <see cref="AddLayerNormBytes"/>, for the baseline.</summary>
    public double AddLayerNormScalarBytes => AddLayerNormBytes;

    /// <summary>The LayerNorm baseline: scalar double sums (commit b4623f7).</summary>
    [Benchmark]
    public void AddLayerNormScalar() => ScalarLayerNorm.AddAndNormalize(x, residual, gamma, beta, normalized, Rows, Width, 1e-5f);

    /// <summary>Residual add + LayerNorm.</summary>
    [Benchmark]
    public void AddLayerNorm() => CpuLayerNorm.AddAndNormalize(x, residual, gamma, beta, normalized, Rows, Width, 1e-5f);

    /// <summary>The baseline: the scalar log-softmax + top 8 of commit f02e85c, same copy, same threads.</summary>
    [Benchmark(Baseline = true)]
    public void LogSoftmaxTopKScalar()
    {
        logitsSource.CopyTo(logits, 0);
        ScalarTokenSelection.Select(logits, Rows, Vocab, new TokenSelectionOptions(8, true, 1f), [], [], [], scores, ids, logSumExp);
    }

    /// <summary>Log-softmax + top 8 (beam 4) per row; the copy of the logits (the op overwrites them) is included.</summary>
    [Benchmark]
    public void LogSoftmaxTopK()
    {
        logitsSource.CopyTo(logits, 0);
        CpuTokenSelection.Select(logits, Rows, Vocab, new TokenSelectionOptions(8, true, 1f), [], [], [], scores, ids, logSumExp);
    }
}
