namespace GpuTransformer.Tokenizer;

/// <summary>
/// A right-padded batch of token ids, laid out row-major as <c>[BatchSize, SequenceLength]</c> the way Hugging Face
/// returns <c>input_ids</c> and <c>attention_mask</c> with <c>padding=True</c>.
/// </summary>
public sealed class EncodedBatch
{
    /// <summary>Creates a batch; the arrays are used as given, not copied.</summary>
    /// <param name="inputIds">Ids, <paramref name="batchSize"/> × <paramref name="sequenceLength"/>, row-major.</param>
    /// <param name="attentionMask">1 for real tokens, 0 for padding; same layout as <paramref name="inputIds"/>.</param>
    /// <param name="lengths">Number of real tokens in each row.</param>
    /// <param name="truncated">Whether each row was cut to the maximum length.</param>
    /// <param name="batchSize">Number of rows.</param>
    /// <param name="sequenceLength">Length of every row after padding.</param>
    /// <exception cref="ArgumentException">The array sizes do not match the shape.</exception>
    public EncodedBatch(int[] inputIds, int[] attentionMask, int[] lengths, bool[] truncated, int batchSize, int sequenceLength)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        ArgumentNullException.ThrowIfNull(attentionMask);
        ArgumentNullException.ThrowIfNull(lengths);
        ArgumentNullException.ThrowIfNull(truncated);
        ArgumentOutOfRangeException.ThrowIfNegative(batchSize);
        ArgumentOutOfRangeException.ThrowIfNegative(sequenceLength);
        long size = (long)batchSize * sequenceLength;
        if (inputIds.Length != size || attentionMask.Length != size || lengths.Length != batchSize || truncated.Length != batchSize)
        {
            throw new ArgumentException($"Array sizes do not match a batch of {batchSize} rows of {sequenceLength} tokens.");
        }

        InputIds = inputIds;
        AttentionMask = attentionMask;
        Lengths = lengths;
        Truncated = truncated;
        BatchSize = batchSize;
        SequenceLength = sequenceLength;
    }

    /// <summary>Token ids, row-major <c>[BatchSize, SequenceLength]</c>, padded on the right with the pad id.</summary>
    public int[] InputIds { get; }

    /// <summary>1 where <see cref="InputIds"/> holds a real token, 0 at padding.</summary>
    public int[] AttentionMask { get; }

    /// <summary>Number of real tokens (including <c>&lt;/s&gt;</c>) in each row.</summary>
    public int[] Lengths { get; }

    /// <summary>Whether each row was truncated to the maximum length (callers may want to warn).</summary>
    public bool[] Truncated { get; }

    /// <summary>Number of rows.</summary>
    public int BatchSize { get; }

    /// <summary>Length of every row: the longest row's length.</summary>
    public int SequenceLength { get; }

    /// <summary>Whether any row was truncated.</summary>
    public bool AnyTruncated => Array.IndexOf(Truncated, true) >= 0;

    /// <summary>The ids of one row, padding included.</summary>
    /// <param name="row">Row index.</param>
    /// <returns>A view of the row.</returns>
    public ReadOnlySpan<int> Row(int row)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, BatchSize);
        return InputIds.AsSpan(row * SequenceLength, SequenceLength);
    }
}
