namespace GpuTransformer.Model.Generation;

/// <summary>
/// HF's logits processors, applied to one row's scores in the order <c>_get_logits_processor</c> of transformers 4.43
/// builds them: repetition penalty, no-repeat n-gram, bad words, min length, forced BOS, forced EOS.
/// </summary>
internal static class LogitsProcessing
{
    /// <summary>Processes <paramref name="scores"/> in place.</summary>
    /// <param name="settings">The resolved generation settings.</param>
    /// <param name="sequence">The row's decoder sequence so far, decoder start token included.</param>
    /// <param name="scores">The row's scores over the target vocabulary.</param>
    public static void Apply(GenerationSettings settings, ReadOnlySpan<int> sequence, Span<float> scores)
    {
        int curLen = sequence.Length;
        if (settings.RepetitionPenalty != 1f)
        {
            float penalty = settings.RepetitionPenalty;
            for (int i = 0; i < curLen; i++)
            {
                // HF gathers the original scores of all tokens first, so a repeated token is penalised once.
                int token = sequence[i];
                if (sequence[..i].IndexOf(token) < 0)
                {
                    float s = scores[token];
                    scores[token] = s < 0 ? s * penalty : s / penalty;
                }
            }
        }

        if (settings.NoRepeatNgramSize > 0)
        {
            BanRepeatedNgrams(settings.NoRepeatNgramSize, sequence, scores);
        }

        foreach (int[] bad in settings.BadWordsIds)
        {
            if (bad.Length == 1 || sequence.EndsWith(bad.AsSpan(0, bad.Length - 1)))
            {
                scores[bad[^1]] = float.NegativeInfinity;
            }
        }

        if (curLen < settings.MinLength)
        {
            foreach (int eos in settings.EosTokenIds)
            {
                scores[eos] = float.NegativeInfinity;
            }
        }

        if (settings.ForcedBosTokenId is int bos && curLen == 1)
        {
            ForceToken(scores, bos);
        }

        if (settings.ForcedEosTokenIds.Length > 0 && curLen == settings.MaxLength - 1)
        {
            scores.Fill(float.NegativeInfinity);
            foreach (int eos in settings.ForcedEosTokenIds)
            {
                scores[eos] = 0f;
            }
        }
    }

    private static void ForceToken(Span<float> scores, int token)
    {
        scores.Fill(float.NegativeInfinity);
        scores[token] = 0f;
    }

    private static void BanRepeatedNgrams(int n, ReadOnlySpan<int> sequence, Span<float> scores)
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
                scores[sequence[start + n - 1]] = float.NegativeInfinity;
            }
        }
    }
}
