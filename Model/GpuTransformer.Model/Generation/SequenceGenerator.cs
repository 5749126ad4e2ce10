using GpuTransformer.Model.Architectures;
using GpuTransformer.Model.Configuration;

namespace GpuTransformer.Model.Generation;

/// <summary>
/// Greedy and beam search over a <see cref="EncoderDecoderModel"/> with the semantics of HF transformers 4.43
/// <c>_greedy_search</c> / <c>_beam_search</c> and <c>BeamSearchScorer</c>. The model and the per-row choice of
/// candidates run on the model's accelerator; the search keeps only the sequences and the K best candidates of
/// each row on the host. Buffers are sized once per call, so the per-token loop allocates only the tokens it keeps.
/// </summary>
internal sealed class SequenceGenerator(EncoderDecoderModel model)
{
    /// <summary>Generates for every sequence of <paramref name="encoder"/>.</summary>
    /// <returns>For each input, its hypotheses best first.</returns>
    public GeneratedHypothesis[][] Generate(EncoderOutput encoder, GenerationSettings settings, CancellationToken cancellationToken) =>
        settings.NumBeams == 1 ? Greedy(encoder, settings, cancellationToken) : Beam(encoder, settings, cancellationToken);

    private GeneratedHypothesis[][] Greedy(EncoderOutput encoder, GenerationSettings settings, CancellationToken cancellationToken)
    {
        int rows = encoder.Batch, maxLength = settings.MaxLength;
        using var state = model.CreateDecoderState(encoder, 1, maxLength);
        using var selector = new StepSelector(model.Accelerator, settings, rows, model.TargetVocabSize, k: 1, logSoftmaxFirst: false);
        var sequences = new int[rows * maxLength];
        var tokens = new int[rows];
        var scores = new float[rows];
        var unfinished = new bool[rows];
        Array.Fill(unfinished, true);
        for (int r = 0; r < rows; r++)
        {
            sequences[r * maxLength] = settings.DecoderStartTokenId;
        }

        int length = 1;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            for (int r = 0; r < rows; r++)
            {
                tokens[r] = sequences[r * maxLength + length - 1];
            }

            model.Decode(state, tokens, 1);
            selector.Select(state.Logits, sequences, maxLength, length, default);
            bool anyUnfinished = false;
            for (int r = 0; r < rows; r++)
            {
                int next = selector.Ids[r];
                if (unfinished[r])
                {
                    scores[r] += selector.Scores[r] - selector.LogSumExp[r];
                    unfinished[r] = !settings.EosTokenIds.Contains(next);
                }
                else
                {
                    next = settings.PadTokenId;
                }

                sequences[r * maxLength + length] = next;
                anyUnfinished |= unfinished[r];
            }

            length++;
            if (!anyUnfinished || length >= maxLength)
            {
                break;
            }
        }

        var result = new GeneratedHypothesis[rows][];
        for (int r = 0; r < rows; r++)
        {
            result[r] = [new GeneratedHypothesis(TrimAfterEos(sequences.AsSpan(r * maxLength, length), settings), scores[r])];
        }

