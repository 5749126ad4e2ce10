using GpuTransformer.Kernels.Cpu;
using GpuTransformer.Model.Architectures;

using GpuTransformer.Model.Configuration;

namespace GpuTransformer.Model.Generation;

/// <summary>
/// Greedy and beam search over a <see cref="EncoderDecoderModel"/> with the semantics of HF transformers 4.43
/// <c>_greedy_search</c> / <c>_beam_search</c> and <c>BeamSearchScorer</c>. Buffers are sized once per call, so the
/// per-token loop allocates only the tokens it keeps.
/// </summary>
internal sealed class SequenceGenerator(EncoderDecoderModel model)
{
    /// <summary>Generates for every sequence of <paramref name="encoder"/>.</summary>
    /// <returns>For each input, its hypotheses best first.</returns>
    public GeneratedHypothesis[][] Generate(EncoderOutput encoder, GenerationSettings settings, CancellationToken cancellationToken) =>
        settings.NumBeams == 1 ? Greedy(encoder, settings, cancellationToken) : Beam(encoder, settings, cancellationToken);

    private GeneratedHypothesis[][] Greedy(EncoderOutput encoder, GenerationSettings settings, CancellationToken cancellationToken)
    {
        int rows = encoder.Batch, vocab = model.TargetVocabSize, maxLength = settings.MaxLength;
        var state = model.CreateDecoderState(encoder, 1, maxLength);
        var sequences = new int[rows * maxLength];
        var tokens = new int[rows];
        var logits = new float[rows * vocab];
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

            model.Decode(state, tokens, 1, logits);
            bool anyUnfinished = false;
            for (int r = 0; r < rows; r++)
            {
                var row = logits.AsSpan(r * vocab, vocab);
                LogitsProcessing.Apply(settings, sequences.AsSpan(r * maxLength, length), row);
                int next = ArgMax(row);
                if (unfinished[r])
                {
                    scores[r] += row[next] - LogSumExp(row);
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
        var state = model.CreateDecoderState(encoder, beams, maxLength);
        var sequences = new int[rows * maxLength];
        var nextSequences = new int[rows * maxLength];
        var tokens = new int[rows];
        var sourceRows = new int[rows];
        var logits = new float[rows * vocab];
        var beamScores = new float[rows];
        var nextScores = new float[rows];
        var candidateScores = new float[keep];
        var candidateIndices = new int[keep];
        var done = new bool[batch];
        var hypotheses = new BeamHypotheses[batch];
        for (int b = 0; b < batch; b++)
        {
            hypotheses[b] = new BeamHypotheses(beams, settings.LengthPenalty, settings.EarlyStopping, maxLength);
            for (int k = 1; k < beams; k++)
            {
                beamScores[b * beams + k] = -1e9f;
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

            model.Decode(state, tokens, 1, logits);
            for (int r = 0; r < rows; r++)
            {
                var row = logits.AsSpan(r * vocab, vocab);
                CpuSoftmax.LogSoftmax(row, row);
                LogitsProcessing.Apply(settings, sequences.AsSpan(r * maxLength, length), row);
                float beamScore = beamScores[r];
                for (int t = 0; t < vocab; t++)
                {
                    row[t] += beamScore;
                }
            }

            for (int b = 0; b < batch; b++)
            {
                if (done[b])
                {
                    for (int k = 0; k < beams; k++)
                    {
                        nextScores[b * beams + k] = 0;
                        tokens[b * beams + k] = settings.PadTokenId;
                        sourceRows[b * beams + k] = b * beams;
                    }

                    continue;
                }

                TopK(logits.AsSpan(b * beams * vocab, beams * vocab), candidateScores, candidateIndices);
                int filled = 0;
                for (int rank = 0; rank < keep && filled < beams; rank++)
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
                for (int k = 0; k < beams; k++)
                {
                    int r = b * beams + k;
                    hypotheses[b].Add(sequences.AsSpan(r * maxLength, length).ToArray(), beamScores[r], length - 1, endsWithEos: false);
                }
            }

            result[b] = hypotheses[b].BestFirst().Take(settings.NumReturnSequences)
                .Select(h => new GeneratedHypothesis(h.EndsWithEos && h.Tokens.Length < maxLength ? [.. h.Tokens, settings.EosTokenIds[0]] : h.Tokens, (float)h.Score))
                .ToArray();
        }

        return result;
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

    private static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int i = 1; i < row.Length; i++)
        {
            if (row[i] > row[best])
            {
                best = i;
            }
        }

        return best;
    }

    private static float LogSumExp(ReadOnlySpan<float> row)
    {
        float max = float.NegativeInfinity;
        foreach (float v in row)
        {
            max = MathF.Max(max, v);
        }

        double sum = 0;
        foreach (float v in row)
        {
            sum += MathF.Exp(v - max);
        }

        return max + (float)Math.Log(sum);
    }

    /// <summary>The <paramref name="scores"/>.Length best entries, best first; equal scores keep the lower index first.</summary>
    private static void TopK(ReadOnlySpan<float> values, Span<float> scores, Span<int> indices)
    {
        int k = scores.Length, count = 0;
        for (int i = 0; i < values.Length; i++)
        {
            float v = values[i];
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
}
