using GpuTransformer.Kernels.Cpu;
using GpuTransformer.Runtime;

namespace GpuTransformer.Kernels;

/// <summary>
/// One decoding step's choice of candidates, done where the logits are so that only a few ids and scores per row
/// travel back to the host. For each row: scores <c>s</c> are the logits, or (beam search) their log-softmax; the
/// row's edits apply in order (repetition penalties, bans, then forced tokens, which make every other score negative
/// infinity and their own 0: HF's logits processors, computed on the host from the sequences); then the
/// <see cref="TokenSelectionOptions.K"/> largest <c>s + rowOffset</c> are written best first (equal values: lower id
/// first, as <c>torch.topk</c> on the CPU), with the row's <c>logsumexp(s)</c>.
/// </summary>
public static class TokenSelection
{
    /// <summary>Selects the candidates of every row; <paramref name="logits"/> is overwritten with the processed scores.</summary>
    /// <param name="accelerator">Where the operands live.</param>
    /// <param name="logits">[rows, vocab] logits; overwritten.</param>
    /// <param name="rows">Rows.</param>
    /// <param name="vocab">Scores per row.</param>
    /// <param name="options">K, log-softmax, repetition penalty.</param>
    /// <param name="editOffsets">rows + 1 offsets into <paramref name="edits"/> (in pairs), or empty for no edits.</param>
    /// <param name="edits">Pairs (token, <see cref="TokenEditKind"/>), row by row.</param>
    /// <param name="rowOffsets">Per row a value added before ranking (the beam's running score), or empty for 0.</param>
    /// <param name="scores">[rows, K] best scores, best first.</param>
    /// <param name="ids">[rows, K] their token ids.</param>
    /// <param name="logSumExp">[rows] logsumexp of each row's processed scores (without the offset).</param>
    /// <exception cref="ArgumentException">A view is too short or on another accelerator, or K is out of range.</exception>
    public static void Select(
        Accelerator accelerator,
        ArrayView<float> logits,
        int rows,
        int vocab,
        in TokenSelectionOptions options,
        ArrayView<int> editOffsets,
        ArrayView<int> edits,
        ArrayView<float> rowOffsets,
        ArrayView<float> scores,
        ArrayView<int> ids,
        ArrayView<float> logSumExp)
    {
        const string op = "TokenSelection.Select";
        ArgumentNullException.ThrowIfNull(accelerator);
        OpChecks.NonNegative(rows, op, nameof(rows));
        ArgumentOutOfRangeException.ThrowIfLessThan(vocab, 1);
        if (options.K < 1 || options.K > Math.Min(vocab, MaxK))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.K, $"{op}: K must be between 1 and min(vocab, {MaxK})");
        }

        OpChecks.View(accelerator, logits, (long)rows * vocab, op, nameof(logits));
        OpChecks.Optional(accelerator, editOffsets, rows + 1, op, nameof(editOffsets));
        OpChecks.Optional(accelerator, rowOffsets, rows, op, nameof(rowOffsets));
        OpChecks.View(accelerator, scores, (long)rows * options.K, op, nameof(scores));
        OpChecks.View(accelerator, ids, (long)rows * options.K, op, nameof(ids));
        OpChecks.View(accelerator, logSumExp, rows, op, nameof(logSumExp));
        if (rows == 0)
        {
            return;
        }

        switch (accelerator.Kind)
        {
            case AcceleratorKind.Cpu:
                CpuTokenSelection.Select(logits.AsSpan(), rows, vocab, options, editOffsets.AsSpan(), edits.AsSpan(), rowOffsets.AsSpan(), scores.AsSpan(), ids.AsSpan(), logSumExp.AsSpan());
                break;
            default:
                Device.TokenSelectionKernels.Select(accelerator, logits, rows, vocab, options, editOffsets, edits, rowOffsets, scores, ids, logSumExp);
                break;
        }
    }

    /// <summary>The largest K the device kernels support (beam search keeps 2 × beams candidates per row).</summary>
    public const int MaxK = 64;
}