        return result;
    }

    private GeneratedHypothesis[][] Beam(EncoderOutput encoder, GenerationSettings settings, CancellationToken cancellationToken)
    {
        int batch = encoder.Batch, beams = settings.NumBeams, rows = batch * beams;
        int vocab = model.TargetVocabSize, maxLength = settings.MaxLength;
        int keep = Math.Max(2, 1 + settings.EosTokenIds.Length) * beams;
        using var state = model.CreateDecoderState(encoder, beams, maxLength);
        using var selector = new StepSelector(model.Accelerator, settings, rows, vocab, Math.Min(keep, vocab), logSoftmaxFirst: true);
        int k = Math.Min(keep, beams * vocab);
        var sequences = new int[rows * maxLength];
        var nextSequences = new int[rows * maxLength];
        var tokens = new int[rows];
        var sourceRows = new int[rows];
        var beamScores = new float[rows];
        var nextScores = new float[rows];
        var candidateScores = new float[k];
        var candidateIndices = new int[k];
        var heads = new int[beams];
        var done = new bool[batch];
        var hypotheses = new BeamHypotheses[batch];
        for (int b = 0; b < batch; b++)
        {
            hypotheses[b] = new BeamHypotheses(beams, settings.LengthPenalty, settings.EarlyStopping, maxLength);
            for (int j = 1; j < beams; j++)
            {
                beamScores[b * beams + j] = -1e9f;
            }
        }

        for (int r = 0; r < rows; r++)
        {
            sequences[r * maxLength] = settings.DecoderStartTokenId;
        }

        int length = 1;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            for (int r = 0; r < rows; r++)
            {
                tokens[r] = sequences[r * maxLength + length - 1];
            }

            model.Decode(state, tokens, 1);
            selector.Select(state.Logits, sequences, maxLength, length, beamScores);
            for (int b = 0; b < batch; b++)
            {
                if (done[b])
                {
                    for (int j = 0; j < beams; j++)
                    {
                        nextScores[b * beams + j] = 0;
                        tokens[b * beams + j] = settings.PadTokenId;
                        sourceRows[b * beams + j] = b * beams;
                    }

                    continue;
                }

                MergeBeams(selector, b, beams, vocab, heads, candidateScores, candidateIndices);
                int filled = 0;
                for (int rank = 0; rank < k && filled < beams; rank++)
                {
                    int beam = candidateIndices[rank] / vocab, token = candidateIndices[rank] % vocab;
                    int source = b * beams + beam;
                    if (settings.EosTokenIds.Contains(token))
                    {
                        if (rank >= beams)
                        {
                            continue;
                        }

                        hypotheses[b].Add(sequences.AsSpan(source * maxLength, length).ToArray(), candidateScores[rank], length, endsWithEos: true);
                    }
                    else
                    {
                        int target = b * beams + filled;
                        nextScores[target] = candidateScores[rank];
                        tokens[target] = token;
                        sourceRows[target] = source;
                        filled++;
                    }
                }

                done[b] = hypotheses[b].IsDone(candidateScores[0], length + 1);
            }

            for (int r = 0; r < rows; r++)
            {
                sequences.AsSpan(sourceRows[r] * maxLength, length).CopyTo(nextSequences.AsSpan(r * maxLength));
                nextSequences[r * maxLength + length] = tokens[r];
            }

            (sequences, nextSequences) = (nextSequences, sequences);
            (beamScores, nextScores) = (nextScores, beamScores);
            model.ReorderCache(state, sourceRows);
            length++;
            if (Array.IndexOf(done, false) < 0 || length >= maxLength || AllEndWithEos(tokens, settings))
            {
                break;
            }
        }

        var result = new GeneratedHypothesis[batch][];
        for (int b = 0; b < batch; b++)
        {
            if (!done[b])
            {
                for (int j = 0; j < beams; j++)
                {
                    int r = b * beams + j;
                    hypotheses[b].Add(sequences.AsSpan(r * maxLength, length).ToArray(), beamScores[r], length - 1, endsWithEos: false);
                }
            }

            result[b] = hypotheses[b].BestFirst().Take(settings.NumReturnSequences)
                .Select(h => new GeneratedHypothesis(h.EndsWithEos && h.Tokens.Length < maxLength ? [.. h.Tokens, settings.EosTokenIds[0]] : h.Tokens, (float)h.Score))
                .ToArray();
        }

        return result;
    }

    /// <summary>
    /// The K best candidates of batch entry <paramref name="b"/> over all its beams, as HF's <c>topk</c> over the
    /// flattened [beams × vocab] scores: by score, equal scores by lower flattened index. Each beam's own K best are
    /// enough, since the K best overall include at most K of any one beam.
    /// </summary>
    private static void MergeBeams(StepSelector selector, int b, int beams, int vocab, Span<int> heads, Span<float> scores, Span<int> indices)
    {
        int k = selector.K;
        heads.Clear();
        for (int rank = 0; rank < scores.Length; rank++)
        {
            int best = -1;
            float bestScore = 0;
            int bestIndex = 0;
            for (int j = 0; j < beams; j++)
            {
                if (heads[j] >= k)
                {
                    continue;
                }

                int at = (b * beams + j) * k + heads[j];
                float s = selector.Scores[at];
                int index = j * vocab + selector.Ids[at];
                if (best < 0 || s > bestScore || (s == bestScore && index < bestIndex))
                {
                    best = j;
                    bestScore = s;
                    bestIndex = index;
                }
            }

            scores[rank] = bestScore;
            indices[rank] = bestIndex;
            heads[best]++;
        }
    }

    private static bool AllEndWithEos(int[] lastTokens, GenerationSettings settings)
    {
        foreach (int token in lastTokens)
        {
            if (!settings.EosTokenIds.Contains(token))
            {
                return false;
            }
        }

        return true;
    }

    private static int[] TrimAfterEos(ReadOnlySpan<int> sequence, GenerationSettings settings)
    {
        for (int i = 1; i < sequence.Length; i++)
        {
            if (settings.EosTokenIds.Contains(sequence[i]))
            {
                return sequence[..(i + 1)].ToArray();
            }
        }

        return sequence.ToArray();
    }
}
