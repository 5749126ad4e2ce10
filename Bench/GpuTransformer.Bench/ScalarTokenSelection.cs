using GpuTransformer.Kernels;
using GpuTransformer.Kernels.Cpu;

namespace GpuTransformer.Bench;

/// <summary>
/// The baseline for <see cref="RowOpBenchmarks"/>: <see cref="CpuTokenSelection"/> as it was before it was vectorised
/// (commit f02e85c): scalar max, exp-sum in double with <see cref="MathF.Exp"/>, and a top-k that tests every score
/// against the current K-th best. Rows are split over <see cref="CpuParallel"/> as there.
/// </summary>
internal static class ScalarTokenSelection
{
    /// <summary>See <see cref="CpuTokenSelection.Select"/>.</summary>
    /// <param name="logits">[rows, vocab]; overwritten with the processed scores.</param>
    /// <param name="rows">Rows.</param>
    /// <param name="vocab">Scores per row.</param>
    /// <param name="options">K, log-softmax, penalty.</param>
    /// <param name="editOffsets">rows + 1 offsets (in pairs) or empty.</param>
    /// <param name="edits">(token, kind) pairs.</param>
    /// <param name="rowOffsets">Added before ranking; or empty.</param>
    /// <param name="scores">[rows, K] output scores.</param>
    /// <param name="ids">[rows, K] output ids.</param>
    /// <param name="logSumExp">[rows] output logsumexp.</param>
    public static unsafe void Select(Span<float> logits, int rows, int vocab, in TokenSelectionOptions options, ReadOnlySpan<int> editOffsets, ReadOnlySpan<int> edits, ReadOnlySpan<float> rowOffsets, Span<float> scores, Span<int> ids, Span<float> logSumExp)
    {
        // Checked before the rows are split over threads, so a bad edit is this exception and not an AggregateException.
        if (!editOffsets.IsEmpty)
        {
            for (int e = editOffsets[0]; e < editOffsets[rows]; e++)
            {
                int token = edits[2 * e];
                if ((uint)token >= (uint)vocab)
                {
                    throw new ArgumentOutOfRangeException(nameof(edits), token, $"edit of token {token} outside the vocabulary of {vocab}");
                }
            }
        }

        // Rows are independent and each one is computed exactly as on one thread, so results do not depend on threads.
        fixed (float* pl = logits, pr = rowOffsets, ps = scores, pz = logSumExp)
        fixed (int* po = editOffsets, pe = edits, pi = ids)
        {
            var job = new Job
            {
                Logits = pl, Vocab = vocab, Options = options, EditOffsets = editOffsets.IsEmpty ? null : po, Edits = pe, EditsLength = edits.Length,
                RowOffsets = rowOffsets.IsEmpty ? null : pr, Scores = ps, Ids = pi, LogSumExp = pz,
            };
            if (rows == 1 || (long)rows * vocab < 65_536)
            {
                for (int r = 0; r < rows; r++)
                {
                    job.Run(r);
                }
            }
            else
            {
                CpuParallel.For(rows, &RunJob, &job);
            }
        }
    }

    private static unsafe void RunJob(int row, void* state) => ((Job*)state)->Run(row);

    private static void Row(int r, Span<float> logits, int vocab, in TokenSelectionOptions options, ReadOnlySpan<int> editOffsets, ReadOnlySpan<int> edits, ReadOnlySpan<float> rowOffsets, Span<float> scores, Span<int> ids, Span<float> logSumExp)
    {
        int k = options.K;
        var row = logits.Slice(r * vocab, vocab);
        if (options.LogSoftmaxFirst)
        {
            ScalarLogSoftmax(row);
        }

        if (!editOffsets.IsEmpty)
        {
            bool forced = false;
            for (int e = editOffsets[r]; e < editOffsets[r + 1]; e++)
            {
                int token = edits[2 * e];
                if ((uint)token >= (uint)vocab)
                {
                    throw new ArgumentOutOfRangeException(nameof(edits), token, $"edit of token {token} outside the vocabulary of {vocab}");
                }

                switch ((TokenEditKind)edits[2 * e + 1])
                {
                    case TokenEditKind.Ban:
                        row[token] = float.NegativeInfinity;
                        break;
                    case TokenEditKind.Penalty:
                        float s = row[token];
                        row[token] = s < 0 ? s * options.RepetitionPenalty : s / options.RepetitionPenalty;
                        break;
                    default:
                        if (!forced)
                        {
                            row.Fill(float.NegativeInfinity);
                            forced = true;
                        }

                        row[token] = 0f;
                        break;
                }
            }
        }

        logSumExp[r] = LogSumExp(row);
        TopK(row, rowOffsets.IsEmpty ? 0f : rowOffsets[r], scores.Slice(r * k, k), ids.Slice(r * k, k));
    }

    private unsafe struct Job
    {
        public float* Logits;
        public int Vocab;
        public TokenSelectionOptions Options;
        public int* EditOffsets;
        public int* Edits;
        public int EditsLength;
        public float* RowOffsets;
        public float* Scores;
        public int* Ids;
        public float* LogSumExp;

        public readonly void Run(int r)
        {
            int k = Options.K;
            Row(
                0,
                new Span<float>(Logits + (long)r * Vocab, Vocab),
                Vocab,
                Options,
                EditOffsets == null ? default : new ReadOnlySpan<int>(EditOffsets + r, 2),
                new ReadOnlySpan<int>(Edits, EditsLength),
                RowOffsets == null ? default : new ReadOnlySpan<float>(RowOffsets + r, 1),
                new Span<float>(Scores + (long)r * k, k),
                new Span<int>(Ids + (long)r * k, k),
                new Span<float>(LogSumExp + r, 1));
        }
    }

    /// <summary>logsumexp with a double sum, as the CPU scores of earlier versions were computed.</summary>
    private static float LogSumExp(ReadOnlySpan<float> row)
    {
        float max = float.NegativeInfinity;
        foreach (float v in row)
        {
            max = MathF.Max(max, v);
        }

        if (float.IsNegativeInfinity(max))
        {
            return max;
        }

        double sum = 0;
        foreach (float v in row)
        {
            sum += MathF.Exp(v - max);
        }

        return max + (float)Math.Log(sum);
    }

    /// <summary>The scores.Length largest <c>values[i] + offset</c>, best first; equal values keep the lower index first.</summary>
    private static void TopK(ReadOnlySpan<float> values, float offset, Span<float> scores, Span<int> indices)
    {
        int k = scores.Length, count = 0;
        for (int i = 0; i < values.Length; i++)
        {
            float v = values[i] + offset;
            if (count == k && !(v > scores[k - 1]))
            {
                continue;
            }

            int pos = count < k ? count++ : k - 1;
            while (pos > 0 && v > scores[pos - 1])
            {
                scores[pos] = scores[pos - 1];
                indices[pos] = indices[pos - 1];
                pos--;
            }

            scores[pos] = v;
            indices[pos] = i;
        }
    }

    /// <summary>The log-softmax <see cref="CpuSoftmax"/> computed before it was vectorised.</summary>
    private static void ScalarLogSoftmax(Span<float> x)
    {
        float max = float.NegativeInfinity;
        foreach (float v in x)
        {
            max = MathF.Max(max, v);
        }

        double sum = 0;
        foreach (float v in x)
        {
            sum += MathF.Exp(v - max);
        }

        float logSum = (float)Math.Log(sum);
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (x[i] - max) - logSum;
        }
    }
}
