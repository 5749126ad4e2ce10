using GpuTransformer.Kernels;

namespace GpuTransformer.Model.Generation;

/// <summary>
/// HF's logits processors as edits of one row's scores, in the order <c>_get_logits_processor</c> of transformers
/// 4.43 builds them: repetition penalty, no-repeat n-gram, bad words, min length, forced BOS, forced EOS. They depend
/// only on the row's sequence, which the host has, so the host computes them and the device applies them with
/// <see cref="TokenSelection"/> where the logits are.
/// </summary>
internal static class LogitsProcessing
{
    /// <summary>The most edits one row can get in one step under <paramref name="settings"/>.</summary>
    public static int MaxEditsPerRow(GenerationSettings settings) =>
        (settings.RepetitionPenalty != 1f ? settings.MaxLength : 0)
        + (settings.NoRepeatNgramSize > 0 ? settings.MaxLength : 0)
        + settings.BadWordsIds.Length
        + settings.EosTokenIds.Length
        + Math.Max(1, settings.ForcedEosTokenIds.Length);

    /// <summary>Writes the row's edits as (token, <see cref="TokenEditKind"/>) pairs.</summary>
    /// <param name="settings">The resolved generation settings.</param>
    /// <param name="sequence">The row's decoder sequence so far, decoder start token included.</param>
    /// <param name="destination">Room for <see cref="MaxEditsPerRow"/> pairs.</param>
    /// <returns>Pairs written.</returns>
    public static int WriteEdits(GenerationSettings settings, ReadOnlySpan<int> sequence, Span<int> destination)
    {
        int count = 0;
        int curLen = sequence.Length;
        if (settings.RepetitionPenalty != 1f)
        {
            for (int i = 0; i < curLen; i++)
            {
                // HF gathers the original scores of all tokens first, so a repeated token is penalised once.
                if (sequence[..i].IndexOf(sequence[i]) < 0)
                {
                    Add(destination, ref count, sequence[i], TokenEditKind.Penalty);
                }
            }
        }

        if (settings.NoRepeatNgramSize > 0)
        {
            BanRepeatedNgrams(settings.NoRepeatNgramSize, sequence, destination, ref count);
        }

        foreach (int[] bad in settings.BadWordsIds)
        {
            if (bad.Length == 1 || sequence.EndsWith(bad.AsSpan(0, bad.Length - 1)))
            {
                Add(destination, ref count, bad[^1], TokenEditKind.Ban);
            }
        }

        if (curLen < settings.MinLength)
        {
            foreach (int eos in settings.EosTokenIds)
            {
                Add(destination, ref count, eos, TokenEditKind.Ban);
            }
        }

        // Forced EOS runs after forced BOS in HF, so when both apply EOS wins.
        if (settings.ForcedEosTokenIds.Length > 0 && curLen == settings.MaxLength - 1)
        {
            foreach (int eos in settings.ForcedEosTokenIds)
            {
                Add(destination, ref count, eos, TokenEditKind.Force);
            }
        }
        else if (settings.ForcedBosTokenId is int bos && curLen == 1)
        {
            Add(destination, ref count, bos, TokenEditKind.Force);
        }

        return count;
    }

    private static void Add(Span<int> destination, ref int count, int token, TokenEditKind kind)
    {
        destination[2 * count] = token;
        destination[2 * count + 1] = (int)kind;
        count++;
    }

    private static void BanRepeatedNgrams(int n, ReadOnlySpan<int> sequence, Span<int> destination, ref int count)
    {
        int curLen = sequence.Length;
        if (curLen + 1 < n)
        {
            return;
        }

        // The n-gram being completed now starts with the last n-1 tokens; every earlier occurrence of that prefix bans
        // the token that followed it.
        var prefix = sequence.Slice(curLen - (n - 1), n - 1);
        for (int start = 0; start + n <= curLen; start++)
        {
            if (sequence.Slice(start, n - 1).SequenceEqual(prefix))
            {
                Add(destination, ref count, sequence[start + n - 1], TokenEditKind.Ban);
            }
        }
    }
}
