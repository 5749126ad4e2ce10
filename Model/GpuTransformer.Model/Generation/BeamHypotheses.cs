using GpuTransformer.Model.Configuration;

namespace GpuTransformer.Model.Generation;

/// <summary>
/// The finished hypotheses of one input in beam search, with HF's <c>BeamHypotheses</c> rules: a length-normalised
/// score, the worst one evicted once there are more than num_beams, and the three early-stopping modes.
/// </summary>
internal sealed class BeamHypotheses(int numBeams, float lengthPenalty, EarlyStoppingMode earlyStopping, int maxLength)
{
    private readonly List<(double Score, int[] Tokens, bool EndsWithEos)> beams = new(numBeams + 1);
    private double worstScore = 1e9;

    public int Count => beams.Count;

    /// <summary>Adds a hypothesis; <paramref name="tokens"/> excludes the EOS when <paramref name="endsWithEos"/> is set.</summary>
    public void Add(int[] tokens, float sumLogProbs, int generatedLength, bool endsWithEos)
    {
        double score = sumLogProbs / Math.Pow(generatedLength, lengthPenalty);
        if (beams.Count < numBeams || score > worstScore)
        {
            beams.Add((score, tokens, endsWithEos));
            if (beams.Count > numBeams)
            {
                int worst = 0;
                double second = double.PositiveInfinity;
                for (int i = 1; i < beams.Count; i++)
                {
                    if (beams[i].Score < beams[worst].Score)
                    {
                        worst = i;
                    }
                }

                for (int i = 0; i < beams.Count; i++)
                {
                    if (i != worst && beams[i].Score < second)
                    {
                        second = beams[i].Score;
                    }
                }

                beams.RemoveAt(worst);
                worstScore = second;
            }
            else
            {
                worstScore = Math.Min(score, worstScore);
            }
        }
    }

    /// <summary>Whether no running beam can beat the finished ones any more.</summary>
    /// <param name="bestSumLogProbs">The best candidate score of this step.</param>
    /// <param name="currentLength">Decoder length the candidates reach, start token included.</param>
    public bool IsDone(float bestSumLogProbs, int currentLength)
    {
        const int promptLength = 1;
        if (beams.Count < numBeams)
        {
            return false;
        }

        switch (earlyStopping)
        {
            case EarlyStoppingMode.True:
                return true;
            case EarlyStoppingMode.False:
                return worstScore >= bestSumLogProbs / Math.Pow(currentLength - promptLength, lengthPenalty);
            default:
                int length = lengthPenalty > 0 ? maxLength - promptLength : currentLength - promptLength;
                return worstScore >= bestSumLogProbs / Math.Pow(length, lengthPenalty);
        }
    }

    /// <summary>The hypotheses best first; among equal scores the later-added first, as Python's stable sort and pop give.</summary>
    public IEnumerable<(double Score, int[] Tokens, bool EndsWithEos)> BestFirst()
    {
        var order = Enumerable.Range(0, beams.Count).OrderBy(i => beams[i].Score).ToArray();
        for (int i = order.Length - 1; i >= 0; i--)
        {
            yield return beams[order[i]];
        }
    }
}
