using GpuTransformer.Kernels;
using GpuTransformer.Model.Architectures;
using GpuTransformer.Runtime;

namespace GpuTransformer.Model.Generation;

/// <summary>
/// Turns one decoding step's logits (on the device) into each row's best candidates (on the host): the host writes
/// the rows' logits-processor edits, the device applies them and ranks the vocabulary with
/// <see cref="TokenSelection"/>, and only K ids and scores per row come back. Buffers are sized once per generate
/// call, so a step allocates nothing.
/// </summary>
internal sealed class StepSelector : IDisposable
{
    private readonly Accelerator accelerator;
    private readonly GenerationSettings settings;
    private readonly int rows;
    private readonly int vocab;
    private readonly int maxEdits;
    private readonly TokenSelectionOptions options;
    private readonly int[] hostOffsets;
    private readonly int[] hostEdits;
    private readonly MemoryBuffer<int> offsets;
    private readonly MemoryBuffer<int> edits;
    private readonly MemoryBuffer<float> rowOffsets;
    private readonly MemoryBuffer<float> scores;
    private readonly MemoryBuffer<int> ids;
    private readonly MemoryBuffer<float> logSumExp;

    public StepSelector(Accelerator accelerator, GenerationSettings settings, int rows, int vocab, int k, bool logSoftmaxFirst)
    {
        this.accelerator = accelerator;
        this.settings = settings;
        this.rows = rows;
        this.vocab = vocab;
        K = k;
        options = new TokenSelectionOptions(k, logSoftmaxFirst, settings.RepetitionPenalty);
        maxEdits = LogitsProcessing.MaxEditsPerRow(settings);
        hostOffsets = new int[rows + 1];
        hostEdits = new int[2 * rows * maxEdits];
        Scores = new float[rows * k];
        Ids = new int[rows * k];
        LogSumExp = new float[rows];
        offsets = accelerator.Allocate<int>(rows + 1);
        edits = accelerator.Allocate<int>(hostEdits.Length);
        rowOffsets = accelerator.Allocate<float>(rows);
        scores = accelerator.Allocate<float>(rows * k);
        ids = accelerator.Allocate<int>(rows * k);
        logSumExp = accelerator.Allocate<float>(rows);
    }

    /// <summary>Candidates per row.</summary>
    public int K { get; }

    /// <summary>[rows, K] scores of the last step, best first per row (processed score plus the row offset).</summary>
    public float[] Scores { get; }

    /// <summary>[rows, K] token ids of the last step.</summary>
    public int[] Ids { get; }

    /// <summary>[rows] logsumexp of each row's processed scores.</summary>
    public float[] LogSumExp { get; }

    /// <summary>Selects the candidates of every row from <paramref name="logits"/>.</summary>
    /// <param name="logits">[rows, vocab] logits of the step; overwritten.</param>
    /// <param name="sequences">Row-major sequences, <paramref name="stride"/> apart.</param>
    /// <param name="stride">Elements between the rows of <paramref name="sequences"/>.</param>
    /// <param name="length">Tokens so far per row, decoder start included.</param>
    /// <param name="beamScores">Each row's running score to add, or empty.</param>
    public void Select(ArrayView<float> logits, ReadOnlySpan<int> sequences, int stride, int length, ReadOnlySpan<float> beamScores)
    {
        int pairs = 0;
        for (int r = 0; r < rows; r++)
        {
            hostOffsets[r] = pairs;
            pairs += LogitsProcessing.WriteEdits(settings, sequences.Slice(r * stride, length), hostEdits.AsSpan(2 * pairs, 2 * maxEdits));
        }

        hostOffsets[rows] = pairs;
        offsets.CopyFrom(hostOffsets);
        if (pairs > 0)
        {
            edits.CopyFrom(hostEdits.AsSpan(0, 2 * pairs));
        }

        if (!beamScores.IsEmpty)
        {
            rowOffsets.CopyFrom(beamScores);
        }

        TokenSelection.Select(
            accelerator,
            logits,
            rows,
            vocab,
            options,
            pairs > 0 ? offsets.View : default,
            edits.View,
            beamScores.IsEmpty ? default : rowOffsets.View,
            scores.View,
            ids.View,
            logSumExp.View);
        scores.CopyTo(Scores);
        ids.CopyTo(Ids);
        logSumExp.CopyTo(LogSumExp);
    }

    public void Dispose()
    {
        offsets.Dispose();
        edits.Dispose();
        rowOffsets.Dispose();
        scores.Dispose();
        ids.Dispose();
        logSumExp.Dispose();
    }
}
