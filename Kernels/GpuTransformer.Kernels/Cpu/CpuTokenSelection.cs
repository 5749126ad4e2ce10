using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GpuTransformer.Kernels.Cpu;

/// <summary>The CPU implementation of <see cref="TokenSelection.Select"/>: one pass for the log-softmax, one for the top K and logsumexp.</summary>
public static class CpuTokenSelection
{
    /// <summary>See <see cref="TokenSelection.Select"/>.</summary>
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
            CpuSoftmax.LogSoftmax(row, row);
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
        float max = CpuRowReductions.Max(row);
        if (float.IsNegativeInfinity(max))
        {
            return max;
        }

        double sum;
        if (float.IsFinite(max))
        {
            sum = CpuRowReductions.SumExp(row, max);
        }
        else
        {
            // +inf or NaN: the scalar sum gives the NaN it always gave.
            sum = 0;
            foreach (float v in row)
            {
                sum += MathF.Exp(v - max);
            }
        }

        return max + (float)Math.Log(sum);
    }

    /// <summary>
    /// The scores.Length largest <c>values[i] + offset</c>, best first; equal values keep the lower index first.
    /// Once K candidates are held, 16 scores (8 without AVX-512) at a time are compared with the K-th best and a block with none above it
    /// is skipped: nearly all of a vocabulary is rejected without leaving the vector registers. The lanes above it
    /// are inserted in index order by the scalar rule, so the result is exactly the scalar scan's.
    /// </summary>
    private static void TopK(ReadOnlySpan<float> values, float offset, Span<float> scores, Span<int> indices)
    {
        int k = scores.Length, count = 0, i = 0, n = values.Length;
        if (k == 0)
        {
            return;
        }

        for (; i < n && count < k; i++)
        {
            Insert(values[i] + offset, i, ref count, scores, indices);
        }

        if (Vector512.IsHardwareAccelerated)
        {
            ref float p = ref MemoryMarshal.GetReference(values);
            var voffset = Vector512.Create(offset);
            for (; i <= n - 16; i += 16)
            {
                var v = Vector512.LoadUnsafe(ref p, (nuint)i) + voffset;
                ulong mask = Vector512.GreaterThan(v, Vector512.Create(scores[k - 1])).ExtractMostSignificantBits();
                while (mask != 0)
                {
                    int lane = BitOperations.TrailingZeroCount(mask);
                    mask &= mask - 1;
                    Insert(v[lane], i + lane, ref count, scores, indices);
                }
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            // The same scan 8 scores at a time, for processors without AVX-512.
            ref float p = ref MemoryMarshal.GetReference(values);
            var voffset = Vector256.Create(offset);
            for (; i <= n - 8; i += 8)
            {
                var v = Vector256.LoadUnsafe(ref p, (nuint)i) + voffset;
                uint mask = Vector256.GreaterThan(v, Vector256.Create(scores[k - 1])).ExtractMostSignificantBits();
                while (mask != 0)
                {
                    int lane = BitOperations.TrailingZeroCount(mask);
                    mask &= mask - 1;
                    Insert(v[lane], i + lane, ref count, scores, indices);
                }
            }
        }

        for (; i < n; i++)
        {
            Insert(values[i] + offset, i, ref count, scores, indices);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Insert(float v, int index, ref int count, Span<float> scores, Span<int> indices)
    {
        int k = scores.Length;
        if (count == k && !(v > scores[k - 1]))
        {
            return;
        }

        int pos = count < k ? count++ : k - 1;
        while (pos > 0 && v > scores[pos - 1])
        {
            scores[pos] = scores[pos - 1];
            indices[pos] = indices[pos - 1];
            pos--;
        }

        scores[pos] = v;
        indices[pos] = index;
    }
}
